#include "codec/rtmp/handshake.hpp"
#include "rtmp_test_util.hpp"

#include <array>
#include <cstring>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <random>

namespace livehouse::codec::rtmp {
namespace {

using bytes = std::vector<std::uint8_t>;

// The test computes digests itself (not through handshake.cpp), from the keys as text.
const std::string fp_text = "Genuine Adobe Flash Player 001";
const std::string fms_text = "Genuine Adobe Flash Media Server 001";
const std::array<std::uint8_t, 32> key_suffix = {
    0xF0, 0xEE, 0xC2, 0x4A, 0x80, 0x68, 0xBE, 0xE8, 0x2E, 0x00, 0xD0, 0xD1, 0x02, 0x9E, 0x7E, 0x57,
    0x6E, 0xEC, 0x5D, 0x2D, 0x29, 0x80, 0x6F, 0xAB, 0x93, 0xB8, 0xE6, 0x36, 0xCF, 0xEB, 0x31, 0xAE};

bytes hmac(const bytes& key, const bytes& data) {
    bytes out(32);
    unsigned len = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), data.data(), data.size(),
         out.data(), &len);
    return out;
}
bytes to_bytes(std::string_view s) {
    return {s.begin(), s.end()};
}
bytes with_suffix(std::string_view text) {
    bytes k = to_bytes(text);
    k.insert(k.end(), key_suffix.begin(), key_suffix.end());
    return k;
}

std::size_t offset_of(const std::uint8_t* p, int scheme) {
    const std::size_t base = scheme == 0 ? 8 : 772;
    return (p[base] + p[base + 1] + p[base + 2] + p[base + 3]) % 728 + base + 4;
}
bytes digest_at(const std::uint8_t* p, std::size_t off, const bytes& key) {
    bytes joined(p, p + off);
    joined.insert(joined.end(), p + off + 32, p + 1536);
    return hmac(key, joined);
}
bool has_digest(const std::uint8_t* p, int scheme, const bytes& key) {
    const auto off = offset_of(p, scheme);
    return digest_at(p, off, key) == bytes(p + off, p + off + 32);
}

bytes random_bytes(std::size_t n, unsigned seed) {
    std::mt19937 gen(seed);
    bytes b(n);
    for (auto& x : b) {
        x = static_cast<std::uint8_t>(gen());
    }
    return b;
}

/// C0 + a C1 whose bytes 4..7 are `version` and, if scheme >= 0, with a valid FP9 digest.
bytes make_c0c1(std::uint32_t version, int scheme, unsigned seed = 1) {
    bytes c = random_bytes(1 + 1536, seed);
    c[0] = 3;
    std::uint8_t* c1 = c.data() + 1;
    std::memset(c1, 0, 4); // time 0
    c1[4] = static_cast<std::uint8_t>(version >> 24U);
    c1[5] = static_cast<std::uint8_t>(version >> 16U);
    c1[6] = static_cast<std::uint8_t>(version >> 8U);
    c1[7] = static_cast<std::uint8_t>(version);
    if (scheme >= 0) {
        const auto off = offset_of(c1, scheme);
        const auto d = digest_at(c1, off, to_bytes(fp_text));
        std::memcpy(c1 + off, d.data(), 32);
    }
    return c;
}

core::bytes_view view(const bytes& b) {
    return {b.data(), b.size()};
}

