// The analytics log of love (seed 002: tap logs shipped for offline analysis — Fluentd to HDFS
// there): every counted batch as one JSON line,
//
//   {"broadcast":"b42","user":"g-…","taps":[12.5,12.7],"time":1764700000000}
//
// appended to <data_dir>/love/taps-YYYYMMDD-HH.jsonl (UTC hour of the write: one file per
// hour, so a shipper takes the closed ones). Taps are written with 3 decimals (milliseconds of
// video time). Records are gathered in memory and formatted and written by one
// task at a time on the file pool (never on an event loop); the queue is bounded (max_queued
// lines): past it lines are dropped and counted (love_log_dropped_total), because the counts
// themselves are already safe in the state backend and analytics must never slow them down.
//
// Threading: add() from any thread.
#pragma once

#include "core/metrics.hpp"
#include "media/broadcast.hpp"

#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace livehouse::services::love {

class love_log : public std::enable_shared_from_this<love_log> {
  public:
    static std::shared_ptr<love_log> create(std::string data_dir, media::task_runner io,
                                            core::metrics_registry& metrics,
                                            std::size_t max_queued = 200000);
    ~love_log();
    love_log(const love_log&) = delete;
    love_log& operator=(const love_log&) = delete;

    /// Queues a line; the JSON is written on the file pool, not on the caller's thread.
    void add(const std::string& broadcast_id, const std::string& user_id, std::vector<double> taps,
             std::int64_t time_ms);

  private:
    love_log(std::string data_dir, media::task_runner io, core::metrics_registry& metrics,
             std::size_t max_queued);
    void write(); // on the file pool

    struct record {
        std::string broadcast_id;
        std::string user_id;
        std::vector<double> taps;
        std::int64_t time_ms = 0;
    };

    const std::string dir_;
    media::task_runner io_;
    const std::size_t max_queued_;
    core::counter* lines_ = nullptr;
    core::counter* dropped_ = nullptr;

    std::mutex mu_;
    std::vector<record> queued_;
    bool writing_ = false;

    // Touched only by the one write task running.
    std::FILE* file_ = nullptr;
    std::string file_name_;
};

} // namespace livehouse::services::love
