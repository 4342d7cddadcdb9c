// latency_histogram (see latency_histogram.hpp).
#include "core/latency_histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace livehouse::core {

std::size_t latency_histogram::bucket_of(std::uint64_t v) noexcept {
    v = std::min(v, max_micros);
    if (v < (std::uint64_t{1} << sub_bits)) {
        return static_cast<std::size_t>(v);
    }
    // v in [2^k, 2^(k+1)), k >= sub_bits: the top sub_bits bits select one of 32 buckets.
    const int k = 63 - std::countl_zero(v);
    const auto offset = static_cast<std::size_t>((v >> (k - sub_bits + 1)) - half);
    return (std::size_t{1} << sub_bits) + static_cast<std::size_t>(k - sub_bits) * half + offset;
}

std::uint64_t latency_histogram::upper_bound(std::size_t b) noexcept {
    if (b < (std::size_t{1} << sub_bits)) {
        return b;
    }
    const std::size_t rest = b - (std::size_t{1} << sub_bits);
    const int k = static_cast<int>(rest / half) + sub_bits;
    const std::uint64_t sub = (rest % half) + half;
    const int shift = k - sub_bits + 1;
    return ((sub + 1) << shift) - 1;
}

void latency_histogram::record(std::uint64_t micros, std::uint64_t n) noexcept {
    if (n == 0) {
        return;
    }
    micros = std::min(micros, max_micros);
    counts_[bucket_of(micros)] += n;
    count_ += n;
    sum_ += micros * n;
    min_ = std::min(min_, micros);
    max_ = std::max(max_, micros);
}

void latency_histogram::merge(const latency_histogram& o) noexcept {
    for (std::size_t i = 0; i < bucket_count; ++i) {
        counts_[i] += o.counts_[i];
    }
    count_ += o.count_;
    sum_ += o.sum_;
    min_ = std::min(min_, o.min_);
    max_ = std::max(max_, o.max_);
}

latency_histogram::state latency_histogram::snapshot() const {
    state s;
    for (std::size_t i = 0; i < bucket_count; ++i) {
        if (counts_[i] != 0) {
            s.buckets.emplace_back(static_cast<std::uint32_t>(i), counts_[i]);
        }
    }
    s.sum = sum_;
    s.min = min();
    s.max = max_;
    return s;
}

std::optional<latency_histogram> latency_histogram::restore(const state& s) {
    latency_histogram h;
    std::optional<std::uint32_t> last;
    for (const auto& [i, n] : s.buckets) {
        if (i >= bucket_count || n == 0 || (last && i <= *last) ||
            h.count_ > std::numeric_limits<std::uint64_t>::max() - n) {
            return std::nullopt;
        }
        last = i;
        h.counts_[i] = n;
        h.count_ += n;
    }
    if (h.count_ == 0) {
        return s.sum == 0 && s.min == 0 && s.max == 0 ? std::optional(h) : std::nullopt;
    }
    // min falls in the first bucket, max in the last.
    const auto first = s.buckets.front().first;
    if (bucket_of(s.min) != first || bucket_of(s.max) != *last || s.min > s.max ||
        s.max > max_micros) {
        return std::nullopt;
    }
    h.sum_ = s.sum;
    h.min_ = s.min;
    h.max_ = s.max;
    return h;
}

void latency_histogram::reset() noexcept {
    *this = latency_histogram{};
}

std::uint64_t latency_histogram::percentile(double q) const noexcept {
    if (count_ == 0) {
        return 0;
    }
    q = std::clamp(q, 0.0, 1.0);
    // The rank of the sample wanted: at least 1, at most count.
    const auto rank = std::max<std::uint64_t>(
        1, static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_))));
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < bucket_count; ++i) {
        seen += counts_[i];
        if (seen >= rank) {
            return std::min(upper_bound(i), max_);
        }
    }
    return max_;
}

} // namespace livehouse::core
