// sqlite_love_counts (see sqlite_love_counts.hpp).
#include "state/embedded/sqlite_love_counts.hpp"

#include "codec/love/love_journal.hpp"
#include "state/love_counts_checks.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <future>
#include <spdlog/spdlog.h>
#include <sqlite3.h>

namespace livehouse::state::embedded {

namespace {

constexpr const char* schema_sql = R"sql(
CREATE TABLE IF NOT EXISTS love_journal (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,  -- commit order: the order of the replay
    key      TEXT NOT NULL,
    batches  BLOB NOT NULL                       -- codec/love/love_journal: one apply
);
CREATE INDEX IF NOT EXISTS love_journal_by_key ON love_journal (key, seq);
CREATE TABLE IF NOT EXISTS love_snapshots (
    key    TEXT PRIMARY KEY,
    seq    INTEGER NOT NULL,  -- the journal rows up to here are in `state`
    state  BLOB NOT NULL      -- codec/love/love_journal: the key's whole state
);
)sql";

/// Statements whose errors read "love: ...".
struct statement : sqlite_statement {
    statement(sqlite3* db, const char* sql) : sqlite_statement(db, "love", sql) {}
};
using outcome = sqlite_worker::outcome;

} // namespace

core::result<std::unique_ptr<sqlite_love_counts>>
sqlite_love_counts::open(const std::string& data_dir, sqlite_love_options options) {
    const auto path = (data_dir.empty() ? std::string(".") : data_dir) + "/love.db";
    auto worker = sqlite_worker::open(path, "love", schema_sql, options.queue_limit,
                                      "love: queue full or closed");
    if (!worker) {
        return worker.err();
    }
    std::unique_ptr<sqlite_love_counts> c(new sqlite_love_counts(std::move(*worker), options));
    if (auto r = c->load(); !r) {
        return r.err().wrap(path);
    }
    return c;
}

sqlite_love_counts::~sqlite_love_counts() {
    close();
}

void sqlite_love_counts::close() {
    worker_->close();
}

core::result<void> sqlite_love_counts::load() {
    std::promise<core::result<void>> loaded;
    completion<void> done = [&loaded](core::result<void> r) { loaded.set_value(std::move(r)); };
    worker_->submit(done, [this, done](sqlite3* db) -> outcome {
        if (auto r = replay(db); !r) {
            return sqlite_worker::failed(done, r.err());
        }
        return {true, [done] { done({}); }};
    });
    return loaded.get_future().get();
}

core::result<void> sqlite_love_counts::replay(sqlite3* db) {
    statement snaps(db, "SELECT key, seq, state FROM love_snapshots");
    int rc = 0;
    while ((rc = snaps.step()) == SQLITE_ROW) {
        const auto key = snaps.blob(0);
        const auto bytes = snaps.blob(2);
        auto s = codec::love::decode_state(bytes);
        if (!s) {
            return s.err().wrap(fmt::format("love: snapshot of {}", key));
        }
        memory_.import_key(key, *s);
        auto& j = journal_[key];
        j.applied_seq = snaps.int64(1);
        j.snapshot_bytes = bytes.size();
    }
    if (rc != SQLITE_DONE) {
        return snaps.error("read snapshots");
    }
    statement rows(db, "SELECT seq, key, batches FROM love_journal ORDER BY seq");
    while ((rc = rows.step()) == SQLITE_ROW) {
        const auto seq = rows.int64(0);
        const auto key = rows.blob(1);
        const auto bytes = rows.blob(2);
        auto& j = journal_[key];
        if (seq <= j.applied_seq) {
            continue; // in the snapshot already
        }
        auto batches = codec::love::decode_batches(bytes);
        if (!batches) {
            return batches.err().wrap(fmt::format("love: journal row {}", seq));
        }
        if (auto r = memory_.apply_now(key, *batches); !r) {
            return r.err().wrap(fmt::format("love: journal row {}", seq));
        }
        j.applied_seq = seq;
        j.bytes_since += bytes.size();
    }
    if (rc != SQLITE_DONE) {
        return rows.error("read journal");
    }
    return {};
}

