// http:// URLs and host:port pairs, as livehouse takes them from its configuration and its
// command line: an edge's upstream, a load test's target and webhook, a worker's address. One
// parser instead of one per caller, sans-I/O (resolving the host is the caller's business).
//
// RFC 3986 §3: URI = scheme ":" hier-part; hier-part = "//" authority path-abempty; authority =
// [ userinfo "@" ] host [ ":" port ]; host = IP-literal / IPv4address / reg-name, an IP-literal
// being "[" IPv6address "]". What is accepted here is narrower, by design:
// - the scheme is http (case-sensitive): TLS is terminated in front of livehouse;
// - no userinfo (credentials in a URL end up in logs);
// - the port, when given, is 1..65535 in decimal; without it, 80 (RFC 9110 §4.2.1);
// - the target (path and query) is kept as it is, "/" when empty; a fragment is refused.
// Limits: a URL or a host:port of at most 2,048 bytes. Errors say what is wrong, without the
// input (callers put it in front, and may leave it out where it could hold a secret).
#pragma once

#include "core/result.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace livehouse::codec::http {

inline constexpr std::size_t max_url_bytes = 2048;

struct host_port {
    std::string host; ///< brackets of an IPv6 literal removed
    std::uint16_t port = 0;
};

struct http_url {
    std::string host; ///< brackets of an IPv6 literal removed
    std::uint16_t port = 80;
    std::string authority; ///< host[:port] as written: what a Host header carries
    std::string target = "/";
};

/// "host:port" or "[v6]:port"; a bare host when `default_port` is given. Port 0 ("any", for
/// a socket to listen on) only with `allow_port_zero`.
core::result<host_port> parse_host_port(std::string_view text,
                                        std::optional<std::uint16_t> default_port = std::nullopt,
                                        bool allow_port_zero = false);

/// "host:port", the host bracketed when it is an IPv6 literal (RFC 3986 §3.2.2): what a URL or
/// a log line carries for an address.
std::string authority(std::string_view host, std::uint16_t port);

/// "http://host[:port][/path][?query]".
core::result<http_url> parse_http_url(std::string_view url);

} // namespace livehouse::codec::http
