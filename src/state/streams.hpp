// Durable streams: an append-only log per key, read by consumer groups, with acknowledgement
// and re-delivery (Redis Streams: XADD, XREADGROUP, XACK, XAUTOCLAIM). What must not be lost
// on its way somewhere else goes through one: love batches on their way to the analytics
// files, records waiting for PostgreSQL to come back (issue 3: "records queue in the durable
// stream and are written when it returns, nothing lost").
//
// Contract:
// - append completes only once the entry survives a crash of this process (embedded: committed
//   to SQLite with synchronous=FULL); its id orders it within the stream;
// - read gives a consumer of a group, first, entries the group was given more than
//   `claim_after` ago and has not acknowledged (whoever had them is presumed dead: they are
//   re-delivered, `deliveries` counting the attempts), then entries never given to the group,
//   oldest first, at most `max` in all. A group is created by its first read (max 0 creates it
//   and reads nothing), from the start of what the stream holds;
// - ack marks entries done for the group; an entry every existing group of its stream has
//   acknowledged may be deleted, so a group that must see every entry is created before the
//   entries are appended (the services create theirs at start-up);
// - everything, unacknowledged deliveries included, survives a restart.
#pragma once

#include "state/shared_state.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace livehouse::state {

/// Largest entry payload (a love batch or a record is far smaller).
inline constexpr std::size_t max_stream_payload_bytes = 1024 * 1024;

struct stream_entry {
    std::string id; ///< opaque; increasing within a stream
    std::string payload;
    std::uint32_t deliveries = 0; ///< 1 on the first delivery, then one more per re-delivery
};

class streams {
  public:
    virtual ~streams() = default;
    virtual void append(std::string key, std::string payload, completion<std::string> done) = 0;
    virtual void read(std::string key, std::string group, std::string consumer, std::size_t max,
                      std::chrono::milliseconds claim_after,
                      completion<std::vector<stream_entry>> done) = 0;
    /// Completes with how many of `ids` were pending for the group (and are now done).
    virtual void ack(std::string key, std::string group, std::vector<std::string> ids,
                     completion<std::size_t> done) = 0;
};

} // namespace livehouse::state
