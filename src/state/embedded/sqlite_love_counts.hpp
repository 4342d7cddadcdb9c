// The embedded love counts (state/love_counts.hpp's contract), durable: memory_love_counts
// answers every read, and every apply is first journaled in SQLite (<data_dir>/love.db, WAL,
// synchronous=FULL, the group commit of sqlite_worker.hpp) and applied to memory only once the
// commit is on disk. So an apply that completed survives a crash of the process, and a client
// is never told a tap was counted that a restart would forget (issue 5: "without losing an
// accepted tap if the node dies").
//
// Start-up replays the journal in commit order into memory: the same applies in the same order
// give the same totals, rankings, timelines and remembered batch ids (so a retry after a
// restart is still counted once).
//
// Compaction: once a key's journal has grown by more than max(compact_min_bytes, twice its
// last snapshot) since that snapshot, its whole state (codec/love/love_journal.hpp) is written as
// a new snapshot and the journal rows it covers are deleted — amortised, the file stays within
// a few times the state's size however long the broadcast. remove() deletes both.
//
// Cost: one fsync per group of applies; love_service applies once per broadcast per flush (20
// ms), so a node does at most ~50 commits a second whatever its request rate.
//
// Threading: reads are synchronous (memory); applies and removes complete on the worker thread.
// Queue policy: at most `queue_limit` calls wait; past that a call fails at once ("love: queue
// full or closed"), never blocks.
#pragma once

#include "core/result.hpp"
#include "state/embedded/memory_love_counts.hpp"
#include "state/embedded/sqlite_worker.hpp"
#include "state/love_counts.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

namespace livehouse::state::embedded {

struct sqlite_love_options {
    std::size_t queue_limit = 4096;
    std::size_t compact_min_bytes = 8u << 20;
};

class sqlite_love_counts final : public love_counts {
  public:
    /// Opens (creating) <data_dir>/love.db and replays it into memory (blocking: at start-up).
    /// The directory must exist. A damaged journal is an error, not a partial state.
    static core::result<std::unique_ptr<sqlite_love_counts>> open(const std::string& data_dir,
                                                                  sqlite_love_options options = {});

    ~sqlite_love_counts() override;
    sqlite_love_counts(const sqlite_love_counts&) = delete;
    sqlite_love_counts& operator=(const sqlite_love_counts&) = delete;

    void apply(std::string key, std::vector<love_batch_entry> batches,
               completion<love_applied> done) override;
    void total(std::string key, completion<std::int64_t> done) override;
    void top(std::string key, std::size_t n, completion<std::vector<scored_member>> done) override;
    void score(std::string key, std::string user,
               completion<std::optional<std::int64_t>> done) override;
    void timeline(std::string key, completion<love_timeline> done) override;
    void remove(std::string key, completion<void> done) override;

    /// Runs what is queued, then stops the worker and closes the database. Idempotent.
    void close();

  private:
    sqlite_love_counts(std::unique_ptr<sqlite_worker> worker, sqlite_love_options options)
        : options_(options), worker_(std::move(worker)) {}
    core::result<void> load();
    /// The snapshots, then the journal rows after them, into memory (worker thread).
    core::result<void> replay(sqlite3* db);
    /// After an apply's commit (worker thread): snapshots the key if its journal grew enough.
    void maybe_compact(const std::string& key);

    /// What the journal holds of a key. Only the worker thread touches these.
    struct journal_state {
        std::int64_t applied_seq = 0;   ///< the last journal row applied to memory
        std::size_t bytes_since = 0;    ///< journaled since the last snapshot
        std::size_t snapshot_bytes = 0; ///< the last snapshot's size
        bool compacting = false;
    };

    const sqlite_love_options options_;
    memory_love_counts memory_;
    std::unordered_map<std::string, journal_state> journal_;
    std::unique_ptr<sqlite_worker> worker_; // last: its thread stops before the rest goes
};

} // namespace livehouse::state::embedded
