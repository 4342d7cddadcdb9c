// core::rate_limiter: token buckets per key, bounded map, take() of several tokens at once.
#include "core/rate_limiter.hpp"

#include <chrono>
#include <gtest/gtest.h>
#include <string>

namespace livehouse::core {
namespace {

TEST(RateLimiter, BurstThenRefill) {
    rate_limiter rl({.per_second = 10.0 / 60.0, .burst = 10, .max_keys = 100});
    const auto t0 = std::chrono::steady_clock::time_point(std::chrono::seconds(100));
    for (int i = 0; i < 10; ++i) {
        EXPECT_TRUE(rl.try_acquire("1.2.3.4", t0)) << i;
    }
    std::chrono::seconds retry{0};
    EXPECT_FALSE(rl.try_acquire("1.2.3.4", t0, &retry));
    EXPECT_EQ(retry, std::chrono::seconds(6)); // one token per 6 s
    // Another key has its own bucket.
    EXPECT_TRUE(rl.try_acquire("5.6.7.8", t0));
    EXPECT_FALSE(rl.try_acquire("1.2.3.4", t0 + std::chrono::seconds(5)));
    EXPECT_TRUE(
        rl.try_acquire("1.2.3.4", t0 + std::chrono::seconds(6) + std::chrono::milliseconds(500)));
    EXPECT_FALSE(rl.try_acquire("1.2.3.4", t0 + std::chrono::seconds(7)));
    // Never more than the burst, however long the wait.
    const auto later = t0 + std::chrono::hours(5);
    int granted = 0;
    while (rl.try_acquire("1.2.3.4", later)) {
        ++granted;
    }
    EXPECT_EQ(granted, 10);
}

TEST(RateLimiter, MapStaysBounded) {
    rate_limiter rl({.per_second = 1, .burst = 2, .max_keys = 3});
    const auto t0 = std::chrono::steady_clock::time_point(std::chrono::seconds(100));
    EXPECT_TRUE(rl.try_acquire("a", t0));
    EXPECT_TRUE(rl.try_acquire("b", t0));
    EXPECT_TRUE(rl.try_acquire("c", t0));
    // Full of buckets still refilling: a newcomer is refused, the known keys are not.
    EXPECT_FALSE(rl.try_acquire("d", t0));
    EXPECT_TRUE(rl.try_acquire("a", t0));
    EXPECT_EQ(rl.size(), 3U);
    // Once b and c refilled (a is empty again), they are dropped and d fits.
    const auto t1 = t0 + std::chrono::seconds(1);
    EXPECT_TRUE(rl.try_acquire("d", t1));
    EXPECT_LE(rl.size(), 3U);
    for (int i = 0; i < 1000; ++i) {
        (void)rl.try_acquire(std::to_string(i), t1 + std::chrono::seconds(10 * i));
        ASSERT_LE(rl.size(), 3U);
    }
}

TEST(RateLimiter, TakeGrantsWholeTokensUpToWhatIsWanted) {
    rate_limiter rl({.per_second = 10, .burst = 50, .max_keys = 10});
    const auto t0 = std::chrono::steady_clock::time_point(std::chrono::seconds(100));
    EXPECT_EQ(rl.take("v", t0, 30), 30U); // a new key starts full
    EXPECT_EQ(rl.take("v", t0, 30), 20U); // the rest of the burst, not more
    EXPECT_EQ(rl.take("v", t0, 5), 0U);
    // 10 per second: 1.25 s later, 12 whole tokens (the quarter waits for the next call).
    EXPECT_EQ(rl.take("v", t0 + std::chrono::milliseconds(1250), 100), 12U);
    EXPECT_EQ(rl.take("v", t0 + std::chrono::milliseconds(1300), 100), 1U);
    EXPECT_EQ(rl.take("v", t0 + std::chrono::hours(1), 0), 0U);
    EXPECT_EQ(rl.take("v", t0 + std::chrono::hours(1), 1000), 50U) << "never above the burst";
}

} // namespace
} // namespace livehouse::core
