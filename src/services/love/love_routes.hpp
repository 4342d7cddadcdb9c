// The love service's routes (docs/API.md, "Love"):
//
//   POST /api/v1/broadcasts/{id}/love   user (Bearer token)
//        {"batch_id": "...", "taps": [video seconds, ...]} -> 200 {"accepted", "duplicate",
//        "total", "trimmed": {"out_of_range", "over_batch", "over_rate"}} once counted;
//        400 (body), 401 (no user), 404, 409 (not live), 503 (busy or state unavailable)
//   GET  /api/v1/broadcasts/{id}/love               public {"total"}, cacheable for 1 s
//   GET  /api/v1/broadcasts/{id}/love/ranking?limit=N   public {"ranking": [{"user":
//        {"id", "name"}, "taps"}]}, most taps first, N 1..max_ranking_limit (default 10)
#pragma once

#include "net/router.hpp"
#include "services/love/love_service.hpp"

#include <memory>

namespace livehouse::services::auth {
class user_tokens;
} // namespace livehouse::services::auth

namespace livehouse::services::love {

void register_routes(net::router& router, std::shared_ptr<love_service> service,
                     std::shared_ptr<const auth::user_tokens> tokens);

} // namespace livehouse::services::love
