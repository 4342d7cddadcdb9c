// What the HTTP services (api, origin, web) are given by the composition root (src/server).
// Built after the listeners are bound, so the ports are the real ones even with port 0.
#pragma once

#include "core/clock.hpp"
#include "media/broadcast.hpp"

#include <cstdint>
#include <memory>
#include <string>

namespace livehouse::services {

namespace auth {
class user_tokens;
} // namespace auth

struct service_context {
    media::broadcast_registry& registry;
    const core::clock& clock;
    std::string admin_token; ///< compared in constant time; never logged
    std::string host;        ///< the address put into URLs (config server.host)
    std::uint16_t http_port = 8080;
    std::uint16_t rtmp_port = 1935;
    std::string data_dir;  ///< VOD archive under <data_dir>/vod/<id>/
    std::string web_dir;   ///< static pages (web/)
    media::task_runner io; ///< runs blocking file reads off the event loops
    /// Verifies (and mints guest) user tokens: services/auth/user_tokens.hpp. Immutable,
    /// shared by every service that needs to know who a request is from (chat). Set by the
    /// composition root; null only in tests that do not need users.
    std::shared_ptr<const auth::user_tokens> user_tokens;
};

} // namespace livehouse::services
