// latency_histogram: bucket layout, percentile error bound, exact merge.
#include "core/latency_histogram.hpp"

#include <algorithm>
#include <cstdint>
#include <gtest/gtest.h>
#include <random>
#include <vector>

namespace livehouse::core {
namespace {

TEST(LatencyHistogram, BucketsTileTheRangeWithoutGaps) {
    std::uint64_t next = 0;
    for (std::size_t b = 0; b < latency_histogram::bucket_count; ++b) {
        const auto hi = latency_histogram::upper_bound(b);
        ASSERT_EQ(latency_histogram::bucket_of(next), b) << "bucket " << b << " starts at " << next;
        ASSERT_EQ(latency_histogram::bucket_of(hi), b);
        ASSERT_GE(hi, next);
        // Width at most 1/32 of the bucket's values (3.1 %), exact below 64 µs.
        if (next >= 64) {
            ASSERT_LE(static_cast<double>(hi - next + 1) / static_cast<double>(next), 1.0 / 32);
        } else {
            ASSERT_EQ(hi, next);
        }
        next = hi + 1;
    }
    EXPECT_EQ(next - 1, latency_histogram::max_micros);
    EXPECT_EQ(latency_histogram::bucket_of(latency_histogram::max_micros * 4),
              latency_histogram::bucket_count - 1)
        << "clamped";
}

TEST(LatencyHistogram, PercentilesOfAKnownDistribution) {
    latency_histogram h;
    EXPECT_EQ(h.percentile(0.99), 0u);
    for (std::uint64_t v = 1; v <= 10000; ++v) {
        h.record(v * 100); // 100 µs .. 1 s, uniform
    }
    EXPECT_EQ(h.count(), 10000u);
    EXPECT_EQ(h.min(), 100u);
    EXPECT_EQ(h.max(), 1000000u);
    EXPECT_NEAR(h.mean(), 500050.0, 0.5);
    const struct {
        double q;
        double exact;
    } cases[] = {{0.5, 500000}, {0.9, 900000}, {0.99, 990000}, {0.999, 999000}, {1.0, 1000000}};
    for (const auto& c : cases) {
        const auto got = static_cast<double>(h.percentile(c.q));
        EXPECT_GE(got, c.exact) << c.q;
        EXPECT_LE(got, c.exact * (1 + 1.0 / 32)) << c.q;
    }
}

TEST(LatencyHistogram, OneStallShowsInTheTail) {
    // 9,990 fast answers and 10 that waited a second: p99 fast, p99.9 the stall.
    latency_histogram h;
    h.record(500, 9990);
    h.record(1000000, 10);
    EXPECT_LT(h.percentile(0.99), 600u);
    EXPECT_GE(h.percentile(0.9995), 1000000u);
    EXPECT_EQ(h.percentile(1.0), 1000000u) << "never above the largest value recorded";
}

TEST(LatencyHistogram, MergeIsExact) {
    std::mt19937_64 rng(42);
    std::lognormal_distribution<double> d(8.0, 1.5);
    latency_histogram a;
    latency_histogram b;
    latency_histogram all;
    for (int i = 0; i < 100000; ++i) {
        const auto v = static_cast<std::uint64_t>(d(rng));
        (i % 3 == 0 ? a : b).record(v);
        all.record(v);
    }
    latency_histogram merged;
    merged.merge(a);
    merged.merge(b);
    EXPECT_EQ(merged.count(), all.count());
    EXPECT_EQ(merged.min(), all.min());
    EXPECT_EQ(merged.max(), all.max());
    EXPECT_DOUBLE_EQ(merged.mean(), all.mean());
    for (std::size_t i = 0; i < latency_histogram::bucket_count; ++i) {
        ASSERT_EQ(merged.bucket(i), all.bucket(i)) << i;
    }
    for (double q : {0.5, 0.9, 0.99, 0.999}) {
        EXPECT_EQ(merged.percentile(q), all.percentile(q));
    }
    merged.reset();
    EXPECT_EQ(merged.count(), 0u);
    EXPECT_EQ(merged.max(), 0u);
}

TEST(LatencyHistogram, SnapshotRestoresExactly) {
    std::mt19937_64 rng(7);
    std::lognormal_distribution<double> d(9.0, 2.0);
    latency_histogram h;
    for (int i = 0; i < 50000; ++i) {
        h.record(static_cast<std::uint64_t>(d(rng)));
    }
    const auto s = h.snapshot();
    EXPECT_LT(s.buckets.size(), latency_histogram::bucket_count);
    const auto back = latency_histogram::restore(s);
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->count(), h.count());
    EXPECT_EQ(back->min(), h.min());
    EXPECT_EQ(back->max(), h.max());
    EXPECT_EQ(back->sum(), h.sum());
    for (std::size_t i = 0; i < latency_histogram::bucket_count; ++i) {
        ASSERT_EQ(back->bucket(i), h.bucket(i)) << i;
    }
    // An empty one too.
    const auto empty = latency_histogram::restore(latency_histogram{}.snapshot());
    ASSERT_TRUE(empty.has_value());
    EXPECT_EQ(empty->count(), 0u);
}

TEST(LatencyHistogram, RestoreRefusesWhatNoHistogramHolds) {
    latency_histogram h;
    h.record(100);
    h.record(5000);
    const auto good = h.snapshot();
    ASSERT_TRUE(latency_histogram::restore(good).has_value());
    auto bad = good;
    bad.buckets[1].first = static_cast<std::uint32_t>(latency_histogram::bucket_count);
    EXPECT_FALSE(latency_histogram::restore(bad).has_value()) << "index out of range";
    bad = good;
    std::swap(bad.buckets[0], bad.buckets[1]);
    EXPECT_FALSE(latency_histogram::restore(bad).has_value()) << "out of order";
    bad = good;
    bad.buckets[0].second = 0;
    EXPECT_FALSE(latency_histogram::restore(bad).has_value()) << "zero count";
    bad = good;
    bad.buckets[0].second = ~std::uint64_t{0};
    EXPECT_FALSE(latency_histogram::restore(bad).has_value()) << "overflow";
    bad = good;
    bad.min = 4000;
    EXPECT_FALSE(latency_histogram::restore(bad).has_value()) << "min not in the first bucket";
    bad = good;
    bad.max = 1u << 20;
    EXPECT_FALSE(latency_histogram::restore(bad).has_value()) << "max not in the last bucket";
    bad = latency_histogram{}.snapshot();
    bad.sum = 1;
    EXPECT_FALSE(latency_histogram::restore(bad).has_value()) << "an empty one with a sum";
}

} // namespace
} // namespace livehouse::core
