// broadcast_store: SQLite persistence for broadcast records, with a single writer thread.
#include "state/broadcast_store.hpp"

#include <chrono>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sqlite3.h>

namespace livehouse::state {

namespace {

using wall_time = std::chrono::system_clock::time_point;

std::int64_t to_ms(wall_time t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

wall_time from_ms(std::int64_t ms) {
    return wall_time(
        std::chrono::duration_cast<wall_time::duration>(std::chrono::milliseconds(ms)));
}

constexpr int schema_version = 1;

constexpr const char* schema_sql = R"sql(
CREATE TABLE IF NOT EXISTS broadcasts (
    id          TEXT PRIMARY KEY,
    title       TEXT NOT NULL,
    stream_key  TEXT NOT NULL UNIQUE,
    status      TEXT NOT NULL,
    created_at  INTEGER NOT NULL,  -- unix ms
    started_at  INTEGER,           -- unix ms, NULL until first published
    ended_at    INTEGER            -- unix ms, NULL until ended
);
)sql";

// SQLite 3.24+ upsert: one statement whether the row exists or not.
constexpr const char* upsert_sql = R"sql(
INSERT INTO broadcasts (id, title, stream_key, status, created_at, started_at, ended_at)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
ON CONFLICT(id) DO UPDATE SET
    title = excluded.title, stream_key = excluded.stream_key, status = excluded.status,
    created_at = excluded.created_at, started_at = excluded.started_at,
    ended_at = excluded.ended_at
)sql";

core::error sqlite_error(sqlite3* db, std::string_view what) {
    return core::make_error(fmt::format("{}: {}", what, db ? sqlite3_errmsg(db) : "out of memory"));
}

core::result<void> exec(sqlite3* db, const char* sql, std::string_view what) {
    char* msg = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &msg) != SQLITE_OK) {
        auto e = core::make_error(fmt::format("{}: {}", what, msg ? msg : "unknown error"));
        sqlite3_free(msg);
        return e;
    }
    return {};
}

// Runs a single-value query (PRAGMA) and returns its first column as text.
core::result<std::string> query_text(sqlite3* db, const char* sql, std::string_view what) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) != SQLITE_OK) {
        return sqlite_error(db, what);
    }
    std::string out;
    const int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        const auto* text = sqlite3_column_text(stmt, 0);
        out = text ? reinterpret_cast<const char*>(text) : "";
    }
    sqlite3_finalize(stmt);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        return sqlite_error(db, what);
    }
    return out;
}

std::string column_text(sqlite3_stmt* stmt, int col) {
    const auto* text = sqlite3_column_text(stmt, col);
    return text ? std::string(reinterpret_cast<const char*>(text),
                              static_cast<std::size_t>(sqlite3_column_bytes(stmt, col)))
                : std::string();
}

} // namespace

broadcast_store::broadcast_store(sqlite3* db, std::string path, std::size_t queue_limit)
    : db_(db), path_(std::move(path)), queue_limit_(queue_limit == 0 ? 1 : queue_limit) {}

