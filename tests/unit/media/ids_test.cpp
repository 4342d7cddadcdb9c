#include "media/ids.hpp"

#include <gtest/gtest.h>
#include <set>

namespace livehouse::media {
namespace {

TEST(ids, broadcast_ids_are_12_lowercase_base32_characters_and_unique) {
    std::set<std::string> seen;
    for (int i = 0; i < 2000; ++i) {
        const auto id = make_broadcast_id();
        ASSERT_EQ(id.size(), 12U);
        for (char c : id) {
            ASSERT_TRUE((c >= 'a' && c <= 'z') || (c >= '2' && c <= '7')) << id;
        }
        EXPECT_TRUE(is_valid_broadcast_id(id));
        EXPECT_TRUE(seen.insert(id).second) << "duplicate " << id;
    }
}

TEST(ids, stream_keys_are_live_plus_32_hex_and_unique) {
    std::set<std::string> seen;
    for (int i = 0; i < 2000; ++i) {
        const auto key = make_stream_key();
        ASSERT_EQ(key.size(), 37U);
        ASSERT_EQ(key.substr(0, 5), "live_");
        for (char c : key.substr(5)) {
            ASSERT_TRUE((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) << key;
        }
        EXPECT_TRUE(seen.insert(key).second);
    }
}

TEST(ids, valid_ids_are_safe_path_components) {
    EXPECT_TRUE(is_valid_broadcast_id("abc12x"));
    EXPECT_FALSE(is_valid_broadcast_id("abc-12_x"));
    EXPECT_FALSE(is_valid_broadcast_id(""));
    EXPECT_FALSE(is_valid_broadcast_id(".."));
    EXPECT_FALSE(is_valid_broadcast_id("a/b"));
    EXPECT_FALSE(is_valid_broadcast_id("ABC"));
    EXPECT_FALSE(is_valid_broadcast_id(std::string("a\0b", 3)));
    EXPECT_FALSE(is_valid_broadcast_id(std::string(65, 'a')));
    EXPECT_TRUE(is_valid_broadcast_id(std::string(64, 'a')));
}

TEST(ids, constant_time_equal) {
    EXPECT_TRUE(constant_time_equal("live_abc", "live_abc"));
    EXPECT_FALSE(constant_time_equal("live_abc", "live_abd"));
    EXPECT_FALSE(constant_time_equal("live_abc", "live_ab"));
    EXPECT_TRUE(constant_time_equal("", ""));
}

} // namespace
} // namespace livehouse::media
