// The embedded durable streams (state/streams.hpp's contract): SQLite at
// <data_dir>/streams.db in WAL mode with synchronous=FULL, driven by one worker thread so that
// no event-loop thread ever waits on the disk (sqlite_worker.hpp).
//
// Group commit: a burst of appends costs one fsync, and an append is acknowledged only once it
// is on disk.
//
// Queue policy: at most `queue_limit` calls wait; past that a call fails at once with
// "streams: queue full or closed" (the caller decides: retry later or refuse its own request),
// never blocks.
//
// Completions run on the worker thread.
#pragma once

#include "core/result.hpp"
#include "state/embedded/sqlite_worker.hpp"
#include "state/streams.hpp"

#include <memory>
#include <string>

namespace livehouse::state::embedded {

class sqlite_streams final : public streams {
  public:
    static constexpr std::size_t default_queue_limit = 65536;

    /// Opens (creating) <data_dir>/streams.db and starts the worker. The directory must exist.
    static core::result<std::unique_ptr<sqlite_streams>>
    open(const std::string& data_dir, std::size_t queue_limit = default_queue_limit);

    ~sqlite_streams() override;
    sqlite_streams(const sqlite_streams&) = delete;
    sqlite_streams& operator=(const sqlite_streams&) = delete;

    void append(std::string key, std::string payload, completion<std::string> done) override;
    void read(std::string key, std::string group, std::string consumer, std::size_t max,
              std::chrono::milliseconds claim_after,
              completion<std::vector<stream_entry>> done) override;
    void ack(std::string key, std::string group, std::vector<std::string> ids,
             completion<std::size_t> done) override;

    /// Runs what is queued, then stops the worker and closes the database. Idempotent.
    void close();

  private:
    explicit sqlite_streams(std::unique_ptr<sqlite_worker> worker) : worker_(std::move(worker)) {}

    std::unique_ptr<sqlite_worker> worker_;
};

} // namespace livehouse::state::embedded
