// sqlite_streams: durable streams on SQLite, one worker thread, group commit.
#include "state/embedded/sqlite_streams.hpp"

#include "state/limits.hpp"

#include <charconv>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sqlite3.h>

namespace livehouse::state::embedded {

namespace {

constexpr const char* schema_sql = R"sql(
CREATE TABLE IF NOT EXISTS stream_entries (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused, so ids only grow
    key      TEXT NOT NULL,
    payload  BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS stream_entries_by_key ON stream_entries (key, seq);
CREATE TABLE IF NOT EXISTS stream_groups (
    key             TEXT NOT NULL,
    grp             TEXT NOT NULL,
    last_delivered  INTEGER NOT NULL DEFAULT 0,  -- highest seq ever given to the group
    PRIMARY KEY (key, grp)
);
CREATE TABLE IF NOT EXISTS stream_pending (
    key           TEXT NOT NULL,
    grp           TEXT NOT NULL,
    seq           INTEGER NOT NULL,
    consumer      TEXT NOT NULL,
    delivered_at  INTEGER NOT NULL,  -- unix ms of the last delivery
    deliveries    INTEGER NOT NULL,
    PRIMARY KEY (key, grp, seq)
);
)sql";

// Entries below every group's low-water mark (its oldest pending entry, else the next entry it
// has not been given) are done for every group of the stream.
constexpr const char* trim_sql = R"sql(
DELETE FROM stream_entries WHERE key = ?1 AND seq < (
    SELECT MIN(low) FROM (
        SELECT COALESCE((SELECT MIN(p.seq) FROM stream_pending p
                         WHERE p.key = g.key AND p.grp = g.grp),
                        g.last_delivered + 1) AS low
        FROM stream_groups g WHERE g.key = ?1))
)sql";

/// A prepared statement that finalizes itself; binds by 1-based index.
class statement {
  public:
    statement(sqlite3* db, const char* sql) : db_(db) {
        ok_ = sqlite3_prepare_v2(db, sql, -1, &s_, nullptr) == SQLITE_OK;
    }
    ~statement() { sqlite3_finalize(s_); }
    statement(const statement&) = delete;
    statement& operator=(const statement&) = delete;

    statement& bind(int i, std::string_view text) {
        sqlite3_bind_text(s_, i, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
        return *this;
    }
    statement& bind_blob(int i, std::string_view bytes) {
        sqlite3_bind_blob(s_, i, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
        return *this;
    }
    statement& bind(int i, std::int64_t v) {
        sqlite3_bind_int64(s_, i, v);
        return *this;
    }
    /// SQLITE_ROW, SQLITE_DONE or an error code (also when the prepare failed).
    int step() { return ok_ ? sqlite3_step(s_) : SQLITE_ERROR; }
    void reset() {
        sqlite3_reset(s_);
        sqlite3_clear_bindings(s_);
    }
    std::int64_t int64(int col) { return sqlite3_column_int64(s_, col); }
    std::string blob(int col) {
        const auto* p = static_cast<const char*>(sqlite3_column_blob(s_, col));
        return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(s_, col)))
                 : std::string();
    }
    [[nodiscard]] core::error error(std::string_view what) const {
        return core::make_error(fmt::format("streams: {}: {}", what, sqlite3_errmsg(db_)));
    }

  private:
    sqlite3* db_;
    sqlite3_stmt* s_ = nullptr;
    bool ok_ = false;
};

core::result<void> exec(sqlite3* db, const char* sql) {
    char* msg = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &msg) != SQLITE_OK) {
        auto e = core::make_error(fmt::format("streams: {}: {}", sql, msg ? msg : "error"));
        sqlite3_free(msg);
        return e;
    }
    return {};
}

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::optional<std::int64_t> parse_id(std::string_view id) {
    std::int64_t v = 0;
    const auto [p, ec] = std::from_chars(id.data(), id.data() + id.size(), v);
    if (ec != std::errc() || p != id.data() + id.size() || v <= 0) {
        return std::nullopt;
    }
    return v;
}

} // namespace

