// sqlite_checkpointer: WAL checkpoints of an embedded store on their own connection and
// thread, so the writer's commits do not wait for them.
//
// SQLite's default (wal_autocheckpoint=1000) runs a checkpoint inside the COMMIT that pushed
// the WAL past 1,000 pages: that commit copies every page back into the database and fsyncs
// it, and every call of its batch waits. Under the love benchmark those commits were the p99
// (38.7 ms with automatic checkpoints, 27.6 ms with none at all). Here the writer's commit hook
// (sqlite3_wal_hook, which replaces the automatic checkpoint) only wakes this thread, which runs
// a PASSIVE checkpoint from a second connection: it copies what the WAL holds without taking
// the writer's lock (https://www.sqlite.org/c3ref/wal_checkpoint_v2.html).
//
// Bound: the WAL restarts from its start only when a write begins after a checkpoint copied
// every frame, and a writer that pauses less than a checkpoint takes never lets that happen
// (measured: 300 pages written with 2 ms pauses, the background checkpoints never caught up).
// So past `hard_limit_pages` the hook checkpoints on the writer's own connection, between its
// transactions, as SQLite does by default — but the background has already copied nearly
// every frame by then, so the writer copies only the last few and the WAL restarts.
#pragma once

#include "core/result.hpp"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

struct sqlite3;

namespace livehouse::state::embedded {

class sqlite_checkpointer {
  public:
    struct options {
        int threshold_pages = 1000;  ///< WAL pages that wake the background checkpoint
        int hard_limit_pages = 4000; ///< ~16 MiB of 4 KiB pages: then the writer checkpoints
    };

    /// Installs the commit hook on `writer` (whose thread keeps using it) and opens a second
    /// connection to `path` for the checkpoints. Call before the writer's first write.
    static core::result<std::unique_ptr<sqlite_checkpointer>>
    attach(sqlite3* writer, const std::string& path, std::string_view component, options o);
    static core::result<std::unique_ptr<sqlite_checkpointer>>
    attach(sqlite3* writer, const std::string& path, std::string_view component) {
        return attach(writer, path, component, options{});
    }

    /// Removes the hook (call on the writer's thread, or once it stopped), stops the thread,
    /// closes the second connection.
    ~sqlite_checkpointer();
    sqlite_checkpointer(const sqlite_checkpointer&) = delete;
    sqlite_checkpointer& operator=(const sqlite_checkpointer&) = delete;

    /// Checkpoints run in the background / by the writer past the hard limit (tests).
    [[nodiscard]] std::uint64_t background_checkpoints() const { return background_.load(); }
    [[nodiscard]] std::uint64_t writer_checkpoints() const { return writer_.load(); }

  private:
    sqlite_checkpointer(sqlite3* writer, sqlite3* reader, std::string_view component, options o);
    static int on_commit(void* self, sqlite3* db, const char* name, int pages);
    void loop();

    sqlite3* writer_db_;
    sqlite3* own_db_;
    const std::string component_;
    const options options_;
    std::mutex mutex_;
    std::condition_variable cv_;
    bool wanted_ = false;
    bool stopping_ = false;
    std::atomic<std::uint64_t> background_{0};
    std::atomic<std::uint64_t> writer_{0};
    std::thread thread_;
};

} // namespace livehouse::state::embedded
