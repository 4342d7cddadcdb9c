// HTTP field syntax helpers (RFC 9110 §5.6): case-insensitive tokens, OWS, #token lists.
#include "codec/http/field_value.hpp"

#include <gtest/gtest.h>
#include <vector>

namespace livehouse::codec::http {
namespace {

TEST(FieldValue, IequalsFoldsAsciiLettersOnly) {
    EXPECT_TRUE(iequals("Keep-Alive", "keep-alive"));
    EXPECT_FALSE(iequals("close", "closed"));
    // Folding by OR-ing 0x20 would make these equal; they are different characters.
    EXPECT_FALSE(iequals("@", "`"));
    EXPECT_FALSE(iequals("[", "{"));
}

TEST(FieldValue, TrimsOnlySpaceAndTab) {
    EXPECT_EQ(trim_ows(" \t value \t"), "value");
    EXPECT_EQ(trim_ows("\r\nvalue"), "\r\nvalue");
    EXPECT_EQ(trim_ows("   "), "");
}

TEST(FieldValue, ListsTokenFindsAnElementInAnyCase) {
    EXPECT_TRUE(lists_token("keep-alive, Upgrade", "upgrade"));
    EXPECT_TRUE(lists_token("gzip,\tchunked", "chunked"));
    EXPECT_FALSE(lists_token("upgrades", "upgrade"));
    EXPECT_FALSE(lists_token("", "upgrade"));
    EXPECT_FALSE(lists_token(",,", "upgrade"));
}

TEST(FieldValue, ListElementsAreTrimmedAndEmptyOnesSkipped) {
    EXPECT_EQ(list_elements(" a ,, b\t,c,"), (std::vector<std::string_view>{"a", "b", "c"}));
    EXPECT_TRUE(list_elements(" , ").empty());
    int seen = 0;
    EXPECT_FALSE(for_each_element("x, stop, never", [&](std::string_view e) {
        ++seen;
        return e != "stop";
    }));
    EXPECT_EQ(seen, 2) << "stops at the first false";
}

} // namespace
} // namespace livehouse::codec::http