core::result<std::unique_ptr<broadcast_store>> broadcast_store::open(const std::string& data_dir,
                                                                     std::size_t queue_limit) {
    const auto path = data_dir + "/livehouse.db";
    const auto where = fmt::format("broadcast store {}", path);
    sqlite3* db = nullptr;
    // NOMUTEX: the store serializes access itself (db_mutex_).
    if (sqlite3_open_v2(path.c_str(), &db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        nullptr) != SQLITE_OK) {
        auto e = sqlite_error(db, fmt::format("{}: open", where));
        sqlite3_close(db);
        return e;
    }
    std::unique_ptr<broadcast_store> store(new broadcast_store(db, path, queue_limit));
    // Busy timeout: another process (a backup, the sqlite3 shell) may hold the lock briefly.
    sqlite3_busy_timeout(db, 5000);
    // WAL: readers never block the writer. synchronous=NORMAL is durable against a crash of
    // this process; on power loss the last commits may be lost, never the file's consistency.
    auto mode = query_text(db, "PRAGMA journal_mode=WAL", where + ": journal_mode");
    if (!mode) {
        return mode.err();
    }
    if (*mode != "wal") {
        spdlog::warn("{}: WAL mode unavailable (journal_mode={})", where, *mode);
    }
    if (auto r = exec(db, "PRAGMA synchronous=NORMAL", where + ": synchronous"); !r) {
        return r.err();
    }
    auto version = query_text(db, "PRAGMA user_version", where + ": user_version");
    if (!version) {
        return version.err();
    }
    if (std::stoi(*version) > schema_version) {
        return core::make_error(
            fmt::format("{}: schema version {} is newer than this build understands ({})", where,
                        *version, schema_version));
    }
    if (auto r = exec(db, schema_sql, where + ": create schema"); !r) {
        return r.err();
    }
    if (auto r = exec(db, fmt::format("PRAGMA user_version={}", schema_version).c_str(),
                      where + ": user_version");
        !r) {
        return r.err();
    }
    if (sqlite3_prepare_v3(db, upsert_sql, -1, SQLITE_PREPARE_PERSISTENT, &store->upsert_,
                           nullptr) != SQLITE_OK) {
        return sqlite_error(db, where + ": prepare upsert");
    }
    store->writer_ = std::thread([s = store.get()] { s->writer_loop(); });
    return store;
}

broadcast_store::~broadcast_store() {
    close();
}

void broadcast_store::close() {
    {
        std::lock_guard lk(queue_mutex_);
        closing_ = true;
    }
    queue_cv_.notify_all();
    space_cv_.notify_all();
    if (writer_.joinable()) {
        writer_.join();
    }
    std::lock_guard db_lock(db_mutex_);
    if (upsert_ != nullptr) {
        sqlite3_finalize(upsert_);
        upsert_ = nullptr;
    }
    if (db_ != nullptr) {
        sqlite3_close(db_);
        db_ = nullptr;
    }
}

core::result<std::vector<media::broadcast_record>> broadcast_store::load_all() {
    std::lock_guard lock(db_mutex_);
    if (db_ == nullptr) {
        return core::make_error("broadcast store: closed");
    }
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_,
                           "SELECT id, title, stream_key, status, created_at, started_at, "
                           "ended_at FROM broadcasts ORDER BY created_at, id",
                           -1, &stmt, nullptr) != SQLITE_OK) {
        return sqlite_error(db_, "broadcast store: load");
    }
    std::vector<media::broadcast_record> out;
    int rc = SQLITE_OK;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        media::broadcast_record r;
        r.id = column_text(stmt, 0);
        r.title = column_text(stmt, 1);
        r.stream_key = column_text(stmt, 2);
        const auto status = column_text(stmt, 3);
        auto parsed = media::parse_broadcast_status(status);
        if (!parsed) {
            sqlite3_finalize(stmt);
            return core::make_error(fmt::format("broadcast store: load: broadcast {}: unknown "
                                                "status '{}'",
                                                r.id, status));
        }
        r.status = *parsed;
        r.created_at = from_ms(sqlite3_column_int64(stmt, 4));
        if (sqlite3_column_type(stmt, 5) != SQLITE_NULL) {
            r.started_at = from_ms(sqlite3_column_int64(stmt, 5));
        }
        if (sqlite3_column_type(stmt, 6) != SQLITE_NULL) {
            r.ended_at = from_ms(sqlite3_column_int64(stmt, 6));
        }
        out.push_back(std::move(r));
    }
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE) {
        return sqlite_error(db_, "broadcast store: load");
    }
    return out;
}

