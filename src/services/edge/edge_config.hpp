// What the edge role needs to know ([edge] in the config file; docs/EDGE.md).
#pragma once

#include "core/result.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace livehouse::services::edge {

struct upstream_address {
    std::string host;
    std::uint16_t port = 80;
};

/// "http://host[:port][/]" -> host and port (80 by default; IPv6 literals in brackets).
/// Errors name what is wrong: another scheme (TLS belongs in front of livehouse), a path, a
/// user part, a bad port.
core::result<upstream_address> parse_upstream_url(std::string_view url);

struct edge_config {
    upstream_address upstream;
    std::size_t cache_bytes = 256 * 1024 * 1024;     ///< stored objects (body + headers)
    std::size_t max_object_bytes = 16 * 1024 * 1024; ///< larger: streamed, not stored
    std::size_t upstream_connections = 64;
    std::size_t upstream_queue = 10000;
    std::chrono::milliseconds upstream_timeout{std::chrono::seconds(10)};
    std::chrono::milliseconds connect_timeout{std::chrono::seconds(2)};
    std::int64_t negative_ttl_s = 1;    ///< a 404/410 without max-age
    std::int64_t stale_if_error_s = 60; ///< when the upstream's Cache-Control says nothing
    std::size_t max_pass_body_bytes = 1024 * 1024; ///< uncached answers (API) relayed whole
};

} // namespace livehouse::services::edge
