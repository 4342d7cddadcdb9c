// Chat settings ([chat] in the config file; config/livehouse.example.toml documents each key).
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace livehouse::services::chat {

struct chat_config {
    /// Most connections of one room in one shard. A shard lives on one event-loop thread and
    /// is reached with one post per message (seed 001: rooms split into groups of a few
    /// thousand).
    std::size_t shard_size = 2000;
    /// Messages sent on join.
    std::size_t history = 100;
    /// Entries the room log keeps (the archive holds at most this many).
    std::size_t max_log = 100000;
    /// Most missed entries a reconnecting client may ask for (?since=); more is a history gap.
    std::size_t max_resume = 1000;
    std::size_t max_text_chars = 500;
    std::size_t max_message_bytes = 4096; ///< one inbound WebSocket message
    /// Per user, on each node: a burst, then this many messages per second.
    double user_messages_per_second = 1;
    double user_burst = 5;
    /// What a viewer is shown of a busy room, per second; beyond it the newest are kept and
    /// the rest counted as skipped (the log keeps everything).
    double deliver_per_second = 30;
    /// Most often a room's shard writes to its connections: what arrives within it leaves in
    /// one write per connection (room.hpp, "Batching"). Zero: at once.
    std::chrono::milliseconds flush_interval{100};
    /// Words that refuse a message (case-insensitive for ASCII letters).
    std::vector<std::string> banned_words;
    /// A connection's send queue: closed past the hard limit, or past the soft limit for
    /// longer than soft_limit_time (Redis's client-output-buffer-limit).
    std::size_t send_soft_limit_bytes = 256 * 1024;
    std::chrono::milliseconds send_soft_limit_time{std::chrono::seconds(10)};
    std::size_t send_hard_limit_bytes = 1024 * 1024;
    /// Accept rooms for broadcasts this node does not know (a chat-only node of a cluster whose
    /// broadcasts live on the ingest nodes). Off on a single node: an unknown id is a 404.
    bool accept_unknown_broadcasts = false;
};

} // namespace livehouse::services::chat
