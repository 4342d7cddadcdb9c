// codec::http: Cache-Control and Age parsing and shared-cache freshness (RFC 9111, RFC 5861).
#include "codec/http/cache_control.hpp"

#include <cstdint>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <limits>
#include <ostream>
#include <string>

namespace livehouse::codec::http {

// Readable failure messages for whole-struct comparisons.
void PrintTo(const cache_directives& d, std::ostream* os) {
    const auto n = [](const std::optional<std::int64_t>& v) {
        return v ? std::to_string(*v) : std::string("-");
    };
    *os << "{max_age=" << n(d.max_age) << " s_maxage=" << n(d.s_maxage)
        << " swr=" << n(d.stale_while_revalidate) << " sie=" << n(d.stale_if_error)
        << " no_store=" << d.no_store << " no_cache=" << d.no_cache << " private=" << d.private_
        << " public=" << d.public_ << " must_revalidate=" << d.must_revalidate
        << " proxy_revalidate=" << d.proxy_revalidate << " immutable=" << d.immutable << "}";
}

void PrintTo(const freshness& f, std::ostream* os) {
    *os << "{storable=" << f.storable << " fresh_for=" << f.fresh_for_s
        << " swr=" << f.stale_while_revalidate_s << " sie=" << f.stale_if_error_s << "}";
}

namespace {

constexpr std::int64_t cap = 2147483648; // 2^31, RFC 9111 §1.2.2

cache_directives with_max_age(std::int64_t s) {
    cache_directives d;
    d.max_age = s;
    return d;
}

// --- parse_cache_control ---------------------------------------------------------------------

TEST(CacheControl, ParsesAnImmutableSegment) {
    cache_directives want;
    want.public_ = true;
    want.max_age = 31536000;
    want.immutable = true;
    EXPECT_EQ(parse_cache_control("public, max-age=31536000, immutable"), want);
}

TEST(CacheControl, ParsesAPlaylistWithStaleExtensions) {
    EXPECT_EQ(parse_cache_control("max-age=1"), with_max_age(1));
    cache_directives want;
    want.public_ = true;
    want.max_age = 1;
    want.stale_while_revalidate = 2;
    want.stale_if_error = 30;
    EXPECT_EQ(parse_cache_control("public, max-age=1, stale-while-revalidate=2, stale-if-error=30"),
              want);
}

TEST(CacheControl, ParsesEveryFlag) {
    const auto d = parse_cache_control(
        "no-store,no-cache,private,public,must-revalidate,proxy-revalidate,immutable");
    EXPECT_TRUE(d.no_store);
    EXPECT_TRUE(d.no_cache);
    EXPECT_TRUE(d.private_);
    EXPECT_TRUE(d.public_);
    EXPECT_TRUE(d.must_revalidate);
    EXPECT_TRUE(d.proxy_revalidate);
    EXPECT_TRUE(d.immutable);
    EXPECT_FALSE(d.max_age);
    EXPECT_FALSE(d.s_maxage);

    cache_directives no_store;
    no_store.no_store = true;
    EXPECT_EQ(parse_cache_control("no-store"), no_store);
    cache_directives priv;
    priv.private_ = true;
    EXPECT_EQ(parse_cache_control("private"), priv);
    cache_directives s;
    s.s_maxage = 10;
    EXPECT_EQ(parse_cache_control("s-maxage=10"), s);
}

TEST(CacheControl, NamesAreCaseInsensitive) {
    EXPECT_EQ(parse_cache_control("MAX-AGE=5"), with_max_age(5));
    const auto d = parse_cache_control("No-Store, S-MaxAge=3, PRIVATE, Stale-While-Revalidate=4");
    EXPECT_TRUE(d.no_store);
    EXPECT_TRUE(d.private_);
    EXPECT_EQ(d.s_maxage, 3);
    EXPECT_EQ(d.stale_while_revalidate, 4);
}

TEST(CacheControl, AcceptsQuotedArguments) {
    EXPECT_EQ(parse_cache_control("max-age=\"7\""), with_max_age(7));
    EXPECT_EQ(parse_cache_control(R"(max-age="\4\2")"), with_max_age(42)); // quoted-pairs
    EXPECT_EQ(parse_cache_control("s-maxage=\"9\", public").s_maxage, 9);
    // Not digits once unquoted, or not a whole quoted-string: ignored.
    EXPECT_EQ(parse_cache_control("max-age=\" 7\""), cache_directives{});
    EXPECT_EQ(parse_cache_control("max-age=\"\""), cache_directives{});
    EXPECT_EQ(parse_cache_control("max-age=\"7"), cache_directives{});
    EXPECT_EQ(parse_cache_control("max-age=\"7\"8"), cache_directives{});
}

TEST(CacheControl, IgnoresAMalformedNumber) {
    for (const char* v :
         {"max-age=abc", "max-age=-1", "max-age=+1", "max-age=1.5", "max-age=", "max-age",
          "max-age=5s", "max-age = 5", "max-age =5", "max-age= 5", "max-age=5 6", "max-age=0x10"}) {
        EXPECT_EQ(parse_cache_control(v), cache_directives{}) << v;
    }
    // The other directives of the value still count.
    cache_directives want;
    want.public_ = true;
    want.stale_if_error = 3;
    EXPECT_EQ(parse_cache_control("public, max-age=abc, stale-if-error=3"), want);
    EXPECT_EQ(parse_cache_control("stale-while-revalidate=-2").stale_while_revalidate,
              std::nullopt);
}

TEST(CacheControl, CapsAHugeNumberAt2To31) {
    EXPECT_EQ(parse_cache_control("max-age=99999999999999999999"), with_max_age(cap));
    EXPECT_EQ(parse_cache_control("max-age=2147483648"), with_max_age(cap));
    EXPECT_EQ(parse_cache_control("max-age=2147483649"), with_max_age(cap));
    EXPECT_EQ(parse_cache_control("max-age=2147483647"), with_max_age(cap - 1));
    EXPECT_EQ(parse_cache_control(fmt::format("max-age={}", std::string(500, '9'))),
              with_max_age(cap));
    EXPECT_EQ(parse_cache_control("max-age=007"), with_max_age(7));
    EXPECT_EQ(parse_cache_control("max-age=0"), with_max_age(0));
}

TEST(CacheControl, ARepeatedMaxAgeMakesTheResponseStale) {
    EXPECT_EQ(parse_cache_control("max-age=60, max-age=60"), with_max_age(0));
    EXPECT_EQ(parse_cache_control("max-age=60, max-age=10"), with_max_age(0));
    EXPECT_EQ(parse_cache_control("max-age=abc, max-age=10"), with_max_age(0));
    EXPECT_EQ(parse_cache_control("max-age=10, public, MAX-AGE=abc").max_age, 0);
}

TEST(CacheControl, OtherRepeatsTakeTheFirstValidOccurrence) {
    const auto d = parse_cache_control("s-maxage=5, s-maxage=50, stale-while-revalidate=x, "
                                       "stale-while-revalidate=8, stale-if-error=1, "
                                       "stale-if-error=2");
    EXPECT_EQ(d.s_maxage, 5);
    EXPECT_EQ(d.stale_while_revalidate, 8);
    EXPECT_EQ(d.stale_if_error, 1);
}

TEST(CacheControl, ToleratesWhitespaceAndEmptyElements) {
    cache_directives want;
    want.public_ = true;
    want.max_age = 5;
    want.no_cache = true;
    EXPECT_EQ(parse_cache_control("  public ,\tmax-age=5\t, , ,,no-cache  "), want);
    EXPECT_EQ(parse_cache_control(",,,max-age=5,,,"), with_max_age(5));
    EXPECT_EQ(parse_cache_control(""), cache_directives{});
    EXPECT_EQ(parse_cache_control(" \t , ,"), cache_directives{});
}

TEST(CacheControl, QualifiedNoCacheAndPrivateCountAsBare) {
    cache_directives want;
    want.no_cache = true;
    want.private_ = true;
    want.max_age = 3;
    EXPECT_EQ(parse_cache_control(R"(no-cache="Set-Cookie", private="X-A, X-B", max-age=3)"), want);
    EXPECT_TRUE(parse_cache_control("private=X-User").private_);
    // A flag is set whatever its argument; the comma inside the quotes splits nothing.
    const auto d = parse_cache_control(R"(no-store="a, max-age=9", no-cache=)");
    EXPECT_TRUE(d.no_store);
    EXPECT_TRUE(d.no_cache);
    EXPECT_FALSE(d.max_age);
}

TEST(CacheControl, IgnoresUnknownDirectivesAndJunk) {
    EXPECT_EQ(parse_cache_control("community=\"UCI\", foo=bar, x, max-age=4"), with_max_age(4));
    EXPECT_EQ(parse_cache_control("=5, \"q\", ;;, max-age=4"), with_max_age(4));
    EXPECT_EQ(parse_cache_control("max-ages=9, maxage=9, max_age=9"), cache_directives{});
    // Junk after a flag keeps the flag (the conservative reading) but not a number after it.
    const auto d = parse_cache_control("private max-age=5");
    EXPECT_TRUE(d.private_);
    EXPECT_FALSE(d.max_age);
    // Junk with a quoted comma does not end the element early.
    EXPECT_EQ(parse_cache_control("x y\"a,max-age=1\", max-age=2"), with_max_age(2));
    const auto nul = parse_cache_control(std::string("max-age=5\0, no-store", 20));
    EXPECT_FALSE(nul.max_age);
    EXPECT_TRUE(nul.no_store);
}

TEST(CacheControl, LooksAtNoMoreThan64Directives) {
    std::string v;
    for (int i = 0; i < 63; ++i) {
        v += fmt::format("x{}, ", i);
    }
    EXPECT_EQ(parse_cache_control(v + "no-store").no_store, true);               // the 64th
    EXPECT_EQ(parse_cache_control(v + "a, no-store").no_store, false);           // the 65th
    EXPECT_EQ(parse_cache_control(v + ",,, ,no-store").no_store, true);          // empties are free
    EXPECT_EQ(parse_cache_control(v + "max-age=x y, no-store").no_store, false); // junk counts
}

TEST(CacheControl, LooksAtTheFirst4096BytesOnly) {
    const std::string pad = fmt::format("x={}, ", std::string(4081, 'a')); // 4085 bytes
    ASSERT_EQ(pad.size(), 4085U);
    // "max-age=123" ends exactly at byte 4096.
    EXPECT_EQ(parse_cache_control(pad + "max-age=123"), with_max_age(123));
    EXPECT_EQ(parse_cache_control(pad + "max-age=123, no-store"), with_max_age(123));
    // Cut short by the limit: ignored whole, not read as max-age=123.
    EXPECT_EQ(parse_cache_control(pad + "max-age=1234"), cache_directives{});
    EXPECT_EQ(parse_cache_control(pad + "max-age=123 "), cache_directives{});
    EXPECT_EQ(parse_cache_control(pad + "no-store=abc").no_store, false);
    // Beyond the limit nothing is read.
    EXPECT_EQ(parse_cache_control(pad + "public, no-store").no_store, false);
    EXPECT_EQ(parse_cache_control(std::string(10000, ',') + "no-store"), cache_directives{});
}

// --- parse_age -------------------------------------------------------------------------------

TEST(CacheControlAge, ParsesDeltaSeconds) {
    EXPECT_EQ(parse_age("0"), 0);
    EXPECT_EQ(parse_age("17"), 17);
    EXPECT_EQ(parse_age(" 17\t"), 17);
    EXPECT_EQ(parse_age("0017"), 17);
    EXPECT_EQ(parse_age("2147483647"), cap - 1);
    EXPECT_EQ(parse_age("2147483648"), cap);
    EXPECT_EQ(parse_age("99999999999999999999"), cap);
}

TEST(CacheControlAge, RejectsAnythingElse) {
    for (const char* v : {"", " ", "-1", "+1", "1.5", "1,2", "1 2", "abc", "1s", "\"5\"", "0x1"}) {
        EXPECT_EQ(parse_age(v), std::nullopt) << v;
    }
}

// --- shared_cache_freshness ------------------------------------------------------------------

freshness fresh(std::int64_t f, std::int64_t swr = 0, std::int64_t sie = 0) {
    return freshness{true, f, swr, sie};
}

const freshness not_storable{};

TEST(CacheControlFreshness, UsesMaxAgeMinusAge) {
    const auto d = parse_cache_control("public, max-age=31536000, immutable");
    EXPECT_EQ(shared_cache_freshness(200, d, 0, {}), fresh(31536000));
    EXPECT_EQ(shared_cache_freshness(200, d, 1000, {}), fresh(31535000));
    EXPECT_EQ(shared_cache_freshness(200, with_max_age(10), 3, {}), fresh(7));
    EXPECT_EQ(shared_cache_freshness(200, with_max_age(10), 10, {}), fresh(0));
    EXPECT_EQ(shared_cache_freshness(200, with_max_age(10), 25, {}), fresh(0));
    EXPECT_EQ(shared_cache_freshness(200, with_max_age(10), -5, {}), fresh(10)); // age >= 0
    EXPECT_EQ(shared_cache_freshness(200, with_max_age(0), 0, {}), fresh(0));    // storable
}

TEST(CacheControlFreshness, SMaxageTakesPrecedenceOverMaxAge) {
    EXPECT_EQ(shared_cache_freshness(200, parse_cache_control("max-age=60, s-maxage=5"), 1, {}),
              fresh(4));
    EXPECT_EQ(shared_cache_freshness(200, parse_cache_control("s-maxage=0, max-age=60"), 0, {}),
              fresh(0));
    EXPECT_EQ(shared_cache_freshness(200, parse_cache_control("s-maxage=100"), 30, {}), fresh(70));
    // An invalid s-maxage is absent: max-age applies.
    EXPECT_EQ(shared_cache_freshness(200, parse_cache_control("s-maxage=x, max-age=8"), 0, {}),
              fresh(8));
}

TEST(CacheControlFreshness, NoStoreAndPrivateAreNotStorable) {
    for (const char* v : {"no-store", "private", "private, max-age=60", "max-age=60, no-store",
                          "public, s-maxage=60, private=\"Set-Cookie\"", "no-store, no-cache"}) {
        EXPECT_EQ(shared_cache_freshness(200, parse_cache_control(v), 0, {}), not_storable) << v;
        EXPECT_EQ(shared_cache_freshness(404, parse_cache_control(v), 0, {}), not_storable) << v;
    }
}

TEST(CacheControlFreshness, OnlyCacheableStatusesAreStorable) {
    const auto d = with_max_age(60);
    for (const int s : {200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501}) {
        EXPECT_EQ(shared_cache_freshness(s, d, 0, {}), fresh(60)) << s;
    }
    for (const int s : {0, 100, 201, 202, 206, 302, 303, 304, 307, 400, 401, 403, 429, 500, 502,
                        503, 504, 999, -1}) {
        EXPECT_EQ(shared_cache_freshness(s, d, 0, {}), not_storable) << s;
    }
    EXPECT_EQ(shared_cache_freshness(500, parse_cache_control("public, s-maxage=60"), 0, {}),
              not_storable);
}

TEST(CacheControlFreshness, NoLifetimeIsNotStorableExceptNegativeCaching) {
    const cache_directives none;
    for (const int s : {200, 203, 204, 300, 301, 308, 405, 414, 501}) {
        EXPECT_EQ(shared_cache_freshness(s, none, 0, {}), not_storable) << s;
    }
    EXPECT_EQ(shared_cache_freshness(200, parse_cache_control("public, immutable"), 0, {}),
              not_storable);
    EXPECT_EQ(shared_cache_freshness(200, parse_cache_control("max-age=abc"), 0, {}), not_storable);
    // 404 and 410: the configured negative TTL (default 1 s), minus the age.
    EXPECT_EQ(shared_cache_freshness(404, none, 0, {}), fresh(1));
    EXPECT_EQ(shared_cache_freshness(410, none, 0, {.negative_ttl_s = 5}), fresh(5));
    EXPECT_EQ(shared_cache_freshness(404, none, 2, {.negative_ttl_s = 5}), fresh(3));
    EXPECT_EQ(shared_cache_freshness(404, none, 0, {.negative_ttl_s = -3}), fresh(0));
    // An explicit lifetime beats it.
    EXPECT_EQ(shared_cache_freshness(404, with_max_age(30), 0, {.negative_ttl_s = 5}), fresh(30));
}

TEST(CacheControlFreshness, StaleWindowsFromTheDirectives) {
    const auto d = parse_cache_control("public, max-age=1, stale-while-revalidate=2, "
                                       "stale-if-error=30");
    EXPECT_EQ(shared_cache_freshness(200, d, 0, {}), fresh(1, 2, 30));
    // Already 2 s stale on arrival: that much less of each window is left.
    EXPECT_EQ(shared_cache_freshness(200, d, 3, {}), fresh(0, 0, 28));
    EXPECT_EQ(shared_cache_freshness(200, d, 1, {}), fresh(0, 2, 30));
    EXPECT_EQ(shared_cache_freshness(200, d, 100, {}), fresh(0, 0, 0));
    // Explicit stale-if-error beats the default, including stale-if-error=0.
    EXPECT_EQ(shared_cache_freshness(200, d, 0, {.stale_if_error_s = 99}), fresh(1, 2, 30));
    EXPECT_EQ(shared_cache_freshness(200, parse_cache_control("max-age=5, stale-if-error=0"), 0,
                                     {.stale_if_error_s = 99}),
              fresh(5, 0, 0));
}

TEST(CacheControlFreshness, DefaultStaleIfError) {
    EXPECT_EQ(shared_cache_freshness(200, with_max_age(5), 0, {.stale_if_error_s = 60}),
              fresh(5, 0, 60));
    EXPECT_EQ(shared_cache_freshness(404, cache_directives{}, 0,
                                     {.negative_ttl_s = 2, .stale_if_error_s = 10}),
              fresh(2, 0, 10));
    EXPECT_EQ(shared_cache_freshness(200, with_max_age(5), 0, {}), fresh(5, 0, 0));
    // s-maxage implies proxy-revalidate (RFC 9111 §5.2.2.10): no default stale use...
    EXPECT_EQ(
        shared_cache_freshness(200, parse_cache_control("s-maxage=5"), 0, {.stale_if_error_s = 60}),
        fresh(5, 0, 0));
    // ...but the origin's explicit RFC 5861 permission next to it is honoured.
    EXPECT_EQ(shared_cache_freshness(
                  200,
                  parse_cache_control("s-maxage=5, stale-while-revalidate=3, stale-if-error=7"), 0,
                  {.stale_if_error_s = 60}),
              fresh(5, 3, 7));
}

TEST(CacheControlFreshness, RevalidationDirectivesForbidStaleUse) {
    const freshness_defaults defaults{.negative_ttl_s = 1, .stale_if_error_s = 60};
    const char* const stale = ", stale-while-revalidate=10, stale-if-error=20";
    EXPECT_EQ(shared_cache_freshness(
                  200, parse_cache_control(std::string("max-age=5, must-revalidate") + stale), 0,
                  defaults),
              fresh(5));
    EXPECT_EQ(shared_cache_freshness(
                  200, parse_cache_control(std::string("max-age=5, proxy-revalidate") + stale), 2,
                  defaults),
              fresh(3));
    EXPECT_EQ(
        shared_cache_freshness(200, parse_cache_control("max-age=5, must-revalidate"), 0, defaults),
        fresh(5));
    // With lifetime 0: stored, but always revalidated.
    EXPECT_EQ(
        shared_cache_freshness(200, parse_cache_control("max-age=0, must-revalidate"), 0, defaults),
        fresh(0));
    EXPECT_EQ(shared_cache_freshness(200, parse_cache_control("s-maxage=0, proxy-revalidate"), 0,
                                     defaults),
              fresh(0));
}

TEST(CacheControlFreshness, NoCacheIsStorableButNeverFresh) {
    const freshness_defaults defaults{.negative_ttl_s = 5, .stale_if_error_s = 60};
    EXPECT_EQ(shared_cache_freshness(200, parse_cache_control("no-cache"), 0, defaults), fresh(0));
    EXPECT_EQ(shared_cache_freshness(
                  200, parse_cache_control("no-cache, max-age=60, stale-while-revalidate=10"), 0,
                  defaults),
              fresh(0));
    EXPECT_EQ(shared_cache_freshness(
                  200, parse_cache_control("no-cache=\"Set-Cookie\", s-maxage=9"), 0, defaults),
              fresh(0));
    EXPECT_EQ(shared_cache_freshness(404, parse_cache_control("no-cache"), 0, defaults), fresh(0));
    // Still not for a status we do not cache.
    EXPECT_EQ(shared_cache_freshness(500, parse_cache_control("no-cache"), 0, defaults),
              not_storable);
}

TEST(CacheControlFreshness, NeverOverflowsOrGoesNegative) {
    constexpr auto big = std::numeric_limits<std::int64_t>::max();
    constexpr auto small = std::numeric_limits<std::int64_t>::min();
    cache_directives d;
    d.max_age = big;
    d.stale_while_revalidate = big;
    d.stale_if_error = small;
    EXPECT_EQ(shared_cache_freshness(200, d, small, {}), fresh(big, big, 0));
    EXPECT_EQ(shared_cache_freshness(200, d, big, {}), fresh(0, big, 0));
    d.max_age = small;
    EXPECT_EQ(shared_cache_freshness(200, d, big, {}), fresh(0, 0, 0));
    EXPECT_EQ(shared_cache_freshness(200, parse_cache_control("max-age=99999999999999999999"), big,
                                     {.negative_ttl_s = 1, .stale_if_error_s = big}),
              fresh(0, 0, cap)); // stale for big - cap seconds of a big window
    EXPECT_EQ(
        shared_cache_freshness(200, parse_cache_control("max-age=99999999999999999999"), 0, {}),
        fresh(cap));
}

} // namespace
} // namespace livehouse::codec::http
