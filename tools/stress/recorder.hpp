// recorder: where one event loop's requests are counted (its run_stats, the live counters),
// shared by the HTTP flows and the HLS viewers of that loop. Not thread-safe: one per loop.
#pragma once

#include "stress/load_run.hpp"

#include <algorithm>
#include <chrono>
#include <string>

namespace livehouse::stress {

class recorder {
  public:
    using clock_type = std::chrono::steady_clock;

    recorder(run_stats& stats, clock_type::time_point start, live_counters* live)
        : stats_(stats), start_(start), live_(live) {}

    static std::uint64_t micros_between(clock_type::time_point from, clock_type::time_point to) {
        return to <= from
                   ? 0
                   : static_cast<std::uint64_t>(
                         std::chrono::duration_cast<std::chrono::microseconds>(to - from).count());
    }

    /// One request of `step_name`, meant to start at `intended`, done at `done`; `error` empty
    /// when it succeeded, else its kind ("status", "timeout", "connect"...).
    void request(const std::string& step_name, clock_type::time_point intended,
                 clock_type::time_point done, int status, std::string_view error) {
        request(stats_.steps[step_name], intended, done, status, error);
    }

    /// The same, into a step's statistics the caller looked up once (stats().steps[name]).
    void request(step_stats& st, clock_type::time_point intended, clock_type::time_point done,
                 int status, std::string_view error) {
        const auto us = micros_between(intended, done);
        st.latency.record(us);
        ++st.requests;
        ++st.statuses[status];
        const bool failed = !error.empty();
        if (failed) {
            ++st.failed;
            ++st.errors[std::string(error)];
        }
        auto& sec = second(done);
        ++sec.requests;
        sec.failed += failed ? 1 : 0;
        sec.latency.record(us);
        if (live_ != nullptr) {
            live_->requests.fetch_add(1, std::memory_order_relaxed);
            if (failed) {
                live_->failed.fetch_add(1, std::memory_order_relaxed);
            }
        }
    }

    void dropped(clock_type::time_point intended) {
        ++stats_.dropped;
        second(intended).dropped += 1;
        if (live_ != nullptr) {
            live_->dropped.fetch_add(1, std::memory_order_relaxed);
        }
    }

    void connections(std::int64_t delta) {
        if (live_ != nullptr) {
            live_->open_connections.fetch_add(delta, std::memory_order_relaxed);
        }
    }

    second_stats& second(clock_type::time_point t) {
        const auto i = static_cast<std::size_t>(std::max<std::int64_t>(
            0, std::chrono::duration_cast<std::chrono::seconds>(t - start_).count()));
        if (stats_.seconds.size() <= i) {
            stats_.seconds.resize(i + 1);
        }
        return stats_.seconds[i];
    }

    run_stats& stats() { return stats_; }

  private:
    run_stats& stats_;
    clock_type::time_point start_;
    live_counters* live_;
};

} // namespace livehouse::stress
