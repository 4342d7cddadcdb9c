// A token bucket per key (a client's address), in memory: `burst` requests at once, refilled
// at `per_second`. Used for guest-token creation, which costs nothing to ask for and must not
// be free to flood.
//
// Bounded: at most `max_keys` buckets. A new key that finds the map full first drops every
// bucket that has refilled completely (it is indistinguishable from a new one); if the map is
// still full, the new key is refused: under a flood from that many addresses, failing closed
// for newcomers is the stated policy, and keys already tracked keep their own budgets.
//
// Threading: one mutex; calls from any thread. The clock is passed in (core::clock::now()).
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace livehouse::services::auth {

struct rate_limit {
    double per_second = 10.0 / 60.0; ///< refill rate
    double burst = 10;               ///< bucket size (and the first burst a new key gets)
    std::size_t max_keys = 10000;
};

class rate_limiter {
  public:
    explicit rate_limiter(rate_limit limit) : limit_(limit) {}

    /// Takes one token from `key`'s bucket at `now`. False when the bucket is empty (then
    /// `retry_after`, if given, is the wait until the next token, rounded up to a second) or
    /// when the map is full of other keys.
    bool try_acquire(std::string_view key, std::chrono::steady_clock::time_point now,
                     std::chrono::seconds* retry_after = nullptr);

    /// Buckets held (for tests).
    [[nodiscard]] std::size_t size() const;

  private:
    struct bucket {
        double tokens = 0;
        std::chrono::steady_clock::time_point updated;
    };

    [[nodiscard]] double refilled(const bucket& b, std::chrono::steady_clock::time_point now) const;

    rate_limit limit_;
    mutable std::mutex mu_;
    std::unordered_map<std::string, bucket> buckets_;
};

} // namespace livehouse::services::auth
