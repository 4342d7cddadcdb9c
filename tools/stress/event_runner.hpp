// event_runner: a scenario's [[events]] (fault injection, seed 004), each run through
// /bin/sh -c at its time on a thread of its own, so a command that takes a while (stopping a
// database) never holds up the load. The report puts them on the timeline.
#pragma once

#include "stress/load_run.hpp"
#include "stress/scenario.hpp"

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace livehouse::stress {

class event_runner {
  public:
    event_runner(std::vector<event> events, std::chrono::steady_clock::time_point start);
    /// Stops waiting for events not yet due (a command already running is waited for).
    ~event_runner();
    event_runner(const event_runner&) = delete;
    event_runner& operator=(const event_runner&) = delete;

    /// Stops, joins, and returns what ran (events not reached are left out).
    std::vector<event_result> finish();

  private:
    void loop();

    std::vector<event> events_;
    const std::chrono::steady_clock::time_point start_;
    std::mutex mutex_;
    std::condition_variable cv_;
    bool stopping_ = false;
    std::vector<event_result> results_;
    std::thread thread_;
};

} // namespace livehouse::stress
