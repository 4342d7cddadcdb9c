// Admin authentication for the JSON API: `Authorization: Bearer <token>` (RFC 6750 §2.1)
// compared with the configured admin token in constant time.
//
// Limits: an empty configured token disables admin access entirely (every check fails), so a
// node started without a token cannot be administered by sending an empty one. Header values
// longer than 4 KiB are rejected without comparing.
#pragma once

#include "net/http_types.hpp"

#include <string_view>

namespace livehouse::services::api {

/// The credentials of "Bearer <token>", or an empty view when the value is not a Bearer
/// credential. RFC 7235 §2.1: "auth-scheme is case-insensitive"; the token is everything after
/// the run of spaces that follows the scheme, with trailing whitespace removed.
[[nodiscard]] std::string_view bearer_token(std::string_view authorization);

/// True when `req` carries `Authorization: Bearer <admin_token>` and admin_token is non-empty.
[[nodiscard]] bool is_admin(const net::request& req, std::string_view admin_token);

/// The 401 answer: {"error": ...}, `WWW-Authenticate: Bearer realm="livehouse"` (RFC 6750 §3),
/// no-store.
[[nodiscard]] net::response unauthorized(std::string_view message);

} // namespace livehouse::services::api