TEST(Handshake, PlainEchoesC1) {
    const bytes c0c1 = make_c0c1(0, -1);
    server_handshake hs(1234);
    // Nothing happens until all of C0+C1 is there.
    for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{1536}}) {
        auto r = hs.feed(view(c0c1).first(n));
        EXPECT_EQ(r.state, core::parse_state::need_more);
        EXPECT_EQ(r.consumed, 0U);
    }
    auto r = hs.feed(view(c0c1));
    ASSERT_EQ(r.state, core::parse_state::ok);
    EXPECT_EQ(r.consumed, 1537U);
    EXPECT_EQ(hs.kind(), handshake_kind::plain);
    EXPECT_EQ(hs.state(), server_handshake::phase::c2);

    const auto out = core::as_bytes(hs.output());
    ASSERT_EQ(out.size(), 1U + 2 * 1536);
    EXPECT_EQ(out[0], 3); // S0
    const std::uint8_t* s1 = out.data() + 1;
    const std::uint8_t* s2 = s1 + 1536;
    EXPECT_EQ(bytes(s1, s1 + 4), (bytes{0, 0, 0x04, 0xD2})); // time = epoch 1234
    EXPECT_EQ(bytes(s1 + 4, s1 + 8), (bytes{0, 0, 0, 0}));   // §5.2.3 zero
    // §5.2.3 S2: time = C1 time, time2 = when C1 was read, then C1's random echoed.
    EXPECT_EQ(bytes(s2, s2 + 4), bytes(c0c1.begin() + 1, c0c1.begin() + 5));
    EXPECT_EQ(bytes(s2 + 4, s2 + 8), (bytes{0, 0, 0x04, 0xD2}));
    EXPECT_EQ(bytes(s2 + 8, s2 + 1536), bytes(c0c1.begin() + 9, c0c1.end()));

    // C2 then the chunk stream: only C2 is consumed.
    bytes c2_and_more = random_bytes(1536 + 10, 7);
    EXPECT_EQ(hs.feed(view(c2_and_more).first(1535)).state, core::parse_state::need_more);
    r = hs.feed(view(c2_and_more));
    EXPECT_EQ(r.state, core::parse_state::ok);
    EXPECT_EQ(r.consumed, 1536U);
    EXPECT_TRUE(hs.done());
    EXPECT_EQ(hs.feed(view(c2_and_more)).consumed, 0U);
}

void expect_digest_answer(int scheme) {
    const bytes c0c1 = make_c0c1(0x80000702, scheme, 11 + static_cast<unsigned>(scheme));
    ASSERT_TRUE(has_digest(c0c1.data() + 1, scheme, to_bytes(fp_text)));
    server_handshake hs;
    ASSERT_EQ(hs.feed(view(c0c1)).state, core::parse_state::ok);
    EXPECT_EQ(hs.kind(), handshake_kind::digest);
    ASSERT_TRUE(hs.scheme().has_value());
    EXPECT_EQ(*hs.scheme(), scheme == 0 ? digest_scheme::scheme0 : digest_scheme::scheme1);
    EXPECT_EQ(hs.client_version(), 0x80000702U);

    const auto out = core::as_bytes(hs.output());
    ASSERT_EQ(out.size(), 3073U);
    const std::uint8_t* s1 = out.data() + 1;
    const std::uint8_t* s2 = s1 + 1536;
    // S1: a non-zero version and our digest at the client's scheme, FMS text key.
    EXPECT_NE(bytes(s1 + 4, s1 + 8), (bytes{0, 0, 0, 0}));
    EXPECT_TRUE(has_digest(s1, scheme, to_bytes(fms_text)));
    EXPECT_FALSE(has_digest(s1, scheme, to_bytes(fp_text)));
    // S2: last 32 bytes = HMAC(HMAC(FMS key + suffix, C1 digest), S2[0..1504)).
    const std::uint8_t* c1 = c0c1.data() + 1;
    const auto c1_off = offset_of(c1, scheme);
    const bytes key = hmac(with_suffix(fms_text), bytes(c1 + c1_off, c1 + c1_off + 32));
    EXPECT_EQ(hmac(key, bytes(s2, s2 + 1504)), bytes(s2 + 1504, s2 + 1536));
    // Not an echo of C1.
    EXPECT_NE(bytes(s2 + 8, s2 + 1536), bytes(c1 + 8, c1 + 1536));
}

TEST(Handshake, DigestScheme0) {
    expect_digest_answer(0);
}
TEST(Handshake, DigestScheme1) {
    expect_digest_answer(1);
}

TEST(Handshake, InvalidDigestFallsBackToPlain) {
    bytes c0c1 = make_c0c1(0x09007c02, 1);
    c0c1[1 + offset_of(c0c1.data() + 1, 1)] ^= 0xFF; // break the digest
    server_handshake hs;
    ASSERT_EQ(hs.feed(view(c0c1)).state, core::parse_state::ok);
    EXPECT_EQ(hs.kind(), handshake_kind::plain);
    EXPECT_FALSE(hs.scheme().has_value());
    const auto out = core::as_bytes(hs.output());
    EXPECT_EQ(bytes(out.data() + 1537 + 8, out.data() + 3073), bytes(c0c1.begin() + 9, c0c1.end()));
}

