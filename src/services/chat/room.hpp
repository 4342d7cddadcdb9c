// One chat room on this node: its connections, split into shards, and the pace at which the
// room's log entries reach them.
//
// Shards (seed 001: "rooms split into groups of a few thousand"): a shard is at most
// `shard_size` connections of one event-loop thread. A log entry arriving from the bus is
// turned into one WebSocket frame (codec::websocket::encode_frame, once per node) and reaches
// every shard with one post; on its thread the shard hands the same shared bytes to each
// connection's send queue. No lock is taken per connection and nothing is copied per
// connection. Shards are created as connections arrive and dropped when empty.
//
// Batching (the cost of fan-out is a syscall per connection per flush, on the server and on
// every reader): a shard delivers what arrived at once, and at most once per `flush_interval`.
// The first entry after a quiet spell goes out at once; entries arriving within the interval
// after a flush wait for its end and leave together, so each connection gets them in one
// sendmsg(2). A busy room costs 1/flush_interval flushes per second per shard however many
// messages it gets, and no entry waits longer than flush_interval.
//
// Pace (the room that knocked over a JVM with 10,000+ messages a minute): messages beyond
// `deliver_per_second` (a token bucket of that size) wait in a bounded queue; every 100 ms
// the newest that the bucket allows are delivered, the older ones are counted as skipped and
// each viewer is told how many ({"type":"skipped"}). Other entries (deletes, status) are never
// skipped and keep their place. The log keeps everything: only delivery is thinned.
//
// Threading: on_entry() and the pacing timer may run on any thread; they take the room's
// mutex and post to shards under it, so every shard sees entries in log order. join() and
// leave() run on the member's own thread (the shard's), which is the only thread touching
// the shard's member list.
#pragma once

#include "core/bytes.hpp"
#include "core/metrics.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace livehouse::services::chat {

/// A connection as the room sees it. Called on the member's thread; a member may leave the
/// room from inside any of these (a send queue past its hard limit closes the connection).
class room_member {
  public:
    virtual ~room_member() = default;
    /// A batch of deliver() calls follows, then end_batch(): hold the writes until then.
    virtual void begin_batch() {}
    /// `offset` is the entry's log offset, 0 for events outside the log (status, skipped).
    virtual void deliver(const core::shared_bytes& frame, std::uint64_t offset) = 0;
    /// The batch is complete: write it.
    virtual void end_batch() {}
};

struct room_options {
    std::size_t shard_size = 2000;
    double deliver_per_second = 30;
    /// Most often a shard flushes to its connections; zero: once per event-loop turn.
    std::chrono::milliseconds flush_interval{100};
};

struct room_metrics {
    core::counter* deliveries = nullptr; ///< frames handed to connections
    core::counter* skipped = nullptr;    ///< messages not delivered to keep the pace
};

class room : public std::enable_shared_from_this<room> {
  public:
    struct shard;

    /// `timer_exec` runs the pacing timer.
    room(std::string id, room_options options, boost::asio::any_io_executor timer_exec,
         room_metrics metrics);
    ~room();
    room(const room&) = delete;
    room& operator=(const room&) = delete;

    [[nodiscard]] const std::string& id() const { return id_; }

    /// Adds `m` to a shard of `exec` (the caller's thread) with room left, or a new one.
    std::shared_ptr<shard> join(std::shared_ptr<room_member> m, boost::asio::any_io_executor exec);
    /// Removes `m` from `s`; returns the members left in the whole room.
    std::size_t leave(const std::shared_ptr<shard>& s, const room_member* m);
    [[nodiscard]] std::size_t members() const;
    [[nodiscard]] std::size_t shard_count() const;

    /// A log entry or an event (JSON text) from the bus; `offset` 0 for events.
    void on_entry(const core::shared_bytes& json, std::uint64_t offset, bool is_message);
    /// Sends a frame to every member now, outside the pace (status changes).
    void broadcast_event(const core::shared_bytes& json);

    /// Subscription state: callbacks wait until the room's bus subscription is ready (or
    /// failed), so a joiner reads history only once it cannot miss what follows.
    void when_ready(std::function<void(bool ok)> f);
    void set_ready(bool ok);

  private:
    struct pending {
        core::shared_bytes frame;
        std::uint64_t offset = 0;
        bool is_message = false;
    };

    void fan_out_locked(const core::shared_bytes& frame, std::uint64_t offset);
    static void schedule_flush(const std::shared_ptr<shard>& s);
    static void flush(const std::shared_ptr<shard>& s);
    void refill_locked(std::chrono::steady_clock::time_point now);
    void arm_timer_locked();
    void on_tick();

    const std::string id_;
    const room_options options_;
    room_metrics metrics_;

    mutable std::mutex mu_;
    std::vector<std::shared_ptr<shard>> shards_;
    std::size_t members_ = 0;
    // Pace.
    double tokens_;
    std::chrono::steady_clock::time_point refilled_at_;
    std::deque<pending> queue_;
    boost::asio::steady_timer timer_;
    bool timer_armed_ = false;
    // Subscription.
    int ready_ = 0; ///< 0 waiting, 1 ready, -1 failed
    std::vector<std::function<void(bool)>> waiting_;
};

} // namespace livehouse::services::chat
