// latency_histogram: log-linear buckets of durations in microseconds, constant memory,
// mergeable exactly (the load tester's workers add theirs into the coordinator's), percentiles
// with a bounded relative error.
//
// The layout is HdrHistogram's: values below 2^sub_bits (64 µs) each have a bucket of their
// own; above, every power of two [2^k, 2^(k+1)) is split into 2^(sub_bits-1) = 32 equal
// buckets, so a bucket is at most 1/32 (3.1 %) of its values wide — a recorded 100.0 ms reads
// back between 100.0 and 103.2 ms. Values are clamped to [0, max_micros] (about 73 minutes),
// which takes 896 buckets of 8 bytes: 7 KiB per histogram, whatever the number of samples.
//
// Not thread-safe: one per thread (the event loop), merged when reported.
#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <optional>
#include <utility>
#include <vector>

namespace livehouse::core {

class latency_histogram {
  public:
    static constexpr int sub_bits = 6;
    static constexpr int max_exponent = 32; ///< largest power of two covered: 2^32 µs
    static constexpr std::uint64_t max_micros = (std::uint64_t{1} << max_exponent) - 1;
    static constexpr std::size_t half = std::size_t{1} << (sub_bits - 1); ///< 32
    static constexpr std::size_t bucket_count =
        (std::size_t{1} << sub_bits) + (max_exponent - sub_bits) * half;

    void record(std::uint64_t micros, std::uint64_t count = 1) noexcept;
    /// Adds every sample of `other` (exact: the same buckets).
    void merge(const latency_histogram& other) noexcept;
    void reset() noexcept;

    [[nodiscard]] std::uint64_t count() const noexcept { return count_; }
    [[nodiscard]] std::uint64_t min() const noexcept { return count_ == 0 ? 0 : min_; }
    [[nodiscard]] std::uint64_t max() const noexcept { return max_; }
    [[nodiscard]] double mean() const noexcept {
        return count_ == 0 ? 0.0 : static_cast<double>(sum_) / static_cast<double>(count_);
    }
    /// The smallest recorded value v such that at least q of the samples are <= v, reported as
    /// its bucket's upper bound (never more than max()). q in [0, 1]; 0 with no samples.
    [[nodiscard]] std::uint64_t percentile(double q) const noexcept;

    /// The bucket a value falls in, and the largest value of a bucket (exposed for tests and
    /// for serializing the buckets).
    static std::size_t bucket_of(std::uint64_t micros) noexcept;
    static std::uint64_t upper_bound(std::size_t bucket) noexcept;
    [[nodiscard]] std::uint64_t bucket(std::size_t i) const noexcept { return counts_[i]; }
    [[nodiscard]] std::uint64_t sum() const noexcept { return sum_; }

    /// Everything a histogram holds, compactly: what one process sends another to merge (the
    /// load tester's workers to their coordinator). restore(snapshot()) equals the original.
    struct state {
        std::vector<std::pair<std::uint32_t, std::uint64_t>> buckets; ///< non-empty, ascending
        std::uint64_t sum = 0;
        std::uint64_t min = 0;
        std::uint64_t max = 0;
    };
    [[nodiscard]] state snapshot() const;
    /// nullopt when `s` cannot be a histogram's: a bucket index out of range or repeated or
    /// out of order, a zero count, counts that overflow, or min/max outside the buckets' range.
    static std::optional<latency_histogram> restore(const state& s);

  private:
    std::array<std::uint64_t, bucket_count> counts_{};
    std::uint64_t count_ = 0;
    std::uint64_t sum_ = 0;
    std::uint64_t min_ = std::numeric_limits<std::uint64_t>::max();
    std::uint64_t max_ = 0;
};

} // namespace livehouse::core
