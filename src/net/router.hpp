// Maps (method, path) to a handler. Patterns are literal segments and captures:
//   "/api/v1/broadcasts/{id}/status", "/hls/{id}/{file}", "/static/{path*}"
// - `{name}` matches exactly one non-empty segment (no '/');
// - `{name*}` (last segment only) matches one or more remaining non-empty segments, captured
//   joined by '/' (static files in sub-folders).
// When several patterns match, the most specific wins: segment by segment, a literal beats a
// capture, which beats a tail capture (so "/api/v1/broadcasts/active" beats ".../{id}").
//
// Every path segment is percent-decoded before matching (RFC 3986 §2.1). A path is rejected
// (400) when a segment decodes to "." or "..", contains NUL or an encoded '/' ("%2F"), or has a
// malformed escape: captured values can then be used as file names without further checks
// beyond the service's own whitelist. The query string is split off and not decoded.
//
// WebSocket routes (add_websocket): a GET route whose upgrade requests go to a ws_route_handler
// (RFC 6455 §4.2.1); a plain GET or HEAD on it is answered 426 Upgrade Required.
//
// Threading: add() during start-up only; match() is const and safe from every thread after.
// Limits: at most 64 segments per path (400 beyond).
#pragma once

#include "core/result.hpp"
#include "net/http_types.hpp"
#include "net/ws_types.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace livehouse::net {

struct route_match {
    enum class outcome { found, not_found, method_not_allowed, bad_request };

    outcome result = outcome::not_found;
    const handler* target = nullptr; ///< set when found; owned by the router
    route_params params;
    std::string route_name; ///< the matched route's name (metric label); "" unless found
    std::string allow;      ///< methods the path accepts ("GET, HEAD, OPTIONS"); set unless
                            ///< not_found / bad_request
    std::string error;      ///< why, when bad_request
    std::string_view query; ///< after '?', without it (a view into the target)
    /// Set when found on a websocket route by GET: the upgrade handler (owned by the router).
    /// `target` then answers requests that are not upgrades (426).
    const ws_route_handler* websocket = nullptr;
    /// Some route matching the path is a websocket route (whatever the method), so that an
    /// upgrade with the wrong method can be told apart from a plain 405.
    bool websocket_route = false;
};

class router {
  public:
    static constexpr std::size_t max_segments = 64;

    /// Registers `h` for `method` on `pattern`. HEAD requests reach GET handlers unless a HEAD
    /// handler is registered; OPTIONS is answered by the server unless an OPTIONS handler is.
    /// `route_name` labels metrics (keep it a fixed string, e.g. "hls_segment").
    /// Precondition: pattern starts with '/'; captures are whole segments; a method is
    /// registered once per pattern. Violations throw std::invalid_argument (start-up bug).
    void add(http::verb method, std::string pattern, handler h, std::string route_name);

    /// Registers a WebSocket endpoint on `pattern` (GET). An upgrade request that matches gets
    /// `h`; any other GET or HEAD gets 426 with "Upgrade: websocket" (RFC 9110 §15.5.22).
    /// Same preconditions as add(); GET on `pattern` must not be registered otherwise.
    void add_websocket(std::string pattern, ws_route_handler h, std::string route_name);

    /// Matches a request target (origin-form: "/path?query").
    [[nodiscard]] route_match match(http::verb method, std::string_view target) const;

    /// Splits and percent-decodes a path into segments ("/" -> none). Errors as documented
    /// above; exposed for tests and for services that parse paths themselves.
    static core::result<std::vector<std::string>> decode_path(std::string_view path);

  private:
    struct segment {
        enum class kind { literal, capture, tail } type = kind::literal;
        std::string text; // literal text or capture name
    };
    struct method_entry {
        http::verb method;
        handler h;
        std::string route_name;
        ws_route_handler ws; // set on websocket routes (GET)
    };
    struct route {
        std::string pattern;
        std::vector<segment> segments;
        std::vector<method_entry> methods;
    };

    static bool matches(const route& r, const std::vector<std::string>& path, route_params* params);
    static bool more_specific(const route& a, const route& b);

    std::vector<route> routes_;
};

} // namespace livehouse::net
