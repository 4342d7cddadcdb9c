// The embedded durable streams (state/streams.hpp's contract): SQLite at
// <data_dir>/streams.db in WAL mode with synchronous=FULL, driven by one worker thread so that
// no event-loop thread ever waits on the disk.
//
// Group commit: the worker takes every call queued since its last pass and runs them in one
// transaction, then completes them all after the commit — an append is acknowledged only once
// it is on disk, and a burst of appends costs one fsync, not one each.
//
// Queue policy: at most `queue_limit` calls wait; past that a call fails at once with
// "streams: queue full" (the caller decides: retry later or refuse its own request), never
// blocks.
//
// Completions run on the worker thread.
#pragma once

#include "core/result.hpp"
#include "state/streams.hpp"

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

struct sqlite3;

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
    /// One queued call: `run` does its SQL inside the batch's transaction and says what to
    /// complete once the batch is committed; `fail` reports a failed commit instead.
    struct outcome {
        bool ok = true;                 ///< false: the call's own changes are rolled back
        std::function<void()> complete; ///< called after the batch's commit
    };
    struct task {
        std::function<outcome(sqlite3*)> run;
        std::function<void(const core::error&)> fail; ///< the batch's commit failed
    };

    /// An outcome that rolls the call back and completes it with `e`.
    template <typename T> static outcome failed(completion<T> done, core::error e) {
        return {false, [done = std::move(done), e = std::move(e)] { done(e); }};
    }

    sqlite_streams(sqlite3* db, std::size_t queue_limit);
    bool enqueue(task t);
    void worker();

    sqlite3* db_;
    const std::size_t queue_limit_;
    std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<task> queue_;
    bool stopping_ = false;
    std::thread thread_;
};

} // namespace livehouse::state::embedded