core::result<void> broadcast_store::upsert_locked(const media::broadcast_record& r) {
    if (db_ == nullptr) {
        return core::make_error("broadcast store: closed");
    }
    sqlite3_stmt* s = upsert_;
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    // SQLITE_TRANSIENT: SQLite copies the text, so the record need not outlive the step.
    const auto status = media::to_string(r.status);
    sqlite3_bind_text(s, 1, r.id.data(), static_cast<int>(r.id.size()), SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 2, r.title.data(), static_cast<int>(r.title.size()), SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 3, r.stream_key.data(), static_cast<int>(r.stream_key.size()),
                      SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 4, status.data(), static_cast<int>(status.size()), SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 5, to_ms(r.created_at));
    if (r.started_at) {
        sqlite3_bind_int64(s, 6, to_ms(*r.started_at));
    }
    if (r.ended_at) {
        sqlite3_bind_int64(s, 7, to_ms(*r.ended_at));
    }
    const int rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) {
        return sqlite_error(db_, fmt::format("broadcast store: save {}", r.id));
    }
    return {};
}

core::result<void> broadcast_store::save(const media::broadcast_record& record) {
    std::lock_guard lock(db_mutex_);
    return upsert_locked(record);
}

bool broadcast_store::save_later(media::broadcast_record record) {
    std::unique_lock lk(queue_mutex_);
    if (closing_) {
        ++dropped_;
        return false;
    }
    if (auto it = pending_.find(record.id); it != pending_.end()) {
        it->second = std::move(record); // coalesce: only the newest state is written
        return true;
    }
    if (order_.size() >= queue_limit_ &&
        !space_cv_.wait_for(lk, std::chrono::milliseconds(100),
                            [&] { return closing_ || order_.size() < queue_limit_; })) {
        ++dropped_;
        spdlog::error("broadcast store: write queue full; dropped update of broadcast {}",
                      record.id);
        return false;
    }
    if (closing_) {
        ++dropped_;
        return false;
    }
    order_.push_back(record.id);
    auto id = record.id;
    pending_.emplace(std::move(id), std::move(record));
    lk.unlock();
    queue_cv_.notify_one();
    return true;
}

void broadcast_store::flush() {
    std::unique_lock lk(queue_mutex_);
    drained_cv_.wait(lk, [&] { return (order_.empty() && !busy_) || writer_done_; });
}

void broadcast_store::writer_loop() {
    std::unique_lock lk(queue_mutex_);
    for (;;) {
        queue_cv_.wait(lk, [&] { return closing_ || !order_.empty(); });
        if (order_.empty()) {
            break; // closing, and everything queued is written
        }
        std::vector<media::broadcast_record> batch;
        batch.reserve(order_.size());
        for (const auto& id : order_) {
            batch.push_back(std::move(pending_.at(id)));
        }
        order_.clear();
        pending_.clear();
        busy_ = true;
        lk.unlock();
        space_cv_.notify_all();

        std::size_t failed = 0;
        {
            std::lock_guard db_lock(db_mutex_);
            // One transaction per batch: one fsync for a burst of changes. A failing record
            // (e.g. a stream_key clash) fails alone; the rest still commit.
            const bool in_tx = exec(db_, "BEGIN IMMEDIATE", "begin").has_value();
            for (const auto& r : batch) {
                if (auto res = upsert_locked(r); !res) {
                    ++failed;
                    spdlog::error("{}", res.err().message);
                }
            }
            if (in_tx) {
                if (auto res = exec(db_, "COMMIT", "broadcast store: commit"); !res) {
                    failed = batch.size();
                    spdlog::error("{}", res.err().message);
                    (void)exec(db_, "ROLLBACK", "rollback");
                }
            }
        }

        lk.lock();
        failed_ += failed;
        busy_ = false;
        drained_cv_.notify_all();
    }
    busy_ = false;
    writer_done_ = true;
    drained_cv_.notify_all();
}

std::size_t broadcast_store::dropped() const {
    std::lock_guard lk(queue_mutex_);
    return dropped_;
}

std::size_t broadcast_store::failed_writes() const {
    std::lock_guard lk(queue_mutex_);
    return failed_;
}

} // namespace livehouse::state
