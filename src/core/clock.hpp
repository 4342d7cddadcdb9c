// The clock seam: services and state machines take a clock so tests can move time by hand.
#pragma once

#include <atomic>
#include <chrono>

namespace livehouse::core {

class clock {
  public:
    virtual ~clock() = default;
    /// Monotonic time, for durations, timeouts and grace periods.
    [[nodiscard]] virtual std::chrono::steady_clock::time_point now() const = 0;
    /// Wall time, for EXT-X-PROGRAM-DATE-TIME and records.
    [[nodiscard]] virtual std::chrono::system_clock::time_point wall() const = 0;
};

class system_clock final : public clock {
  public:
    [[nodiscard]] std::chrono::steady_clock::time_point now() const override {
        return std::chrono::steady_clock::now();
    }
    [[nodiscard]] std::chrono::system_clock::time_point wall() const override {
        return std::chrono::system_clock::now();
    }
};

/// A clock tests advance by hand. Thread-safe reads.
class manual_clock final : public clock {
  public:
    [[nodiscard]] std::chrono::steady_clock::time_point now() const override {
        return std::chrono::steady_clock::time_point(std::chrono::nanoseconds(steady_ns_.load()));
    }
    [[nodiscard]] std::chrono::system_clock::time_point wall() const override {
        return std::chrono::system_clock::time_point(
            std::chrono::duration_cast<std::chrono::system_clock::duration>(
                std::chrono::nanoseconds(wall_ns_.load())));
    }
    void advance(std::chrono::nanoseconds d) {
        steady_ns_ += d.count();
        wall_ns_ += d.count();
    }

  private:
    std::atomic<long long> steady_ns_{1'000'000'000};
    std::atomic<long long> wall_ns_{1'767'225'600'000'000'000}; // 2026-01-01T00:00:00Z
};

} // namespace livehouse::core
