// The chat service of one node (issue 4, seed 001): rooms per broadcast, each split into
// shards on this node's event-loop threads, fed from the room's log on the state bus so that
// every node delivers a room's messages in the same (offset) order.
//
//   sender ─ws─> chat_connection ─post_message─> state::room_log.append (offset assigned,
//   entry stored and published in one step) ─bus─> every node's room ─one post per shard─>
//   each connection's send queue (the same frame bytes for all)
//
// What lives where (state/): the room log (history on join, resume by offset, archive) in
// room_log; mutes in a set; paid-message idempotency in records (the purchase) and a set (the
// post); status and mute events on the bus only (they need no history).
//
// Threading: thread-safe; called from connection threads and from state completions (any
// thread). Rooms are held by a reference count per broadcast: the first joiner on this node
// subscribes the room's channel, the last one to leave drops the subscription.
#pragma once

#include "codec/chat/server_messages.hpp"
#include "core/clock.hpp"
#include "core/metrics.hpp"
#include "media/broadcast.hpp"
#include "services/chat/chat_config.hpp"
#include "services/chat/room.hpp"
#include "services/cluster/broadcast_clocks.hpp"
#include "state/bus.hpp"
#include "state/keys.hpp"
#include "state/records.hpp"
#include "state/room_log.hpp"
#include "state/shared_state.hpp"

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace livehouse::core {
class rate_limiter;
} // namespace livehouse::core

namespace livehouse::services::auth {
class user_tokens;
} // namespace livehouse::services::auth

namespace livehouse::services::chat {

struct chat_deps {
    state::room_log& log;
    state::bus& bus;
    state::sets& sets;
    state::records& records;
    state::key_space keys; ///< the "chat" service's keys in this node's phase
    media::broadcast_registry& registry;
    const core::clock& clock;
    std::shared_ptr<const auth::user_tokens> tokens; ///< null: nobody can send
    std::string data_dir;                            ///< archives go to <data_dir>/vod/<id>/
    media::task_runner io;                           ///< blocking file work
    boost::asio::any_io_executor timer_exec;         ///< rooms' pacing timers
    core::metrics_registry& metrics;
    /// Other nodes' broadcasts (null: only this node's): a chat-only node stamps its messages
    /// with the media position the ingesting node publishes.
    std::shared_ptr<const cluster::broadcast_clocks> clocks;
};

/// Whether a broadcast can have a chat room here, and what it is doing.
enum class room_access { unknown, open, ended };

class chat_service : public std::enable_shared_from_this<chat_service> {
  public:
    static std::shared_ptr<chat_service> create(chat_config config, chat_deps deps);
    ~chat_service();
    chat_service(const chat_service&) = delete;
    chat_service& operator=(const chat_service&) = delete;

    [[nodiscard]] const chat_config& config() const { return config_; }
    [[nodiscard]] const auth::user_tokens* tokens() const { return deps_.tokens.get(); }
    [[nodiscard]] state::room_log& log() { return deps_.log; }
    [[nodiscard]] state::records& records() { return deps_.records; }
    [[nodiscard]] state::sets& sets() { return deps_.sets; }
    [[nodiscard]] media::task_runner& io() { return deps_.io; }
    [[nodiscard]] const std::string& data_dir() const { return deps_.data_dir; }

    // Keys: one hash tag per broadcast, so a cluster keeps a room's keys and channel together.
    [[nodiscard]] std::string log_key(std::string_view broadcast_id) const;
    [[nodiscard]] std::string channel(std::string_view broadcast_id) const;
    [[nodiscard]] std::string muted_key(std::string_view broadcast_id) const;
    [[nodiscard]] std::string paid_key(std::string_view broadcast_id) const;

    [[nodiscard]] room_access access(std::string_view broadcast_id) const;
    /// The broadcast's media position now: from the registry when this node has the broadcast,
    /// else from the node that has it (cluster::broadcast_clocks), else 0.
    [[nodiscard]] double position(std::string_view broadcast_id) const;

    /// The room of a broadcast on this node, subscribed on first use. Pair with release_room.
    std::shared_ptr<room> acquire_room(const std::string& broadcast_id);
    void release_room(const std::string& broadcast_id);

    /// A message id unique across nodes (node prefix + counter).
    [[nodiscard]] std::string next_message_id();
    /// Appends a message (or a delete) to the room's log; it reaches every node's room.
    void post_message(const std::string& broadcast_id, const codec::chat::message_fields& m,
                      state::completion<state::log_entry> done);
    void post_delete(const std::string& broadcast_id, std::uint64_t target,
                     state::completion<state::log_entry> done);
    /// Mutes a user in a room for the rest of the broadcast and tells the room; completes
    /// with true if the user was not muted before.
    void mute(const std::string& broadcast_id, const std::string& user_id,
              state::completion<bool> done);
    /// Lifts a mute and tells the room; completes with true if the user was muted.
    void unmute(const std::string& broadcast_id, const std::string& user_id,
                state::completion<bool> done);

    /// True when `user_id` may send now (per-user token bucket on this node).
    bool take_send_token(const std::string& user_id);
    /// The banned word `text` contains, if any.
    [[nodiscard]] std::optional<std::string> banned_word(std::string_view text) const;

    /// Sends a system event (JSON text, e.g. codec::chat::render_love) to the room's viewers on
    /// every node, outside the log (no history, no pace).
    void publish_event(const std::string& broadcast_id, std::string json);
    /// Hook for broadcast status changes: tells the room, and archives the log at the end.
    void on_broadcast_change(const media::broadcast_record& record);
    /// Completes once the archive of `broadcast_id` is written (tests, shutdown).
    void archive(const std::string& broadcast_id, state::completion<state::archive_record> done);
    /// Blocks (never on an event loop: shutdown's thread) until every archive started has
    /// completed, or `timeout` passed; false on the timeout. Shutdown calls it after ending
    /// the broadcasts and before joining the file pool, so that an archive whose log read
    /// completes late still finds the pool to write on.
    bool wait_for_archives(std::chrono::milliseconds timeout);

    /// Drops every room and subscription (shutdown, before the event loops are destroyed).
    void close();

    // Instruments.
    core::gauge& connections_gauge() { return *connections_; }
    core::counter& refusals() { return *refusals_; }
    core::counter& posted() { return *posted_; }

  private:
    chat_service(chat_config config, chat_deps deps);

    struct room_slot {
        std::shared_ptr<room> r;
        std::unique_ptr<state::bus::subscription> sub;
        std::size_t refs = 0;
    };

    const chat_config config_;
    chat_deps deps_;
    std::unique_ptr<core::rate_limiter> send_limiter_;
    std::string node_prefix_;
    std::atomic<std::uint64_t> message_seq_{0};

    std::mutex archives_mu_;
    std::condition_variable archives_cv_;
    std::size_t archives_pending_ = 0;

    mutable std::mutex rooms_mu_;
    std::unordered_map<std::string, room_slot> rooms_;

    core::gauge* connections_ = nullptr;
    core::gauge* rooms_gauge_ = nullptr;
    core::counter* refusals_ = nullptr;
    core::counter* posted_ = nullptr;
    core::counter* deliveries_ = nullptr;
    core::counter* skipped_ = nullptr;
    core::counter* archives_ = nullptr;
};

} // namespace livehouse::services::chat
