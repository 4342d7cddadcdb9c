// Persistent broadcast records: the embedded default, SQLite at <data_dir>/livehouse.db in WAL
// mode, one row per broadcast (times as unix milliseconds).
//
// Two write paths:
// - save(): a synchronous upsert, for start-up and tests;
// - save_later(): what the registry's change observer calls, possibly on an event-loop thread.
//   It only queues; a dedicated writer thread commits queued records in one transaction.
//
// Queue policy: records are coalesced by id (only the newest state of a broadcast matters for
// an upsert), so the queue holds at most one entry per broadcast. It is bounded at
// `queue_limit` distinct ids; when full (only if the disk stalls: changes are rare - a create
// or a status change), save_later() blocks the caller for at most 100 ms, then drops the record
// and logs an error (the next change of that broadcast writes it again).
//
// Threading: every public function is thread-safe. The destructor (or close()) drains the
// queue and joins the writer.
#pragma once

#include "core/result.hpp"
#include "media/broadcast.hpp"

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace livehouse::state {

class broadcast_store {
  public:
    static constexpr std::size_t default_queue_limit = 4096;

    /// Opens (creating if needed) <data_dir>/livehouse.db, sets WAL mode, creates the schema
    /// and starts the writer thread. The directory must exist.
    /// Errors: cannot open/create the file, not a database, schema failures - with the path.
    static core::result<std::unique_ptr<broadcast_store>>
    open(const std::string& data_dir, std::size_t queue_limit = default_queue_limit);

    ~broadcast_store();
    broadcast_store(const broadcast_store&) = delete;
    broadcast_store& operator=(const broadcast_store&) = delete;

    /// Every record, oldest first. Errors: SQLite errors, or a row with an unknown status.
    core::result<std::vector<media::broadcast_record>> load_all();
    /// Inserts or replaces the record with this id, now (blocking).
    core::result<void> save(const media::broadcast_record& record);
    /// Queues an upsert for the writer thread (see the queue policy above). Returns false if
    /// the record was dropped (queue full for 100 ms, or the store is closed).
    bool save_later(media::broadcast_record record);
    /// Waits until every record queued before the call is committed (tests, shutdown).
    void flush();
    /// Drains the queue, stops the writer and closes the database. Idempotent.
    void close();

    /// Records dropped by save_later() so far, and writes that failed.
    [[nodiscard]] std::size_t dropped() const;
    [[nodiscard]] std::size_t failed_writes() const;

  private:
    broadcast_store(sqlite3* db, std::string path, std::size_t queue_limit);
    void writer_loop();
    core::result<void> upsert_locked(const media::broadcast_record& record); // db_mutex_ held

    sqlite3* db_;
    sqlite3_stmt* upsert_ = nullptr;
    std::string path_;
    std::size_t queue_limit_;
    std::mutex db_mutex_; // one connection, used by one thread at a time

    mutable std::mutex queue_mutex_;
    std::condition_variable queue_cv_;   // writer waits for work
    std::condition_variable space_cv_;   // producers wait for room
    std::condition_variable drained_cv_; // flush() waits for commits
    std::deque<std::string> order_;
    std::unordered_map<std::string, media::broadcast_record> pending_;
    bool busy_ = false; // the writer holds a batch taken off the queue
    std::size_t dropped_ = 0;
    std::size_t failed_ = 0;
    bool closing_ = false;
    bool writer_done_ = false;
    std::thread writer_;
};

} // namespace livehouse::state
