// Room logs: an offset-numbered, capped log per room whose appends are published on a bus
// channel in offset order. The chat log of seed 001 ("chat log in Redis", history on join,
// archive at the end) and the order every node delivers a room's messages in.
//
// Why one operation and not "append, then publish": two nodes appending to one room at once
// would otherwise publish out of offset order (node A takes offset 5, node B offset 6, B
// publishes first). Redis runs the append and the SPUBLISH in one Lua script, so publish order
// is offset order on every node; embedded does both under the room's lock.
//
// Contract:
// - append stores prefix + decimal(offset) + suffix (so the offset can sit inside a JSON
//   message that is built once), assigns offsets 1, 2, 3... per key, keeps the newest `keep`
//   entries, publishes the same bytes on `channel` (the state bus; subscribers get them in
//   offset order) and completes with the offset and the bytes;
// - read(from, max) gives entries with offset >= from, oldest first, at most max; read_tail(n)
//   the newest n, oldest first; both also say the oldest offset still kept and the offset the
//   next append gets, so a reader can tell a gap (from < first) from "nothing new";
// - remove drops the log and its counter (the broadcast is archived); a later append starts
//   at offset 1 again.
// - key and channel must share a non-empty hash tag ("chat|release|{b42}:log" and
//   "chat|release|{b42}:live"): a cluster runs the append on the shard that owns the tag's slot,
//   so the channel must live there too. Every backend refuses other pairs, so a test on the
//   embedded backend catches what a cluster would refuse;
// - delivery is the bus's: at most once, to subscriptions ready before the append. The
//   completion may run before the subscribers have the message (Redis delivers from the shard;
//   the embedded log may leave it to the thread already publishing the room's earlier appends,
//   memory_room_log.hpp);
// - a refused append changes nothing (no offset is used up);
// - Limits: payload (prefix + offset + suffix) <= max_room_log_entry_bytes; keep >= 1 and
//   <= max_room_log_keep; read max and read_tail n <= max_room_log_read.
#pragma once

#include "core/bytes.hpp"
#include "state/shared_state.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace livehouse::state {

inline constexpr std::size_t max_room_log_entry_bytes = std::size_t{64} * 1024;
inline constexpr std::size_t max_room_log_keep = 1'000'000;
inline constexpr std::size_t max_room_log_read = 10'000;

struct log_entry {
    std::uint64_t offset = 0;
    core::shared_bytes payload;
};

struct log_slice {
    std::uint64_t first = 1; ///< oldest offset still kept (== next when the log is empty)
    std::uint64_t next = 1;  ///< the offset the next append gets
    std::vector<log_entry> entries;
};

class room_log {
  public:
    virtual ~room_log() = default;
    /// `key` and `channel` must share a hash tag ({b42}) so a cluster keeps them on one shard.
    virtual void append(std::string key, std::string channel, std::string prefix,
                        std::string suffix, std::size_t keep, completion<log_entry> done) = 0;
    virtual void read(std::string key, std::uint64_t from, std::size_t max,
                      completion<log_slice> done) = 0;
    virtual void read_tail(std::string key, std::size_t n, completion<log_slice> done) = 0;
    virtual void remove(std::string key, completion<void> done) = 0;
};

} // namespace livehouse::state
