// sqlite_checkpointer (see sqlite_checkpointer.hpp).
#include "state/embedded/sqlite_checkpointer.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sqlite3.h>

namespace livehouse::state::embedded {

core::result<std::unique_ptr<sqlite_checkpointer>>
sqlite_checkpointer::attach(sqlite3* writer, const std::string& path, std::string_view component,
                            options o) {
    sqlite3* own = nullptr;
    if (sqlite3_open_v2(path.c_str(), &own, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) !=
        SQLITE_OK) {
        auto e = core::make_error(fmt::format("{}: checkpoint connection {}: {}", component, path,
                                              own ? sqlite3_errmsg(own) : "out of memory"));
        sqlite3_close(own);
        return e;
    }
    std::unique_ptr<sqlite_checkpointer> c(new sqlite_checkpointer(writer, own, component, o));
    // Replaces the automatic checkpoint (sqlite3_wal_autocheckpoint is itself a wal hook).
    sqlite3_wal_hook(writer, &sqlite_checkpointer::on_commit, c.get());
    return c;
}

sqlite_checkpointer::sqlite_checkpointer(sqlite3* writer, sqlite3* own, std::string_view component,
                                         options o)
    : writer_db_(writer), own_db_(own), component_(component), options_(o),
      thread_([this] { loop(); }) {}

sqlite_checkpointer::~sqlite_checkpointer() {
    sqlite3_wal_hook(writer_db_, nullptr, nullptr);
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    cv_.notify_all();
    thread_.join();
    sqlite3_close(own_db_);
}

int sqlite_checkpointer::on_commit(void* self, sqlite3* db, const char* name, int pages) {
    auto* c = static_cast<sqlite_checkpointer*>(self);
    if (pages >= c->options_.hard_limit_pages) {
        // The background could not catch up with a writer that never pauses: checkpoint here,
        // between the writer's transactions, so the next write restarts the WAL.
        int log = 0;
        int done = 0;
        if (sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, &log, &done) ==
            SQLITE_OK) {
            c->writer_.fetch_add(1);
        }
        return SQLITE_OK;
    }
    if (pages >= c->options_.threshold_pages) {
        {
            std::lock_guard lock(c->mutex_);
            c->wanted_ = true;
        }
        c->cv_.notify_one();
    }
    return SQLITE_OK;
}

void sqlite_checkpointer::loop() {
    for (;;) {
        {
            std::unique_lock lock(mutex_);
            cv_.wait(lock, [&] { return stopping_ || wanted_; });
            if (stopping_) {
                return;
            }
            wanted_ = false;
        }
        int log = 0;
        int done = 0;
        const int rc =
            sqlite3_wal_checkpoint_v2(own_db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
        if (rc == SQLITE_OK) {
            background_.fetch_add(1);
        } else if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED) {
            spdlog::warn("{}: background checkpoint: {}", component_, sqlite3_errmsg(own_db_));
        }
    }
}

} // namespace livehouse::state::embedded
