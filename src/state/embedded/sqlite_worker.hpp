// One SQLite database driven by one worker thread, for the embedded stores whose calls are
// asynchronous (sqlite_streams, sqlite_records): no event-loop thread ever waits on the disk.
//
// Group commit: the worker takes every call queued since its last pass and runs them in one
// transaction (a savepoint each, so one failing call does not undo the others), then completes
// them all after the commit: a write is acknowledged only once it is on disk (WAL,
// synchronous=FULL), and a burst of writes costs one fsync, not one each.
//
// Queue policy: at most `queue_limit` calls wait; past that a call fails at once with the
// store's `queue_full` error, never blocks.
//
// Completions run on the worker thread.
#pragma once

#include "core/result.hpp"
#include "state/shared_state.hpp"

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

struct sqlite3;
struct sqlite3_stmt;

namespace livehouse::state::embedded {

/// Runs `sql` (one or more statements); errors read "<component>: <sql>: <sqlite message>".
core::result<void> sqlite_exec(sqlite3* db, std::string_view component, const char* sql);

/// A prepared statement that finalizes itself; binds by 1-based index. A failed prepare shows
/// as an error from step(). Errors read "<component>: <what>: <sqlite message>".
class sqlite_statement {
  public:
    sqlite_statement(sqlite3* db, std::string_view component, const char* sql);
    ~sqlite_statement();
    sqlite_statement(const sqlite_statement&) = delete;
    sqlite_statement& operator=(const sqlite_statement&) = delete;

    sqlite_statement& bind(int i, std::string_view text);
    sqlite_statement& bind_blob(int i, std::string_view bytes);
    sqlite_statement& bind(int i, std::int64_t v);
    /// SQLITE_ROW, SQLITE_DONE or an error code (also when the prepare failed).
    int step();
    void reset();
    std::int64_t int64(int col);
    /// The column's bytes (text or blob).
    std::string blob(int col);
    [[nodiscard]] core::error error(std::string_view what) const;

  private:
    sqlite3* db_;
    std::string_view component_;
    sqlite3_stmt* s_ = nullptr;
    bool ok_ = false;
};

class sqlite_worker {
  public:
    /// What a call's `run` says once it has done its SQL inside the batch's transaction.
    struct outcome {
        bool ok = true;                 ///< false: the call's own changes are rolled back
        std::function<void()> complete; ///< called after the batch's commit
    };

    /// Opens (creating) the database at `path` in WAL mode with synchronous=FULL, runs
    /// `schema_sql` and starts the worker. `component` ("streams", "records") prefixes every
    /// error; `queue_full` is the message of a call refused because the queue is full or closed.
    static core::result<std::unique_ptr<sqlite_worker>>
    open(const std::string& path, std::string_view component, const char* schema_sql,
         std::size_t queue_limit, std::string queue_full);

    ~sqlite_worker();
    sqlite_worker(const sqlite_worker&) = delete;
    sqlite_worker& operator=(const sqlite_worker&) = delete;

    /// An outcome that rolls the call back and completes it with `e`.
    template <typename T> static outcome failed(completion<T> done, core::error e) {
        return {false, [done = std::move(done), e = std::move(e)] { done(e); }};
    }

    /// Queues `run` (which completes `done` through its outcome); if the batch's commit fails,
    /// `done` gets that error instead; if the queue is full or closed, `done` gets `queue_full`
    /// at once, on the caller's thread.
    template <typename T> void submit(completion<T> done, std::function<outcome(sqlite3*)> run) {
        if (!enqueue({std::move(run), [done](const core::error& e) { done(e); }})) {
            done(core::make_error(queue_full_));
        }
    }

    /// Runs what is queued, then stops the worker and closes the database. Idempotent.
    void close();

  private:
    struct task {
        std::function<outcome(sqlite3*)> run;
        std::function<void(const core::error&)> fail; ///< the batch's commit failed
    };

    sqlite_worker(sqlite3* db, std::string_view component, std::size_t queue_limit,
                  std::string queue_full);
    bool enqueue(task t);
    void loop();

    sqlite3* db_;
    const std::string component_;
    const std::size_t queue_limit_;
    const std::string queue_full_;
    std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<task> queue_;
    bool stopping_ = false;
    std::thread thread_;
};

} // namespace livehouse::state::embedded
