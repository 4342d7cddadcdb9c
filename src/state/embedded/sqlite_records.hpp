// The embedded relational records (state/records.hpp's contract): SQLite at
// <data_dir>/records.db in WAL mode with synchronous=FULL, driven by one worker thread with
// group commit (sqlite_worker.hpp): a write completes once it is on disk.
//
// Queue policy: at most `queue_limit` calls wait; past that a call fails at once with
// "records unavailable: embedded queue full or closed" (a records_unavailable error: the API
// answers 503 instead of queueing without bound when the disk stalls), never blocks.
//
// Text is compared byte-wise (SQLite's BINARY collation), as the PostgreSQL backend does with
// COLLATE "C", so both order totals and archives the same way.
//
// Completions run on the worker thread.
#pragma once

#include "core/result.hpp"
#include "state/embedded/sqlite_worker.hpp"
#include "state/records.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace livehouse::state::embedded {

class sqlite_records final : public records {
  public:
    static constexpr std::size_t default_queue_limit = 65536;

    /// Opens (creating) <data_dir>/records.db and starts the worker. The directory must exist.
    /// Errors: the file cannot be opened or is not a database, schema failures — with the path.
    static core::result<std::unique_ptr<sqlite_records>>
    open(const std::string& data_dir, std::size_t queue_limit = default_queue_limit);

    ~sqlite_records() override;
    sqlite_records(const sqlite_records&) = delete;
    sqlite_records& operator=(const sqlite_records&) = delete;

    void put_total(total_record r, completion<void> done) override;
    void totals(std::string broadcast_id, completion<std::vector<total_record>> done) override;
    void put_purchase(purchase_record r, completion<bool> done) override;
    void purchases(std::string user_id, completion<std::vector<purchase_record>> done) override;
    void put_archive(archive_record r, completion<void> done) override;
    void archives(std::string broadcast_id, completion<std::vector<archive_record>> done) override;

    /// Runs what is queued, then stops the worker and closes the database. Idempotent.
    void close();

  private:
    explicit sqlite_records(std::unique_ptr<sqlite_worker> worker) : worker_(std::move(worker)) {}
    /// Completes `done` with `refused` if set (a field over its limit), else queues `run`.
    template <typename T>
    void call(std::optional<core::error> refused, completion<T> done,
              std::function<sqlite_worker::outcome(sqlite3*)> run);

    std::unique_ptr<sqlite_worker> worker_;
};

} // namespace livehouse::state::embedded
