// codec::json_depth_within: the nesting bound every JSON codec checks before parsing.
#include "codec/json/depth.hpp"

#include <gtest/gtest.h>

namespace livehouse::codec {
namespace {

TEST(JsonDepth, CountsObjectsAndArraysButNotBracketsInStrings) {
    EXPECT_TRUE(json_depth_within(R"({"a":[1]})", 2));
    EXPECT_FALSE(json_depth_within(R"({"a":[[1]]})", 2));
    EXPECT_TRUE(json_depth_within(R"({"a":"[[[[\"[["})", 1));
    // Unmatched closers first do not make room for deeper nesting after them.
    EXPECT_FALSE(json_depth_within("]]]][[[", 2));
}

} // namespace
} // namespace livehouse::codec