TEST(Handshake, EachConnectionGetsFreshRandom) {
    const bytes c0c1 = make_c0c1(0, -1);
    server_handshake a;
    server_handshake b;
    ASSERT_EQ(a.feed(view(c0c1)).state, core::parse_state::ok);
    ASSERT_EQ(b.feed(view(c0c1)).state, core::parse_state::ok);
    EXPECT_NE(a.output().substr(9, 1528), b.output().substr(9, 1528));
}

TEST(Handshake, RefusesWhatIsNotRtmp) {
    {
        server_handshake hs; // an HTTP request: refused on its first byte
        auto r = hs.feed(core::as_bytes("GET / HTTP/1.1\r\n"));
        EXPECT_EQ(r.state, core::parse_state::error);
        EXPECT_NE(r.error.find("not RTMP"), std::string::npos) << r.error;
    }
    for (std::uint8_t v : {std::uint8_t{6}, std::uint8_t{8}}) {
        bytes c0c1 = make_c0c1(0, -1);
        c0c1[0] = v;
        server_handshake hs;
        auto r = hs.feed(view(c0c1));
        EXPECT_EQ(r.state, core::parse_state::error);
        EXPECT_NE(r.error.find("RTMPE"), std::string::npos) << r.error;
    }
    // A reserved version (4..31) is answered with 3 (§5.2.2 SHOULD).
    bytes c0c1 = make_c0c1(0, -1);
    c0c1[0] = 4;
    server_handshake hs;
    ASSERT_EQ(hs.feed(view(c0c1)).state, core::parse_state::ok);
    EXPECT_EQ(hs.output()[0], 3);
}

// Cross-checks against two real implementations: ffmpeg's C1 and nginx-rtmp's S1/S2, captured in
// tests/data/rtmp. If our keys or offsets were wrong these would not validate.
TEST(Handshake, CapturedFfmpegC1AndNginxS1Validate) {
    const std::string& c2s = test::captured_c2s();
    const std::string& s2c = test::captured_s2c();
    ASSERT_GT(c2s.size(), 3073U);
    ASSERT_GT(s2c.size(), 3073U);
    const auto c1 = core::as_bytes(c2s).subspan(1, 1536);
    const auto s1 = core::as_bytes(s2c).subspan(1, 1536);
    const auto s2 = core::as_bytes(s2c).subspan(1537, 1536);

    const auto client_scheme = find_client_digest(c1);
    ASSERT_TRUE(client_scheme.has_value());
    EXPECT_FALSE(find_server_digest(c1).has_value());
    const auto server_scheme = find_server_digest(s1);
    ASSERT_TRUE(server_scheme.has_value());

    // nginx signed its S2 with the key derived from ffmpeg's C1 digest, as we do.
    const auto c1_off = digest_offset(c1, *client_scheme);
    const bytes key =
        hmac(with_suffix(fms_text), bytes(c1.data() + c1_off, c1.data() + c1_off + 32));
    EXPECT_EQ(hmac(key, bytes(s2.data(), s2.data() + 1504)),
              bytes(s2.data() + 1504, s2.data() + 1536));

    // And our server answers ffmpeg's C1 the digest way.
    server_handshake hs;
    ASSERT_EQ(hs.feed(core::as_bytes(c2s)).state, core::parse_state::ok);
    EXPECT_EQ(hs.kind(), handshake_kind::digest);
    EXPECT_EQ(hs.scheme(), client_scheme);
    ASSERT_EQ(hs.feed(core::as_bytes(c2s).subspan(1537)).consumed, 1536U);
    EXPECT_TRUE(hs.done());
}

TEST(Handshake, KeysAreTheKnownText) {
    EXPECT_EQ(core::as_chars(flash_player_key(false)), fp_text);
    EXPECT_EQ(core::as_chars(flash_media_server_key(false)), fms_text);
    EXPECT_EQ(bytes(flash_player_key(true).begin(), flash_player_key(true).end()),
              with_suffix(fp_text));
    EXPECT_EQ(bytes(flash_media_server_key(true).begin(), flash_media_server_key(true).end()),
              with_suffix(fms_text));
}

} // namespace
} // namespace livehouse::codec::rtmp
