// Relational records: what must outlive every node and every restart — per-broadcast totals
// (love counted at the end, peak viewers), purchases (tickets, scratch cards, fan-meeting
// slots), and the index of archives (VOD playlists, chat logs) written next to a broadcast.
// Embedded: SQLite in the data directory. Server: PostgreSQL 15 on a bounded pool of
// connections, off the event-loop threads (seed 000, the 2020 incident: a pool that blocks
// requests takes the whole service down, so a call that cannot get a connection within a
// bounded wait fails with `records_unavailable` and the API answers 503).
//
// Every write is an idempotent upsert keyed by the record's identity, so a write that is
// re-delivered (queued_records replays what it kept while the database was down) changes
// nothing the second time.
//
// Calls are asynchronous like the rest of state/: each completion runs exactly once, maybe on
// another thread (a pool worker), and must not block.
#pragma once

#include "state/shared_state.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace livehouse::state {

/// Prefix of the message of an error that means "the database cannot take calls now" (pool
/// exhausted after the bounded wait, server unreachable): the API turns it into 503.
inline constexpr std::string_view records_unavailable = "records unavailable";

/// Limits on record fields (ids, names, paths); longer values are refused with an error.
inline constexpr std::size_t max_record_id_bytes = 256;
inline constexpr std::size_t max_record_text_bytes = 4096;

/// A named total of one broadcast ("love", "viewers_peak", ...), set when it is final.
struct total_record {
    std::string broadcast_id;
    std::string name;
    std::int64_t value = 0;
    friend bool operator==(const total_record&, const total_record&) = default;
};

/// One purchase: `id` is the hold id the inventory gave (unique; the idempotency key).
struct purchase_record {
    std::string id;
    std::string user_id;
    std::string item;          ///< inventory key of what was bought
    std::int64_t quantity = 0; ///< items
    std::int64_t amount = 0;   ///< price paid, in the smallest currency unit
    std::int64_t time_ms = 0;  ///< unix milliseconds
    friend bool operator==(const purchase_record&, const purchase_record&) = default;
};

/// A file archived with a broadcast ("vod" playlist, "chat" log, ...), one per (broadcast, kind).
struct archive_record {
    std::string broadcast_id;
    std::string kind;
    std::string path; ///< relative to the data directory
    std::int64_t bytes = 0;
    std::int64_t time_ms = 0; ///< unix milliseconds
    friend bool operator==(const archive_record&, const archive_record&) = default;
};

class records {
  public:
    virtual ~records() = default;

    /// Inserts or replaces the total (broadcast_id, name).
    virtual void put_total(total_record r, completion<void> done) = 0;
    /// Every total of the broadcast, ordered by name.
    virtual void totals(std::string broadcast_id, completion<std::vector<total_record>> done) = 0;

    /// Inserts the purchase; completes with true if it was new, false if a purchase with this
    /// id already exists (the stored one is kept unchanged).
    virtual void put_purchase(purchase_record r, completion<bool> done) = 0;
    /// The user's purchases, oldest first (by time, then id).
    virtual void purchases(std::string user_id, completion<std::vector<purchase_record>> done) = 0;

    /// Inserts or replaces the archive (broadcast_id, kind).
    virtual void put_archive(archive_record r, completion<void> done) = 0;
    /// Every archive of the broadcast, ordered by kind.
    virtual void archives(std::string broadcast_id,
                          completion<std::vector<archive_record>> done) = 0;
};

} // namespace livehouse::state
