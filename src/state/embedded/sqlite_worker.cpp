// sqlite_worker: one SQLite connection, one thread, group commit.
#include "state/embedded/sqlite_worker.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sqlite3.h>
#include <vector>

namespace livehouse::state::embedded {

core::result<void> sqlite_exec(sqlite3* db, std::string_view component, const char* sql) {
    char* msg = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &msg) != SQLITE_OK) {
        auto e = core::make_error(fmt::format("{}: {}: {}", component, sql, msg ? msg : "error"));
        sqlite3_free(msg);
        return e;
    }
    return {};
}

sqlite_statement::sqlite_statement(sqlite3* db, std::string_view component, const char* sql)
    : db_(db), component_(component) {
    ok_ = sqlite3_prepare_v2(db, sql, -1, &s_, nullptr) == SQLITE_OK;
}

sqlite_statement::~sqlite_statement() {
    sqlite3_finalize(s_);
}

sqlite_statement& sqlite_statement::bind(int i, std::string_view text) {
    sqlite3_bind_text(s_, i, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
    return *this;
}

sqlite_statement& sqlite_statement::bind_blob(int i, std::string_view bytes) {
    sqlite3_bind_blob(s_, i, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
    return *this;
}

sqlite_statement& sqlite_statement::bind(int i, std::int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
}

int sqlite_statement::step() {
    return ok_ ? sqlite3_step(s_) : SQLITE_ERROR;
}

void sqlite_statement::reset() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
}

std::int64_t sqlite_statement::int64(int col) {
    return sqlite3_column_int64(s_, col);
}

std::string sqlite_statement::blob(int col) {
    const auto* p = static_cast<const char*>(sqlite3_column_blob(s_, col));
    return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(s_, col)))
             : std::string();
}

core::error sqlite_statement::error(std::string_view what) const {
    return core::make_error(fmt::format("{}: {}: {}", component_, what, sqlite3_errmsg(db_)));
}

core::result<std::unique_ptr<sqlite_worker>>
sqlite_worker::open(const std::string& path, std::string_view component, const char* schema_sql,
                    std::size_t queue_limit, std::string queue_full) {
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(path.c_str(), &db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        nullptr) != SQLITE_OK) {
        auto e = core::make_error(fmt::format("{}: open {}: {}", component, path,
                                              db ? sqlite3_errmsg(db) : "out of memory"));
        sqlite3_close(db);
        return e;
    }
    // WAL + synchronous=FULL: a commit is on disk (fsync'ed) when COMMIT returns, which is what
    // "completes once durable" promises.
    for (const char* sql : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL",
                            "PRAGMA busy_timeout=5000", schema_sql}) {
        if (auto r = sqlite_exec(db, component, sql); !r) {
            sqlite3_close(db);
            return r.err().wrap(path);
        }
    }
    return std::unique_ptr<sqlite_worker>(
        new sqlite_worker(db, component, queue_limit, std::move(queue_full)));
}

sqlite_worker::sqlite_worker(sqlite3* db, std::string_view component, std::size_t queue_limit,
                             std::string queue_full)
    : db_(db), component_(component), queue_limit_(queue_limit), queue_full_(std::move(queue_full)),
      thread_([this] { loop(); }) {}

sqlite_worker::~sqlite_worker() {
    close();
}

void sqlite_worker::close() {
    {
        std::lock_guard lock(mutex_);
        if (stopping_) {
            return;
        }
        stopping_ = true;
    }
    cv_.notify_all();
    thread_.join();
    sqlite3_close(db_);
    db_ = nullptr;
}

bool sqlite_worker::enqueue(task t) {
    {
        std::lock_guard lock(mutex_);
        if (stopping_ || queue_.size() >= queue_limit_) {
            return false;
        }
        queue_.push_back(std::move(t));
    }
    cv_.notify_one();
    return true;
}

void sqlite_worker::loop() {
    for (;;) {
        std::deque<task> batch;
        {
            std::unique_lock lock(mutex_);
            cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
            if (queue_.empty()) {
                return; // stopping, and everything queued has run
            }
            batch.swap(queue_);
        }
        if (auto r = sqlite_exec(db_, component_, "BEGIN IMMEDIATE"); !r) {
            for (auto& t : batch) {
                t.fail(r.err());
            }
            continue;
        }
        std::vector<std::function<void()>> completions;
        completions.reserve(batch.size());
        for (auto& t : batch) {
            // A savepoint per call: one failing call does not undo the others of its batch.
            (void)sqlite_exec(db_, component_, "SAVEPOINT call");
            auto o = t.run(db_);
            if (!o.ok) {
                (void)sqlite_exec(db_, component_, "ROLLBACK TO call");
            }
            (void)sqlite_exec(db_, component_, "RELEASE call");
            completions.push_back(std::move(o.complete));
        }
        if (auto r = sqlite_exec(db_, component_, "COMMIT"); !r) {
            spdlog::error("{}", r.err().message);
            (void)sqlite_exec(db_, component_, "ROLLBACK");
            for (auto& t : batch) {
                t.fail(r.err());
            }
            continue;
        }
        for (auto& c : completions) {
            c();
        }
    }
}

} // namespace livehouse::state::embedded
