// The embedded room log (state/room_log.hpp's contract): per key, the newest `keep` entries in a
// deque and the next offset, behind the key's stripe mutex; appends are published on the bus the
// log was given (the backends' memory_bus, so they reach that bus's subscribers).
//
// Publish order is offset order without holding the stripe mutex while handlers run. memory_bus
// delivers synchronously, on the publisher's thread, to every subscriber before publish()
// returns; if the log published under its lock, a handler that reads the log, or appends to any
// key in the same stripe, would deadlock, and one that appends to the same room would deliver
// offset 6 in the middle of offset 5's fan-out. Instead an append queues its message on the log
// (under the lock, so queue order is offset order) and, if no thread is publishing that log's
// messages, becomes its publisher: it publishes the queue, oldest first, outside the lock, until
// it is empty. Appends made meanwhile (by other threads, or re-entrantly by a handler) only
// queue; so one thread at a time publishes a log, in order.
//
// Consequence: an append's completion may run before its message has been delivered (another
// thread is delivering it). The queue is bounded: at max_room_log_unpublished messages waiting
// (subscribers far slower than the appends), append is refused until the publisher catches up.
//
// Memory: at most keep (<= max_room_log_keep) entries of at most max_room_log_entry_bytes per
// key; remove() frees the key. Nothing survives a restart.
#pragma once

#include "state/bus.hpp"
#include "state/embedded/memory_state.hpp"
#include "state/room_log.hpp"

#include <cstdint>
#include <deque>
#include <memory>
#include <string>

namespace livehouse::state::embedded {

/// Most messages queued on one log for its publisher (see above).
inline constexpr std::size_t max_room_log_unpublished = 65'536;

class memory_room_log final : public room_log {
  public:
    /// `b` must outlive the log and keep the order of publish() calls per channel (memory_bus
    /// delivers before publish returns).
    explicit memory_room_log(bus& b) : bus_(b) {}

    void append(std::string key, std::string channel, std::string prefix, std::string suffix,
                std::size_t keep, completion<log_entry> done) override;
    void read(std::string key, std::uint64_t from, std::size_t max,
              completion<log_slice> done) override;
    void read_tail(std::string key, std::size_t n, completion<log_slice> done) override;
    void remove(std::string key, completion<void> done) override;

  private:
    struct message {
        std::string channel;
        core::shared_bytes payload;
    };
    struct log {
        std::deque<core::shared_bytes> entries; ///< offsets next - size .. next - 1
        std::uint64_t next = 1;
        std::deque<message> unpublished; ///< in offset order
        bool publishing = false;         ///< a thread is publishing `unpublished`
    };
    /// Publishes l's queue until it is empty; called by the thread that set l.publishing.
    void publish_queued(const std::string& key, log& l);
    /// A slice of `l` (may be null: no log) from index `start` of its entries, at most `n`.
    static log_slice slice(const log* l, std::size_t start, std::size_t n);

    bus& bus_;
    // Shared: a publisher keeps the log alive after remove() has dropped it from the map.
    striped_map<std::shared_ptr<log>> logs_;
};

} // namespace livehouse::state::embedded
