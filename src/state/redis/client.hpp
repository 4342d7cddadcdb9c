// The Redis client the server backend runs on: one event-loop thread of its own, pipelined
// connections (connection.hpp), one Redis server or a Redis Cluster found from seed nodes.
//
// Cluster (cluster spec): the slot map comes from CLUSTER SLOTS; a command goes to the master
// serving its key's slot (slots.hpp, hash tags); "-MOVED slot host:port" updates the map and
// re-sends, "-ASK slot host:port" re-sends once to that node after ASKING (a slot being
// migrated), both at most `max_redirects` times; a lost node triggers a map refresh.
//
// Pub/sub is sharded (SSUBSCRIBE/SPUBLISH, Redis 7.0), on one server too: in a cluster a
// message then stays on the shard that owns its channel instead of being copied to every node.
// Each node gets one extra connection in subscriber mode, made when it first has a channel.
//
// Faults: a connection that closes fails every call waiting on it with an error that says why
// (never a hang: a reply later than `reply_timeout` closes it too), then reconnects with
// exponential backoff; calls made while a node is down fail at once; subscriptions are
// restored on the new connection (messages published meanwhile are missed: the bus is at most
// once).
//
// Thread safety: every public function may be called from any thread. Completions and message
// handlers run on the client's thread and must not block; the client must not be destroyed
// from one of them.
#pragma once

#include "core/bytes.hpp"
#include "core/result.hpp"
#include "state/redis/connection.hpp"
#include "state/redis/reply.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace livehouse::state::redis {

struct client_options {
    /// "host:port" of the one server, or of some nodes of a cluster (seeds; the rest are found).
    std::vector<std::string> seeds;
    connection_options connection;
    std::chrono::milliseconds backoff_min{50};
    std::chrono::milliseconds backoff_max{2000};
    int max_redirects = 5;
};

/// Parses `--redis`'s value: "redis://[:password@]host:port[,host:port...]" or bare
/// "host:port,host:port"; the password, if any, applies to every node.
core::result<client_options> parse_redis_urls(std::string_view urls);

class client {
  public:
    using message_handler =
        std::function<void(std::string_view channel, const core::shared_bytes& payload)>;

    /// Connects to the first seed that answers and finds out whether it is a cluster (and the
    /// slot map), blocking the caller until then: a start-up step, with a clear error if no
    /// seed can be used.
    static core::result<std::shared_ptr<client>> connect(client_options options);
    ~client();
    client(const client&) = delete;
    client& operator=(const client&) = delete;

    /// Sends `cmd` to the node that serves `key` (ignored on one server); `done` gets the reply
    /// (error replies included, as kind::error) or an error if there was none.
    void send(command cmd, std::string key, std::function<void(reply_result)> done);

    /// Subscribes to a channel; `ready` as in state::bus. Returns an id for unsubscribe().
    std::uint64_t subscribe(std::string channel, message_handler h,
                            std::function<void(core::result<void>)> ready);
    void unsubscribe(std::uint64_t id);

    [[nodiscard]] bool is_cluster() const;
    /// Connections up now, command and subscriber, to every node (thread-safe): the
    /// redis_connections metric.
    [[nodiscard]] std::size_t open_connections() const;

    struct impl;

  private:
    explicit client(std::shared_ptr<impl> i);
    std::shared_ptr<impl> impl_;
};

} // namespace livehouse::state::redis
