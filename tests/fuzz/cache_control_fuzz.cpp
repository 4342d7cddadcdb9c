// Fuzz target: Cache-Control and Age values. Every number parsed is delta-seconds in [0, 2^31];
// names are case-insensitive, so an ASCII-uppercased copy parses the same; and for a set of
// statuses and ages the freshness obeys its rules: no window is negative, a non-storable
// response has all zero, no-store/private are never stored, no-cache is never fresh, and
// must-revalidate / proxy-revalidate / no-cache allow no stale use.
#include "codec/http/cache_control.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

namespace {

using namespace livehouse::codec::http;

constexpr std::int64_t cap = 2147483648;

void check_delta(const std::optional<std::int64_t>& v) {
    if (v && (*v < 0 || *v > cap)) {
        std::abort();
    }
}

bool cacheable(int s) {
    switch (s) {
    case 200:
    case 203:
    case 204:
    case 300:
    case 301:
    case 308:
    case 404:
    case 405:
    case 410:
    case 414:
    case 501:
        return true;
    default:
        return false;
    }
}

void check_freshness(int status, const cache_directives& d, std::int64_t age,
                     const freshness_defaults& defaults) {
    const freshness f = shared_cache_freshness(status, d, age, defaults);
    if (f.fresh_for_s < 0 || f.stale_while_revalidate_s < 0 || f.stale_if_error_s < 0) {
        std::abort();
    }
    if (!f.storable &&
        (f.fresh_for_s != 0 || f.stale_while_revalidate_s != 0 || f.stale_if_error_s != 0)) {
        std::abort();
    }
    if (f.storable && (d.no_store || d.private_ || !cacheable(status))) {
        std::abort();
    }
    if (d.no_cache && f.fresh_for_s != 0) {
        std::abort();
    }
    if ((d.no_cache || d.must_revalidate || d.proxy_revalidate) &&
        (f.stale_while_revalidate_s != 0 || f.stale_if_error_s != 0)) {
        std::abort();
    }
    // A lifetime only ever shrinks with age.
    const std::int64_t lifetime = d.s_maxage  ? *d.s_maxage
                                  : d.max_age ? *d.max_age
                                              : std::max(defaults.negative_ttl_s, std::int64_t{0});
    if (f.fresh_for_s > lifetime) {
        std::abort();
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const cache_directives d = parse_cache_control(text);
    check_delta(d.max_age);
    check_delta(d.s_maxage);
    check_delta(d.stale_while_revalidate);
    check_delta(d.stale_if_error);

    std::string upper(text);
    for (char& c : upper) {
        if (c >= 'a' && c <= 'z') {
            c = static_cast<char>(c - 'a' + 'A');
        }
    }
    if (!(parse_cache_control(upper) == d)) {
        std::abort();
    }

    const std::optional<std::int64_t> age = parse_age(text);
    check_delta(age);

    constexpr auto big = std::numeric_limits<std::int64_t>::max();
    const int statuses[] = {0, 200, 203, 204, 206, 301, 302, 304, 404, 410, 500, 501, 503};
    const std::int64_t ages[] = {0, 1, age.value_or(0), cap, big, -1};
    const freshness_defaults defaults[] = {{},
                                           {.negative_ttl_s = 30, .stale_if_error_s = 60},
                                           {.negative_ttl_s = -1, .stale_if_error_s = big}};
    for (const int s : statuses) {
        for (const std::int64_t a : ages) {
            for (const auto& def : defaults) {
                check_freshness(s, d, a, def);
            }
        }
    }
    return 0;
}
