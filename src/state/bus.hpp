// The pub/sub bus: a message published on a channel reaches every subscriber of that channel on
// every node (chat fan-out across nodes, seed 001: "Redis pub/sub" between chat servers).
// Embedded: in-process delivery. Server backend (to come): Redis PUBLISH/SUBSCRIBE on one node,
// sharded SPUBLISH/SSUBSCRIBE in a cluster so a message is not copied to every shard.
//
// Contract:
// - delivery is at most once, to subscriptions that were ready (their `ready` completion ran)
//   before the publish; a node that loses its connection misses what is published meanwhile
//   (the services keep history elsewhere: chat's log, offsets);
// - messages of one publisher on one channel arrive in publish order;
// - a handler runs on an unspecified thread (embedded: the publisher's, before publish
//   completes) and must not block; payloads are shared, immutable bytes (serialized once);
// - destroying a subscription stops new deliveries to it; one already running may finish, so
//   the handler must own (shared_ptr) whatever it touches.
#pragma once

#include "core/bytes.hpp"
#include "state/shared_state.hpp"

#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace livehouse::state {

/// Largest payload a bus carries (a chat message or a system event is far smaller).
inline constexpr std::size_t max_bus_payload_bytes = 256 * 1024;

class bus {
  public:
    using handler =
        std::function<void(std::string_view channel, const core::shared_bytes& payload)>;

    /// Ends the subscription when destroyed.
    class subscription {
      public:
        virtual ~subscription() = default;
    };

    virtual ~bus() = default;

    /// Publishes; completes once the backend has taken the message (embedded: after delivering
    /// it here). Errors: channel or payload over the limits, connection lost.
    virtual void publish(std::string channel, core::shared_bytes payload,
                         completion<void> done) = 0;

    /// Subscribes `h` to `channel`; `ready` completes when messages published from then on
    /// will be delivered, or with the error that prevents it (the call then returns nullptr).
    virtual std::unique_ptr<subscription> subscribe(std::string channel, handler h,
                                                    completion<void> ready) = 0;
};

} // namespace livehouse::state
