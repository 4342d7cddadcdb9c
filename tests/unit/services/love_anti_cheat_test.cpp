// love::judge: range first, then batch size, then the viewer's rate; trimmed, never rejected
// whole; the rate bucket refills with time (core::rate_limiter, as the service uses it).
#include "core/rate_limiter.hpp"
#include "services/love/anti_cheat.hpp"

#include <chrono>
#include <gtest/gtest.h>
#include <vector>

namespace livehouse::services::love {
namespace {

std::function<std::size_t(std::size_t)> unlimited() {
    return [](std::size_t n) { return n; };
}

TEST(LoveAntiCheat, TapsOutsideWhatTheViewerCouldHavePlayedAreRejected) {
    const love_policy p{.max_tap_age_s = 60, .ahead_slack_s = 5};
    const auto range = playable(p, 100); // live edge at 100 s: [40, 105]
    EXPECT_DOUBLE_EQ(range.from_s, 40);
    EXPECT_DOUBLE_EQ(range.to_s, 105);
    const std::vector<double> taps{10, 39.9, 40, 70, 104.9, 105, 105.1, 3600};
    const auto j = judge(p, taps, range, unlimited());
    EXPECT_EQ(j.accepted, (std::vector<double>{40, 70, 104.9, 105}));
    EXPECT_EQ(j.out_of_range, 4U);
    EXPECT_EQ(j.over_batch + j.over_rate, 0U);
    // Early in a broadcast the range starts at 0.
    EXPECT_DOUBLE_EQ(playable(p, 3).from_s, 0);
}

TEST(LoveAntiCheat, HugeBatchesAreTrimmedToTheFirstM) {
    const love_policy p{.max_taps_per_batch = 3};
    const std::vector<double> taps{1, 2, 3, 4, 5, 999999};
    const auto j = judge(p, taps, {0, 100}, unlimited());
    EXPECT_EQ(j.accepted, (std::vector<double>{1, 2, 3}));
    EXPECT_EQ(j.over_batch, 2U);
    EXPECT_EQ(j.out_of_range, 1U);
}

TEST(LoveAntiCheat, BurstsAboveTheRateAreTrimmedAndTheBucketRefills) {
    const love_policy p{.taps_per_second = 10, .burst_taps = 20, .max_taps_per_batch = 100};
    core::rate_limiter buckets({.per_second = p.taps_per_second, .burst = p.burst_taps});
    auto t = std::chrono::steady_clock::time_point(std::chrono::seconds(1000));
    const auto allowance = [&](std::size_t n) { return buckets.take("viewer", t, n); };
    const std::vector<double> fifty(50, 10.0);
    auto j = judge(p, fifty, {0, 100}, allowance);
    EXPECT_EQ(j.accepted.size(), 20U) << "the burst";
    EXPECT_EQ(j.over_rate, 30U);
    j = judge(p, fifty, {0, 100}, allowance);
    EXPECT_EQ(j.accepted.size(), 0U) << "nothing left at the same instant";
    t += std::chrono::seconds(2); // 10/s for 2 s
    j = judge(p, fifty, {0, 100}, allowance);
    EXPECT_EQ(j.accepted.size(), 20U);
    EXPECT_EQ(j.over_rate, 30U);
    // Another viewer has their own bucket.
    EXPECT_EQ(buckets.take("other", t, 5), 5U);
}

TEST(LoveAntiCheat, TheAllowanceIsNotAskedWhenNothingIsLeft) {
    int asked = 0;
    const auto j = judge({}, std::vector<double>{-1, 1e9}, {0, 10}, [&](std::size_t n) {
        ++asked;
        return n;
    });
    EXPECT_TRUE(j.accepted.empty());
    EXPECT_EQ(asked, 0);
}

} // namespace
} // namespace livehouse::services::love
