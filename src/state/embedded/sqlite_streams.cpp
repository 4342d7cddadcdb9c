// sqlite_streams: durable streams on SQLite, one worker thread, group commit.
#include "state/embedded/sqlite_streams.hpp"

#include "state/limits.hpp"

#include <charconv>
#include <fmt/format.h>
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

/// Statements whose errors read "streams: ...".
struct statement : sqlite_statement {
    statement(sqlite3* db, const char* sql) : sqlite_statement(db, "streams", sql) {}
};
using outcome = sqlite_worker::outcome;

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
    auto worker = sqlite_worker::open(path, "streams", schema_sql, queue_limit,
                                      "streams: queue full or closed");
    if (!worker) {
        return worker.err();
    }
    return std::unique_ptr<sqlite_streams>(new sqlite_streams(std::move(*worker)));
}

sqlite_streams::~sqlite_streams() {
    close();
}

void sqlite_streams::close() {
    worker_->close();
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
    worker_->submit(
        done, [key = std::move(key), payload = std::move(payload), done](sqlite3* db) -> outcome {
            statement ins(db, "INSERT INTO stream_entries (key, payload) VALUES (?1, ?2)");
            ins.bind(1, key).bind_blob(2, payload);
            if (ins.step() != SQLITE_DONE) {
                return sqlite_worker::failed(done, ins.error("append"));
            }
            const auto id = std::to_string(sqlite3_last_insert_rowid(db));
            return {true, [done, id] { done(id); }};
        });
}

void sqlite_streams::read(std::string key, std::string group, std::string consumer, std::size_t max,
                          std::chrono::milliseconds claim_after,
                          completion<std::vector<stream_entry>> done) {
    if (auto e = check_key(key); e || (e = check_member(group)) || (e = check_member(consumer))) {
        done(std::move(*e));
        return;
    }
    worker_->submit(
        done,
        [key = std::move(key), group = std::move(group), consumer = std::move(consumer), max,
         claim_after, done](sqlite3* db) -> outcome {
            const auto now = now_ms();
            const auto limit = static_cast<std::int64_t>(max);
            std::vector<stream_entry> out;
            statement g(db, "INSERT OR IGNORE INTO stream_groups (key, grp) VALUES (?1, ?2)");
            if (g.bind(1, key).bind(2, group).step() != SQLITE_DONE) {
                return sqlite_worker::failed(done, g.error("create group"));
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
                return sqlite_worker::failed(done, stale.error("read pending"));
            }
            statement claim(db, R"sql(
                 UPDATE stream_pending SET consumer = ?4, delivered_at = ?5,
                     deliveries = deliveries + 1
                 WHERE key = ?1 AND grp = ?2 AND seq = ?3)sql");
            for (const auto& e : out) {
                claim.bind(1, key).bind(2, group).bind(3, *parse_id(e.id));
                claim.bind(4, consumer).bind(5, now);
                if (claim.step() != SQLITE_DONE) {
                    return sqlite_worker::failed(done, claim.error("claim"));
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
                    return sqlite_worker::failed(done, fresh.error("read new"));
                }
                statement pend(db, R"sql(
                     INSERT INTO stream_pending (key, grp, seq, consumer, delivered_at, deliveries)
                     VALUES (?1, ?2, ?3, ?4, ?5, 1))sql");
                for (const auto& e : added) {
                    pend.bind(1, key).bind(2, group).bind(3, *parse_id(e.id));
                    pend.bind(4, consumer).bind(5, now);
                    if (pend.step() != SQLITE_DONE) {
                        return sqlite_worker::failed(done, pend.error("record delivery"));
                    }
                    pend.reset();
                }
                if (!added.empty()) {
                    statement last(db, "UPDATE stream_groups SET last_delivered = ?3 "
                                       "WHERE key = ?1 AND grp = ?2");
                    last.bind(1, key).bind(2, group).bind(3, *parse_id(added.back().id));
                    if (last.step() != SQLITE_DONE) {
                        return sqlite_worker::failed(done, last.error("advance group"));
                    }
                }
                for (auto& e : added) {
                    out.push_back(std::move(e));
                }
            }
            return {true, [done, out = std::move(out)]() mutable { done(std::move(out)); }};
        });
}

void sqlite_streams::ack(std::string key, std::string group, std::vector<std::string> ids,
                         completion<std::size_t> done) {
    if (auto e = check_key(key); e || (e = check_member(group))) {
        done(std::move(*e));
        return;
    }
    worker_->submit(done,
                    [key = std::move(key), group = std::move(group), ids = std::move(ids),
                     done](sqlite3* db) -> outcome {
                        statement del(
                            db,
                            "DELETE FROM stream_pending WHERE key = ?1 AND grp = ?2 AND seq = ?3");
                        std::size_t acked = 0;
                        for (const auto& id : ids) {
                            const auto seq = parse_id(id);
                            if (!seq) {
                                continue; // not an id of ours: nothing pending under it
                            }
                            del.bind(1, key).bind(2, group).bind(3, *seq);
                            if (del.step() != SQLITE_DONE) {
                                return sqlite_worker::failed(done, del.error("ack"));
                            }
                            acked += static_cast<std::size_t>(sqlite3_changes(db));
                            del.reset();
                        }
                        statement trim(db, trim_sql);
                        if (trim.bind(1, key).step() != SQLITE_DONE) {
                            return sqlite_worker::failed(done, trim.error("trim"));
                        }
                        return {true, [done, acked] { done(acked); }};
                    });
}

} // namespace livehouse::state::embedded
