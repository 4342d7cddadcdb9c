// A token bucket per key, in memory: `burst` tokens at once, refilled at `per_second`. Used
// for what costs nothing to ask for and must not be free to flood: guest tokens per client
// address, chat messages per user, love taps per viewer (take(): up to n tokens at once).
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

namespace livehouse::core {

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

    /// Takes up to `wanted` whole tokens from `key`'s bucket at `now` and returns how many it
    /// got (0 when empty, or when the map is full of other keys).
    std::size_t take(std::string_view key, std::chrono::steady_clock::time_point now,
                     std::size_t wanted);

    /// Buckets held (for tests).
    [[nodiscard]] std::size_t size() const;

  private:
    struct bucket {
        double tokens = 0;
        std::chrono::steady_clock::time_point updated;
    };

    [[nodiscard]] double refilled(const bucket& b, std::chrono::steady_clock::time_point now) const;
    /// The key's bucket refilled to `now`, created full if new; nullptr when the map is full.
    bucket* find_refilled(std::string_view key, std::chrono::steady_clock::time_point now);

    rate_limit limit_;
    mutable std::mutex mu_;
    std::unordered_map<std::string, bucket> buckets_;
};

} // namespace livehouse::core
