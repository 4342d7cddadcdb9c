// sqlite_records: relational records on SQLite, one worker thread, group commit.
#include "state/embedded/sqlite_records.hpp"

#include "state/record_checks.hpp"

#include <fmt/format.h>
#include <sqlite3.h>

namespace livehouse::state::embedded {

namespace {

// WITHOUT ROWID: the tables are looked up by their primary key only, so the key is the row's
// storage order and no second b-tree is kept.
constexpr const char* schema_sql = R"sql(
CREATE TABLE IF NOT EXISTS totals (
    broadcast_id  TEXT NOT NULL,
    name          TEXT NOT NULL,
    value         INTEGER NOT NULL,
    PRIMARY KEY (broadcast_id, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS purchases (
    id        TEXT NOT NULL PRIMARY KEY,
    user_id   TEXT NOT NULL,
    item      TEXT NOT NULL,
    quantity  INTEGER NOT NULL,
    amount    INTEGER NOT NULL,
    time_ms   INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS purchases_by_user ON purchases (user_id, time_ms, id);
CREATE TABLE IF NOT EXISTS archives (
    broadcast_id  TEXT NOT NULL,
    kind          TEXT NOT NULL,
    path          TEXT NOT NULL,
    bytes         INTEGER NOT NULL,
    time_ms       INTEGER NOT NULL,
    PRIMARY KEY (broadcast_id, kind)
) WITHOUT ROWID;
)sql";

/// Statements whose errors read "records: ...".
struct statement : sqlite_statement {
    statement(sqlite3* db, const char* sql) : sqlite_statement(db, "records", sql) {}
};
using outcome = sqlite_worker::outcome;

/// Runs `s` to the end; each row goes through `row`. Completes `done` with the rows.
template <typename T, typename Row>
outcome select_all(statement& s, completion<std::vector<T>> done, std::string_view what, Row row) {
    std::vector<T> out;
    int rc = 0;
    while ((rc = s.step()) == SQLITE_ROW) {
        out.push_back(row(s));
    }
    if (rc != SQLITE_DONE) {
        return sqlite_worker::failed(std::move(done), s.error(what));
    }
    return {true,
            [done = std::move(done), out = std::move(out)]() mutable { done(std::move(out)); }};
}

} // namespace

core::result<std::unique_ptr<sqlite_records>> sqlite_records::open(const std::string& data_dir,
                                                                   std::size_t queue_limit) {
    const auto path = (data_dir.empty() ? std::string(".") : data_dir) + "/records.db";
    auto worker = sqlite_worker::open(
        path, "records", schema_sql, queue_limit,
        std::string(records_unavailable).append(": embedded queue full or closed"));
    if (!worker) {
        return worker.err();
    }
    return std::unique_ptr<sqlite_records>(new sqlite_records(std::move(*worker)));
}

sqlite_records::~sqlite_records() {
    close();
}

void sqlite_records::close() {
    worker_->close();
}

template <typename T>
void sqlite_records::call(std::optional<core::error> refused, completion<T> done,
                          std::function<sqlite_worker::outcome(sqlite3*)> run) {
    if (refused) {
        done(std::move(*refused));
        return;
    }
    worker_->submit(std::move(done), std::move(run));
}

void sqlite_records::put_total(total_record r, completion<void> done) {
    call(check_record(r), done, [r, done](sqlite3* db) -> outcome {
        statement s(db, "INSERT INTO totals (broadcast_id, name, value) VALUES (?1, ?2, ?3) "
                        "ON CONFLICT (broadcast_id, name) DO UPDATE SET value = excluded.value");
        if (s.bind(1, r.broadcast_id).bind(2, r.name).bind(3, r.value).step() != SQLITE_DONE) {
            return sqlite_worker::failed(done, s.error("put total"));
        }
        return {true, [done] { done({}); }};
    });
}

void sqlite_records::totals(std::string broadcast_id, completion<std::vector<total_record>> done) {
    call(check_record_id("broadcast_id", broadcast_id), done,
         [id = broadcast_id, done](sqlite3* db) -> outcome {
             statement s(db,
                         "SELECT name, value FROM totals WHERE broadcast_id = ?1 ORDER BY name");
             s.bind(1, id);
             return select_all<total_record>(s, done, "totals", [&](statement& row) {
                 return total_record{id, row.blob(0), row.int64(1)};
             });
         });
}

void sqlite_records::put_purchase(purchase_record r, completion<bool> done) {
    call(check_record(r), done, [r, done](sqlite3* db) -> outcome {
        // DO NOTHING: a re-delivered purchase keeps the stored one (records.hpp).
        statement s(db, "INSERT INTO purchases (id, user_id, item, quantity, amount, time_ms) "
                        "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (id) DO NOTHING");
        s.bind(1, r.id).bind(2, r.user_id).bind(3, r.item);
        s.bind(4, r.quantity).bind(5, r.amount).bind(6, r.time_ms);
        if (s.step() != SQLITE_DONE) {
            return sqlite_worker::failed(done, s.error("put purchase"));
        }
        const bool added = sqlite3_changes(db) > 0;
        return {true, [done, added] { done(added); }};
    });
}

void sqlite_records::purchases(std::string user_id, completion<std::vector<purchase_record>> done) {
    call(check_record_id("user_id", user_id), done, [user = user_id, done](sqlite3* db) -> outcome {
        statement s(db, "SELECT id, item, quantity, amount, time_ms FROM purchases "
                        "WHERE user_id = ?1 ORDER BY time_ms, id");
        s.bind(1, user);
        return select_all<purchase_record>(s, done, "purchases", [&](statement& row) {
            return purchase_record{row.blob(0),  user,         row.blob(1),
                                   row.int64(2), row.int64(3), row.int64(4)};
        });
    });
}

void sqlite_records::put_archive(archive_record r, completion<void> done) {
    call(check_record(r), done, [r, done](sqlite3* db) -> outcome {
        statement s(db, "INSERT INTO archives (broadcast_id, kind, path, bytes, time_ms) "
                        "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (broadcast_id, kind) DO UPDATE "
                        "SET path = excluded.path, bytes = excluded.bytes, "
                        "time_ms = excluded.time_ms");
        s.bind(1, r.broadcast_id).bind(2, r.kind).bind(3, r.path);
        s.bind(4, r.bytes).bind(5, r.time_ms);
        if (s.step() != SQLITE_DONE) {
            return sqlite_worker::failed(done, s.error("put archive"));
        }
        return {true, [done] { done({}); }};
    });
}

void sqlite_records::archives(std::string broadcast_id,
                              completion<std::vector<archive_record>> done) {
    call(check_record_id("broadcast_id", broadcast_id), done,
         [id = broadcast_id, done](sqlite3* db) -> outcome {
             statement s(db, "SELECT kind, path, bytes, time_ms FROM archives "
                             "WHERE broadcast_id = ?1 ORDER BY kind");
             s.bind(1, id);
             return select_all<archive_record>(s, done, "archives", [&](statement& row) {
                 return archive_record{id, row.blob(0), row.blob(1), row.int64(2), row.int64(3)};
             });
         });
}

} // namespace livehouse::state::embedded
