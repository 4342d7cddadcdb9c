// Cache-Control (RFC 9111 §5.2, RFC 5861) and Age (RFC 9111 §5.1) as the edge cache reads them
// from an origin's response, and the freshness a shared cache gives that response. Sans-I/O:
// field values in, directives and lifetimes out; never throws, and every byte string is a valid
// input: what cannot be understood is ignored, as RFC 9111 §5.2 asks of unknown directives.
//
// Limits: parse_cache_control looks at the first 4096 bytes of a value only, and at most at its
// first 64 directives (non-empty list elements, known, unknown or malformed); the rest is
// ignored, and the element cut by the 4096-byte limit is ignored whole (its name or number may
// be cut short). Every number is delta-seconds in [0, 2147483648] (RFC 9111 §1.2.2).
//
// Not handled here (the caller's part): Expires (RFC 9111 §5.3), the request's own directives
// and Authorization (RFC 9111 §3.5: a shared cache reuses a response to an authorized request
// only under must-revalidate, public or s-maxage), Vary, validators, and the age calculation
// (RFC 9111 §4.2.3): shared_cache_freshness is given the response's current age.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace livehouse::codec::http {

/// The response directives of RFC 9111 §5.2.2 and RFC 5861 that a shared cache acts on.
/// Absent numbers are nullopt, absent flags false.
struct cache_directives {
    std::optional<std::int64_t> max_age;                ///< §5.2.2.1, seconds
    std::optional<std::int64_t> s_maxage;               ///< §5.2.2.10, seconds
    std::optional<std::int64_t> stale_while_revalidate; ///< RFC 5861 §3, seconds
    std::optional<std::int64_t> stale_if_error;         ///< RFC 5861 §4, seconds
    bool no_store = false;                              ///< §5.2.2.5
    bool no_cache = false;         ///< §5.2.2.4; no-cache="fields" counts as bare no-cache
    bool private_ = false;         ///< §5.2.2.7; private="fields" counts as bare private
    bool public_ = false;          ///< §5.2.2.9
    bool must_revalidate = false;  ///< §5.2.2.2
    bool proxy_revalidate = false; ///< §5.2.2.8
    bool immutable = false;        ///< RFC 8246

    bool operator==(const cache_directives&) const = default;
};

/// Parses a response's Cache-Control field value. A response with several Cache-Control field
/// lines is passed as their values joined with ", " (RFC 9110 §5.3). `value` is only read
/// during the call.
///
/// Grammar (RFC 9111 §5.2): `#( token [ "=" ( token / quoted-string ) ] )`; names are
/// case-insensitive, list elements are separated by commas with optional whitespace, empty
/// elements are skipped. Rules:
/// - An argument may be a token or a quoted-string: max-age="5" is max-age=5.
/// - A number must be 1*DIGIT; a larger one than 2^31 is 2147483648 (RFC 9111 §1.2.2); a
///   missing, empty, signed or non-digit one makes that directive ignored.
/// - The flags are set whatever follows their name (an argument, even a malformed one, is not
///   looked at): the conservative reading of a restrictive directive.
/// - An element with junk after it (`max-age=5 x`, `max-age = 5`) is malformed: its number is
///   ignored, its flag still set; parsing resumes after the next comma outside a quoted string.
/// - Repeated directives: the first valid occurrence counts, except max-age: when it appears
///   more than once, valid or not, max_age is 0 (RFC 9111 §4.2.1: "either the first
///   occurrence should be used or the response should be considered stale").
/// - Unknown directives are ignored.
cache_directives parse_cache_control(std::string_view value);

/// Parses an Age field value (RFC 9111 §5.1: `Age = delta-seconds`), optional whitespace
/// around it allowed. nullopt when it is not 1*DIGIT (empty, signed, a list, anything else);
/// a value over 2^31 is 2147483648 (RFC 9111 §1.2.2).
std::optional<std::int64_t> parse_age(std::string_view value);

/// Edge-cache policy for what the origin leaves unsaid.
struct freshness_defaults {
    /// Lifetime of a 404 or 410 that has neither s-maxage nor max-age (negative caching: a
    /// burst of requests for a missing segment costs the origin one request per this period).
    std::int64_t negative_ttl_s = 1;
    /// stale-if-error when the response has none; not applied under s-maxage (see below).
    std::int64_t stale_if_error_s = 0;
};

/// What a shared cache may do with a response. All durations are counted from the moment the
/// response's age was age_s and follow one another: the response is fresh for fresh_for_s
/// seconds; after that it may be served stale while it is being revalidated for
/// stale_while_revalidate_s more seconds, and instead of an error (5xx or no answer from the
/// origin) for stale_if_error_s more seconds. A response that is not storable has all zero.
struct freshness {
    bool storable = false;
    std::int64_t fresh_for_s = 0;
    std::int64_t stale_while_revalidate_s = 0;
    std::int64_t stale_if_error_s = 0;

    bool operator==(const freshness&) const = default;
};

/// Freshness of a response with this status and these directives whose current age is age_s
/// seconds (a negative age counts as 0), for a shared cache (RFC 9111):
/// - not storable under no-store (§3) or private (§5.2.2.7: "a shared cache MUST NOT store
///   the response"), nor with a status other than 200, 203, 204, 300, 301, 308, 404, 405,
///   410, 414 or 501 (heuristically cacheable, RFC 9110 §15.1; 206, 302, 304, 5xx... are not);
/// - lifetime = s-maxage, else max-age, else for 404 and 410 defaults.negative_ttl_s; any
///   other response without one is not storable: no heuristic freshness (a live server's
///   playlists change every segment and must never be guessed fresh);
/// - no-cache: storable (with or without a lifetime) but never fresh, and never served stale;
/// - fresh_for_s = max(0, lifetime - age_s);
/// - stale windows: stale-while-revalidate, stale-if-error (else defaults.stale_if_error_s
///   unless s-maxage is present), minus the time the response has already been stale; all
///   0 under must-revalidate, proxy-revalidate or no-cache (§4.2.4: a cache "MUST NOT
///   generate a stale response if it is prohibited by an explicit in-protocol directive").
/// Negative numbers in `d` or `defaults` count as 0. Never overflows.
freshness shared_cache_freshness(int status, const cache_directives& d, std::int64_t age_s,
                                 const freshness_defaults& defaults = {});

} // namespace livehouse::codec::http
