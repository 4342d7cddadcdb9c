// Tokens that verified, remembered: a viewer sends the same token with every love batch and
// chat message, and checking it again each time (base64url, HMAC-SHA256, the claims' JSON) was
// the largest single cost of a love request (~19% of the node's CPU at 60 k requests/s). A hit
// is one hash of the token and one string compare.
//
// Safe because only a token that verified goes in, and a lookup matches the whole token byte
// for byte: a token differing anywhere (a forged signature included) misses and is verified
// in full. Time still counts on a hit: the entry keeps the claims' exp and nbf and is checked
// against them (and the same leeway) exactly as codec::jwt::verify would.
//
// Bounded: `capacity` entries in 16 stripes, each behind its own mutex; a full stripe forgets
// an arbitrary entry (the next use of that token verifies it again). capacity 0 disables it.
#pragma once

#include "services/auth/user.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace livehouse::services::auth {

class verified_tokens {
  public:
    verified_tokens(std::size_t capacity, std::int64_t leeway_seconds)
        : per_stripe_(capacity == 0 ? 0 : std::max<std::size_t>(1, capacity / stripes)),
          leeway_(leeway_seconds) {}

    /// The user of `token` if it verified before and is still within its exp / nbf at `now`.
    std::optional<user> find(std::string_view token, std::int64_t now);
    /// Remembers a token that just verified (nbf: the claim, if it had one).
    void add(std::string_view token, const user& who, std::optional<std::int64_t> nbf);
    /// Entries held now.
    [[nodiscard]] std::size_t size();

  private:
    static constexpr std::size_t stripes = 16;
    struct hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const {
            return std::hash<std::string_view>{}(s);
        }
    };
    struct entry {
        user who;
        std::optional<std::int64_t> nbf;
    };
    struct stripe {
        std::mutex mu;
        std::unordered_map<std::string, entry, hash, std::equal_to<>> map;
    };
    stripe& stripe_of(std::string_view token) { return stripes_[hash{}(token) % stripes]; }

    const std::size_t per_stripe_;
    const std::int64_t leeway_;
    std::array<stripe, stripes> stripes_;
};

} // namespace livehouse::services::auth
