// user_token (see user_token.hpp).
#include "stress/user_token.hpp"

#include "codec/jwt/hs256.hpp"

#include <chrono>
#include <nlohmann/json.hpp>

namespace livehouse::stress {

core::result<std::string> mint_user_token(std::string_view secret, std::string_view subject,
                                          std::string_view name) {
    const auto now_s = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
    return codec::jwt::sign(
        nlohmann::json{{"sub", subject}, {"name", name}, {"exp", now_s + 86400}}, secret);
}

} // namespace livehouse::stress
