// Who a verified user token says the caller is (user_tokens.hpp).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace livehouse::services::auth {

inline constexpr std::string_view guest_id_prefix = "g-";

struct user {
    std::string id;   ///< the token's sub
    std::string name; ///< display name, trimmed
    std::string role = "user";
    std::int64_t expires_at = 0; ///< exp, seconds since the Unix epoch

    [[nodiscard]] bool is_admin() const { return role == "admin"; }
    [[nodiscard]] bool is_guest() const { return id.starts_with(guest_id_prefix); }
    bool operator==(const user&) const = default;
};

} // namespace livehouse::services::auth