core::result<std::unique_ptr<sqlite_streams>> sqlite_streams::open(const std::string& data_dir,
                                                                   std::size_t queue_limit) {
    const auto path = (data_dir.empty() ? std::string(".") : data_dir) + "/streams.db";
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(path.c_str(), &db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        nullptr) != SQLITE_OK) {
        auto e = core::make_error(
            fmt::format("streams: open {}: {}", path, db ? sqlite3_errmsg(db) : "out of memory"));
        sqlite3_close(db);
        return e;
    }
    // WAL + synchronous=FULL: a commit is on disk (fsync'ed) when COMMIT returns, which is what
    // "append completes once durable" promises.
    for (const char* sql : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL",
                            "PRAGMA busy_timeout=5000", schema_sql}) {
        if (auto r = exec(db, sql); !r) {
            sqlite3_close(db);
            return r.err().wrap(path);
        }
    }
    return std::unique_ptr<sqlite_streams>(new sqlite_streams(db, queue_limit));
}

sqlite_streams::sqlite_streams(sqlite3* db, std::size_t queue_limit)
    : db_(db), queue_limit_(queue_limit), thread_([this] { worker(); }) {}

sqlite_streams::~sqlite_streams() {
    close();
}

void sqlite_streams::close() {
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

bool sqlite_streams::enqueue(task t) {
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

void sqlite_streams::worker() {
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
        if (auto r = exec(db_, "BEGIN IMMEDIATE"); !r) {
            for (auto& t : batch) {
                t.fail(r.err());
            }
            continue;
        }
        std::vector<std::function<void()>> completions;
        completions.reserve(batch.size());
        for (auto& t : batch) {
            // A savepoint per call: one failing call does not undo the others of its batch.
            (void)exec(db_, "SAVEPOINT call");
            auto o = t.run(db_);
            if (!o.ok) {
                (void)exec(db_, "ROLLBACK TO call");
            }
            (void)exec(db_, "RELEASE call");
            completions.push_back(std::move(o.complete));
        }
        if (auto r = exec(db_, "COMMIT"); !r) {
            spdlog::error("{}", r.err().message);
            (void)exec(db_, "ROLLBACK");
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

void sqlite_streams::append(std::string key, std::string payload, completion<std::string> done) {
    if (auto e = check_key(key)) {
        done(std::move(*e));
        return;
    }
    if (payload.size() > max_stream_payload_bytes) {
        done(core::make_error(fmt::format("streams: payload of {} bytes (at most {})",
                                          payload.size(), max_stream_payload_bytes)));
        return;
    }
    auto fail = [done](const core::error& e) { done(e); };
    const bool queued = enqueue(
        {[key = std::move(key), payload = std::move(payload), done](sqlite3* db) -> outcome {
             statement ins(db, "INSERT INTO stream_entries (key, payload) VALUES (?1, ?2)");
             ins.bind(1, key).bind_blob(2, payload);
             if (ins.step() != SQLITE_DONE) {
                 return failed(done, ins.error("append"));
             }
             const auto id = std::to_string(sqlite3_last_insert_rowid(db));
             return {true, [done, id] { done(id); }};
         },
         std::move(fail)});
    if (!queued) {
        done(core::make_error("streams: queue full or closed"));
    }
}

void sqlite_streams::read(std::string key, std::string group, std::string consumer, std::size_t max,
                          std::chrono::milliseconds claim_after,
                          completion<std::vector<stream_entry>> done) {
    if (auto e = check_key(key); e || (e = check_member(group)) || (e = check_member(consumer))) {
        done(std::move(*e));
        return;
    }
    auto fail = [done](const core::error& e) { done(e); };
    const bool queued = enqueue(
        {[key = std::move(key), group = std::move(group), consumer = std::move(consumer), max,
          claim_after, done](sqlite3* db) -> outcome {
             const auto now = now_ms();
             const auto limit = static_cast<std::int64_t>(max);
             std::vector<stream_entry> out;
             statement g(db, "INSERT OR IGNORE INTO stream_groups (key, grp) VALUES (?1, ?2)");
             if (g.bind(1, key).bind(2, group).step() != SQLITE_DONE) {
                 return failed(done, g.error("create group"));
             }
             // 1. Re-deliveries: given out more than claim_after ago, never acknowledged.
             statement stale(db, R"sql(
                 SELECT p.seq, e.payload, p.deliveries FROM stream_pending p
                 JOIN stream_entries e ON e.seq = p.seq
                 WHERE p.key = ?1 AND p.grp = ?2 AND p.delivered_at <= ?3
                 ORDER BY p.seq LIMIT ?4)sql");
             stale.bind(1, key).bind(2, group).bind(3, now - claim_after.count()).bind(4, limit);
             int rc = 0;
             while ((rc = stale.step()) == SQLITE_ROW) {
                 out.push_back({std::to_string(stale.int64(0)), stale.blob(1),
                                static_cast<std::uint32_t>(stale.int64(2) + 1)});
             }
             if (rc != SQLITE_DONE) {
                 return failed(done, stale.error("read pending"));
             }
             statement claim(db, R"sql(
                 UPDATE stream_pending SET consumer = ?4, delivered_at = ?5,
                     deliveries = deliveries + 1
                 WHERE key = ?1 AND grp = ?2 AND seq = ?3)sql");
             for (const auto& e : out) {
                 claim.bind(1, key).bind(2, group).bind(3, *parse_id(e.id));
                 claim.bind(4, consumer).bind(5, now);
                 if (claim.step() != SQLITE_DONE) {
                     return failed(done, claim.error("claim"));
                 }
                 claim.reset();
             }
             // 2. New entries, after the last one the group was given.
             const auto room = limit - static_cast<std::int64_t>(out.size());
             if (room > 0) {
                 statement fresh(db, R"sql(
                     SELECT e.seq, e.payload FROM stream_entries e, stream_groups g
                     WHERE g.key = ?1 AND g.grp = ?2 AND e.key = ?1 AND e.seq > g.last_delivered
                     ORDER BY e.seq LIMIT ?3)sql");
                 fresh.bind(1, key).bind(2, group).bind(3, room);
                 std::vector<stream_entry> added;
                 while ((rc = fresh.step()) == SQLITE_ROW) {
                     added.push_back({std::to_string(fresh.int64(0)), fresh.blob(1), 1});
                 }
                 if (rc != SQLITE_DONE) {
                     return failed(done, fresh.error("read new"));
                 }
                 statement pend(db, R"sql(
                     INSERT INTO stream_pending (key, grp, seq, consumer, delivered_at, deliveries)
                     VALUES (?1, ?2, ?3, ?4, ?5, 1))sql");
                 for (const auto& e : added) {
                     pend.bind(1, key).bind(2, group).bind(3, *parse_id(e.id));
                     pend.bind(4, consumer).bind(5, now);
                     if (pend.step() != SQLITE_DONE) {
                         return failed(done, pend.error("record delivery"));
                     }
                     pend.reset();
                 }
                 if (!added.empty()) {
                     statement last(db, "UPDATE stream_groups SET last_delivered = ?3 "
                                        "WHERE key = ?1 AND grp = ?2");
                     last.bind(1, key).bind(2, group).bind(3, *parse_id(added.back().id));
                     if (last.step() != SQLITE_DONE) {
                         return failed(done, last.error("advance group"));
                     }
                 }
                 for (auto& e : added) {
                     out.push_back(std::move(e));
                 }
             }
             return {true, [done, out = std::move(out)]() mutable { done(std::move(out)); }};
         },
         std::move(fail)});
    if (!queued) {
        done(core::make_error("streams: queue full or closed"));
    }
}

void sqlite_streams::ack(std::string key, std::string group, std::vector<std::string> ids,
                         completion<std::size_t> done) {
    if (auto e = check_key(key); e || (e = check_member(group))) {
        done(std::move(*e));
        return;
    }
    auto fail = [done](const core::error& e) { done(e); };
    const bool queued =
        enqueue({[key = std::move(key), group = std::move(group), ids = std::move(ids),
                  done](sqlite3* db) -> outcome {
                     statement del(
                         db, "DELETE FROM stream_pending WHERE key = ?1 AND grp = ?2 AND seq = ?3");
                     std::size_t acked = 0;
                     for (const auto& id : ids) {
                         const auto seq = parse_id(id);
                         if (!seq) {
                             continue; // not an id of ours: nothing pending under it
                         }
                         del.bind(1, key).bind(2, group).bind(3, *seq);
                         if (del.step() != SQLITE_DONE) {
                             return failed(done, del.error("ack"));
                         }
                         acked += static_cast<std::size_t>(sqlite3_changes(db));
                         del.reset();
                     }
                     statement trim(db, trim_sql);
                     if (trim.bind(1, key).step() != SQLITE_DONE) {
                         return failed(done, trim.error("trim"));
                     }
                     return {true, [done, acked] { done(acked); }};
                 },
                 std::move(fail)});
    if (!queued) {
        done(core::make_error("streams: queue full or closed"));
    }
}

} // namespace livehouse::state::embedded
