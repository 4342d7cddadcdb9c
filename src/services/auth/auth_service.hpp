// The auth routes: guest tokens for development and demos, and a way to check a token.
//
//   POST /api/v1/auth/guest  public  {"name": "..."} -> 201 {"token", "user": {"id", "name"},
//                                     "expires_at"}
//   GET  /api/v1/auth/me     Bearer  -> 200 {"user": {"id", "name", "role"}, "expires_at"},
//                                     401 naming why the token was refused
//
// name: 1..32 code points after trimming, no control characters (400 {"error": "name: ..."}).
// Guests may be switched off ([auth] allow_guests = false: 403). Guest creation is rate
// limited: a token bucket per client address (the socket's peer; 10 per minute, burst 10:
// [auth] guests_per_address_per_minute), and one for all clients together (5 per second,
// burst 100: [auth] guests_per_second); over either, 429 with Retry-After.
//
// Responses carry tokens and are never stored (no-store); CORS is on, so a site's page on
// another origin can ask for a guest token (no cookies are involved).
//
// Threading: handlers run on any event-loop thread; user_tokens is immutable and the rate
// limiters lock.
#pragma once

#include "core/rate_limiter.hpp"
#include "net/router.hpp"
#include "services/service_context.hpp"

#include <cstddef>

namespace livehouse::services::auth {

struct auth_options {
    bool allow_guests = true;
    core::rate_limit guests_per_address{10.0 / 60.0, 10, 10000};
    core::rate_limit guests_overall{5.0, 100, 1};
};

/// Largest accepted request body.
inline constexpr std::size_t max_body_bytes = 4096;

/// Adds the auth routes. Precondition: ctx.user_tokens is set. `ctx` must outlive the router.
void register_routes(net::router& router, service_context& ctx, auth_options options = {});

} // namespace livehouse::services::auth
