// core::rate_limiter (see rate_limiter.hpp).
#include "core/rate_limiter.hpp"

#include <algorithm>
#include <cmath>

namespace livehouse::core {

double rate_limiter::refilled(const bucket& b, std::chrono::steady_clock::time_point now) const {
    const std::chrono::duration<double> elapsed = now - b.updated;
    // A clock that went backwards (it cannot, steady) would only delay the refill.
    const double add = std::max(0.0, elapsed.count()) * limit_.per_second;
    return std::min(limit_.burst, b.tokens + add);
}

rate_limiter::bucket* rate_limiter::find_refilled(std::string_view key,
                                                  std::chrono::steady_clock::time_point now) {
    auto it = buckets_.find(std::string(key));
    if (it == buckets_.end()) {
        if (buckets_.size() >= limit_.max_keys) {
            std::erase_if(buckets_,
                          [&](const auto& kv) { return refilled(kv.second, now) >= limit_.burst; });
        }
        if (buckets_.size() >= limit_.max_keys) {
            return nullptr;
        }
        it = buckets_.emplace(std::string(key), bucket{limit_.burst, now}).first;
    }
    auto& b = it->second;
    b.tokens = refilled(b, now);
    b.updated = now;
    return &b;
}

bool rate_limiter::try_acquire(std::string_view key, std::chrono::steady_clock::time_point now,
                               std::chrono::seconds* retry_after) {
    std::lock_guard lock(mu_);
    bucket* b = find_refilled(key, now);
    if (b == nullptr) {
        if (retry_after != nullptr) {
            *retry_after = std::chrono::seconds(1);
        }
        return false;
    }
    if (b->tokens >= 1.0) {
        b->tokens -= 1.0;
        return true;
    }
    if (retry_after != nullptr) {
        const double wait = limit_.per_second > 0 ? (1.0 - b->tokens) / limit_.per_second : 3600.0;
        *retry_after = std::chrono::seconds(static_cast<long long>(std::ceil(wait)));
    }
    return false;
}

std::size_t rate_limiter::take(std::string_view key, std::chrono::steady_clock::time_point now,
                               std::size_t wanted) {
    std::lock_guard lock(mu_);
    bucket* b = find_refilled(key, now);
    if (b == nullptr || wanted == 0) {
        return 0;
    }
    const auto whole = static_cast<std::size_t>(std::floor(b->tokens));
    const std::size_t got = std::min(wanted, whole);
    b->tokens -= static_cast<double>(got);
    return got;
}

std::size_t rate_limiter::size() const {
    std::lock_guard lock(mu_);
    return buckets_.size();
}

} // namespace livehouse::core
