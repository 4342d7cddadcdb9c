// codec::love journal records: what is encoded decodes to the same records, and any damage
// (a cut, a stray byte, an unknown version, a count larger than the bytes) is an error.
#include "codec/love/love_journal.hpp"

#include <gtest/gtest.h>
#include <string>

namespace livehouse::codec::love {
namespace {

std::vector<counted_batch> sample_batches() {
    return {{"ann", "a1", 5, {{0, 2}, {7, 3}}},
            {"bob", "b1", 0},
            {std::string("\xe3\x81\x82", 3), std::string(300, 'x'), 1'000'000, {{604800, 1}}}};
}

journal_state sample_state() {
    journal_state s;
    s.total = 123456789012LL;
    s.timeline = {{0, 4}, {1, 1}, {3600, 99}};
    s.users = {{"ann", 9, {"a1", "a2"}}, {"zero", 0, {"z"}}, {"bob", 3, {}}};
    return s;
}

TEST(LoveJournal, BatchesRoundTrip) {
    const auto in = sample_batches();
    auto out = decode_batches(encode_batches(in));
    ASSERT_TRUE(out) << out.err().message;
    EXPECT_EQ(*out, in);
    auto none = decode_batches(encode_batches({}));
    ASSERT_TRUE(none);
    EXPECT_TRUE(none->empty());
}

TEST(LoveJournal, StateRoundTrips) {
    const auto in = sample_state();
    auto out = decode_state(encode_state(in));
    ASSERT_TRUE(out) << out.err().message;
    EXPECT_EQ(*out, in);
    auto empty = decode_state(encode_state({}));
    ASSERT_TRUE(empty);
    EXPECT_EQ(*empty, journal_state{});
}

TEST(LoveJournal, EveryCutAndAStrayByteAreDamage) {
    for (const auto& bytes : {encode_batches(sample_batches()), encode_state(sample_state())}) {
        const bool is_state = bytes == encode_state(sample_state());
        for (std::size_t n = 0; n < bytes.size(); ++n) {
            const auto cut = std::string_view(bytes).substr(0, n);
            const bool ok = is_state ? bool(decode_state(cut)) : bool(decode_batches(cut));
            EXPECT_FALSE(ok) << "cut at " << n << " of " << bytes.size();
        }
        const auto longer = bytes + '\0';
        EXPECT_FALSE(is_state ? bool(decode_state(longer)) : bool(decode_batches(longer)));
    }
}

TEST(LoveJournal, AnUnknownVersionOrAnImpossibleCountIsRefused) {
    auto bytes = encode_batches(sample_batches());
    bytes[0] = 9;
    auto r = decode_batches(bytes);
    ASSERT_FALSE(r);
    EXPECT_NE(r.err().message.find("version"), std::string::npos) << r.err().message;
    // Version 1, then a count of 0xffffffff batches in 4 bytes: refused before any reserve.
    const std::string huge("\x01\xff\xff\xff\xff", 5);
    EXPECT_FALSE(decode_batches(huge));
    std::string state_huge("\x01", 1);
    state_huge += std::string(8, '\0') + std::string("\xff\xff\xff\x7f", 4);
    EXPECT_FALSE(decode_state(state_huge));
}

} // namespace
} // namespace livehouse::codec::love