void sqlite_love_counts::apply(std::string key, std::vector<love_batch_entry> batches,
                               completion<love_applied> done) {
    if (auto e = check_love_apply(key, batches)) {
        done(std::move(*e));
        return;
    }
    if (batches.empty()) {
        done(memory_.apply_now(key, batches)); // reads the total; nothing to journal
        return;
    }
    auto bytes = codec::love::encode_batches(batches);
    // std::function needs copyable captures: the batches go by shared pointer.
    auto held = std::make_shared<std::vector<love_batch_entry>>(std::move(batches));
    worker_->submit(
        done,
        [this, key = std::move(key), bytes = std::move(bytes), held, done](sqlite3* db) -> outcome {
            statement ins(db, "INSERT INTO love_journal (key, batches) VALUES (?1, ?2)");
            if (ins.bind(1, key).bind_blob(2, bytes).step() != SQLITE_DONE) {
                return sqlite_worker::failed(done, ins.error("journal"));
            }
            const auto seq = sqlite3_last_insert_rowid(db);
            // After the commit: only now does memory (and so every reader) see the apply.
            return {true, [this, key, seq, size = bytes.size(), held, done] {
                        auto r = memory_.apply_now(key, *held);
                        auto& j = journal_[key];
                        j.applied_seq = seq;
                        j.bytes_since += size;
                        maybe_compact(key);
                        done(std::move(r));
                    }};
        });
}

void sqlite_love_counts::maybe_compact(const std::string& key) {
    auto& j = journal_[key];
    if (j.compacting ||
        j.bytes_since <= std::max(options_.compact_min_bytes, 2 * j.snapshot_bytes)) {
        return;
    }
    j.compacting = true;
    completion<std::size_t> done = [this, key](core::result<std::size_t> r) {
        const auto it = journal_.find(key);
        if (it == journal_.end()) {
            return; // removed meanwhile
        }
        it->second.compacting = false;
        if (!r) {
            spdlog::warn("{}", r.err().message);
            return;
        }
        it->second.snapshot_bytes = *r;
        it->second.bytes_since = 0;
    };
    worker_->submit(done, [this, key, done](sqlite3* db) -> outcome {
        const auto it = journal_.find(key);
        if (it == journal_.end()) {
            return {true, [] {}}; // removed in this batch: nothing to keep
        }
        // Memory holds exactly the rows up to applied_seq (later rows of this batch are
        // applied after its commit), so the snapshot replaces those rows and no others.
        const auto seq = it->second.applied_seq;
        const auto state = codec::love::encode_state(memory_.export_key(key));
        statement up(db, "INSERT INTO love_snapshots (key, seq, state) VALUES (?1, ?2, ?3) "
                         "ON CONFLICT (key) DO UPDATE SET seq = excluded.seq, "
                         "state = excluded.state");
        if (up.bind(1, key).bind(2, seq).bind_blob(3, state).step() != SQLITE_DONE) {
            return sqlite_worker::failed(done, up.error("snapshot"));
        }
        statement del(db, "DELETE FROM love_journal WHERE key = ?1 AND seq <= ?2");
        if (del.bind(1, key).bind(2, seq).step() != SQLITE_DONE) {
            return sqlite_worker::failed(done, del.error("compact"));
        }
        return {true, [done, size = state.size()] { done(size); }};
    });
}

void sqlite_love_counts::total(std::string key, completion<std::int64_t> done) {
    memory_.total(std::move(key), std::move(done));
}

void sqlite_love_counts::top(std::string key, std::size_t n,
                             completion<std::vector<scored_member>> done) {
    memory_.top(std::move(key), n, std::move(done));
}

void sqlite_love_counts::score(std::string key, std::string user,
                               completion<std::optional<std::int64_t>> done) {
    memory_.score(std::move(key), std::move(user), std::move(done));
}

void sqlite_love_counts::timeline(std::string key, completion<love_timeline> done) {
    memory_.timeline(std::move(key), std::move(done));
}

void sqlite_love_counts::remove(std::string key, completion<void> done) {
    if (auto e = check_love_key(key)) {
        done(std::move(*e));
        return;
    }
    worker_->submit(done, [this, key = std::move(key), done](sqlite3* db) -> outcome {
        statement rows(db, "DELETE FROM love_journal WHERE key = ?1");
        if (rows.bind(1, key).step() != SQLITE_DONE) {
            return sqlite_worker::failed(done, rows.error("remove"));
        }
        statement snap(db, "DELETE FROM love_snapshots WHERE key = ?1");
        if (snap.bind(1, key).step() != SQLITE_DONE) {
            return sqlite_worker::failed(done, snap.error("remove"));
        }
        // Here, not after the commit: a snapshot queued behind this in the same batch must
        // not write the key back.
        journal_.erase(key);
        return {true, [this, key, done] { memory_.remove(key, done); }};
    });
}

} // namespace livehouse::state::embedded
