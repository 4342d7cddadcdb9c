// Conditional requests and byte ranges: RFC 9110 §13 and §14 edge cases.
#include "net/http_rules.hpp"

#include <gtest/gtest.h>

namespace livehouse::net {
namespace {

TEST(http_rules, if_none_match) {
    EXPECT_TRUE(etag_matches("\"a\"", "\"a\""));
    EXPECT_TRUE(etag_matches("*", "\"a\""));
    EXPECT_TRUE(etag_matches("\"x\", \"a\"", "\"a\""));
    EXPECT_TRUE(etag_matches("W/\"a\"", "\"a\"")); // weak comparison
    EXPECT_TRUE(etag_matches("\"a\"", "W/\"a\""));
    EXPECT_TRUE(etag_matches(" \"x\" ,\t\"a\" ", "\"a\""));
    EXPECT_FALSE(etag_matches("\"b\"", "\"a\""));
    EXPECT_FALSE(etag_matches("", "\"a\""));
    EXPECT_FALSE(etag_matches("\"a\"", ""));
    EXPECT_FALSE(etag_matches("\"ab\"", "\"a\""));
}

using kind = byte_range::kind;

void expect_range(std::string_view header, std::uint64_t size, kind k, std::uint64_t first = 0,
                  std::uint64_t last = 0) {
    const auto r = parse_range(header, size);
    EXPECT_EQ(r.type, k) << header << " size " << size;
    if (k == kind::satisfiable) {
        EXPECT_EQ(r.first, first) << header;
        EXPECT_EQ(r.last, last) << header;
    }
}

TEST(http_rules, single_ranges) {
    expect_range("bytes=0-99", 1000, kind::satisfiable, 0, 99);
    expect_range("bytes=100-", 1000, kind::satisfiable, 100, 999);
    expect_range("bytes=-100", 1000, kind::satisfiable, 900, 999);
    expect_range("bytes=-5000", 1000, kind::satisfiable, 0, 999);
    expect_range("bytes=990-5000", 1000, kind::satisfiable, 990, 999); // clamped
    expect_range("bytes=999-999", 1000, kind::satisfiable, 999, 999);
    expect_range("Bytes=0-0", 1000, kind::satisfiable, 0, 0);
    expect_range(" bytes = 1 - 2 ", 1000, kind::none); // "bytes=" must be contiguous
    expect_range("bytes= 1-2", 1000, kind::satisfiable, 1, 2);
}

TEST(http_rules, unsatisfiable_ranges) {
    expect_range("bytes=1000-", 1000, kind::unsatisfiable);
    expect_range("bytes=1000-1001", 1000, kind::unsatisfiable);
    expect_range("bytes=-0", 1000, kind::unsatisfiable);
    expect_range("bytes=0-", 0, kind::unsatisfiable);
    expect_range("bytes=-1", 0, kind::unsatisfiable);
}

TEST(http_rules, ignored_ranges) {
    expect_range("", 1000, kind::none);
    expect_range("bytes=0-1,5-6", 1000, kind::none); // multipart not supported: send all
    expect_range("items=0-1", 1000, kind::none);
    expect_range("bytes=5-1", 1000, kind::none);
    expect_range("bytes=a-b", 1000, kind::none);
    expect_range("bytes=-", 1000, kind::none);
    expect_range("bytes=+1-2", 1000, kind::none);
    expect_range("bytes=1", 1000, kind::none);
    expect_range("bytes=99999999999999999999999-", 1000, kind::none); // overflow
}

} // namespace
} // namespace livehouse::net
