// Write-behind records: writes go first to a durable stream (the "outbox"), and one drain thread
// writes them to the target records (PostgreSQL) as it can.
//
// Why (issue 3: "PostgreSQL unreachable -> records queue in the durable stream and are written
// when it returns, nothing lost"; seed 000, the 2020 incident, where requests waiting on a
// database that had gone away took the whole service down with it): a purchase or a final love
// total must neither be lost nor hold a request while the database is away. A write here
// completes as soon as it is durable in the stream (embedded: fsync'ed to SQLite), whether the
// database is up or not; the drain applies entries in stream order, acknowledges each batch once
// written, and while the target answers `records_unavailable` it backs off (100 ms doubling to
// 5 s) and retries the same entry. Unacknowledged entries stay pending in the stream, so what a
// crash interrupts is re-delivered after a restart (consumer groups, `claim_after`): a record may
// be written twice, never lost — and every write is an idempotent upsert, so twice is once.
//
// Limits of write-behind, stated:
// - put_purchase completes with `true` ("queued"), always: whether a purchase with that id
//   already existed is only known to a direct backend (pg_records, sqlite_records). Callers that
//   need the answer (de-duplication before taking payment) ask the inventory hold, not this.
// - reads go straight to the target: a write may not be visible yet (wait_drained() in tests),
//   and a read fails with records_unavailable while the database is away.
// - an entry the target refuses for good (an error that is not records_unavailable; the fields
//   were checked before queueing, so only a schema mismatch) is logged and acknowledged: kept,
//   it would block every write behind it.
// - with several consumers of one stream (a shared Redis stream), a slow consumer's entry can be
//   claimed and applied by another after `claim_after`; upserts of one key may then land out of
//   order. The embedded stream has one consumer per node.
//
// Threading: every call may come from any thread; completions of writes run on the stream's
// thread, those of reads on the target's. The stream and the target must outlive this object.
#pragma once

#include "core/result.hpp"
#include "state/records.hpp"
#include "state/streams.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace livehouse::state {

struct queued_records_options {
    std::string group = "records";  ///< the stream's consumer group
    std::string consumer = "drain"; ///< this node's consumer name in the group
    std::size_t batch = 128;        ///< entries per read
    /// Entries given to a consumer that has not acknowledged them within this time are
    /// re-delivered (the consumer is presumed dead).
    std::chrono::milliseconds claim_after{30000};
    /// claim_after of the first read after open(): 0 takes back at once what this node had been
    /// given before a restart. Set it to claim_after when the stream is shared by several nodes.
    std::chrono::milliseconds claim_after_at_start{0};
    /// How long the drain sleeps on an empty stream before looking for re-deliveries (a write
    /// wakes it at once).
    std::chrono::milliseconds idle_poll{1000};
    std::chrono::milliseconds backoff_first{100};
    std::chrono::milliseconds backoff_max{5000};
    /// Longest wait for one answer of the target or the stream (they bound their own calls;
    /// this only keeps a broken backend from stopping the drain for good).
    std::chrono::milliseconds call_timeout{60000};
};

class queued_records final : public records {
  public:
    /// Creates the consumer group (blocking: at start-up) and starts the drain. `key` is the
    /// outbox stream's key (e.g. key_space "records", phase "outbox": "records|outbox|pg").
    /// Errors: the stream refuses the key or the group.
    static core::result<std::unique_ptr<queued_records>>
    open(streams& outbox, std::string key, records& target, queued_records_options options = {});

    /// Stops the drain (what is not written stays in the stream for the next start) after the
    /// writes still on their way to the stream have completed.
    ~queued_records() override;
    queued_records(const queued_records&) = delete;
    queued_records& operator=(const queued_records&) = delete;

    /// Complete once the record is durable in the stream. Errors: a field refused
    /// (record_checks.hpp), or the stream refusing the entry ("records unavailable: outbox: ...").
    void put_total(total_record r, completion<void> done) override;
    /// Completes with true (queued) — see the header comment.
    void put_purchase(purchase_record r, completion<bool> done) override;
    void put_archive(archive_record r, completion<void> done) override;

    void totals(std::string broadcast_id, completion<std::vector<total_record>> done) override;
    void purchases(std::string user_id, completion<std::vector<purchase_record>> done) override;
    void archives(std::string broadcast_id, completion<std::vector<archive_record>> done) override;

    /// Waits until every write that completed before the call has been written to the target
    /// (true), or `timeout` (false). For tests and orderly shutdown.
    bool wait_drained(std::chrono::milliseconds timeout);

  private:
    queued_records(streams& outbox, std::string key, records& target,
                   queued_records_options options);
    /// Completes `done` with `refused` if set (a field over its limit), else appends `payload`
    /// and completes once it is durable.
    void append(std::optional<core::error> refused, std::string payload,
                std::function<void(core::result<void>)> done);
    void drain();
    /// Writes one entry to the target, retrying while it is unavailable. False: stopping.
    bool apply(const stream_entry& e);
    /// Sleeps `d` unless stopping; false if stopping.
    bool pause(std::chrono::milliseconds d);

    streams& outbox_;
    const std::string key_;
    records& target_;
    const queued_records_options options_;

    std::mutex mutex_;
    std::condition_variable cv_; ///< appended_, drained_, in_flight_ or stopping_ changed
    std::uint64_t appended_ = 0; ///< writes durable in the stream (this object's)
    std::uint64_t drained_ = 0;  ///< appended_ as of the last read that found nothing new
    std::size_t in_flight_ = 0;  ///< appends not completed yet
    bool stopping_ = false;
    std::thread thread_;
};

} // namespace livehouse::state
