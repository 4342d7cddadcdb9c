// Small pieces every JSON route of the services needs: query parameters, and the common
// answers (no-store JSON, 503 with Retry-After).
#pragma once

#include "net/http_types.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace livehouse::services::api {

/// The raw value of `name` in a query string ("a=1&b=2"); the values the services read (tokens,
/// offsets, seconds, limits) need no percent-decoding.
std::optional<std::string_view> query_param(std::string_view query, std::string_view name);
/// The query string of a request's target (after '?'; empty without one).
std::string_view query_of(const net::request& req);
/// A decimal unsigned integer, the whole of `s`; nullopt otherwise.
std::optional<std::uint64_t> parse_u64(std::string_view s);

/// 503 {"error": what} with Retry-After: 1 (state or records unavailable for now).
net::response unavailable(std::string_view what);
/// A JSON answer that no cache keeps (no-store), with CORS when `cors`.
net::response ok_json(net::http::status st, std::string body, bool cors);

} // namespace livehouse::services::api
