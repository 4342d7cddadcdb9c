// The state a node runs on, chosen by configuration ([state] in the config file, --redis and
// --postgres): every interface of state/ opened on its backend, with one place that knows which
// is which. docs/ARCHITECTURE.md ("State: what lives where") explains the choices:
//
//   kind                                   embedded (default)          server
//   counters, rankings, sets, bus,         this process's memory       Redis / Redis Cluster
//   inventory, room logs ("shared")
//   love counts (shared)                   memory + a journal,         Redis / Redis Cluster
//                                          SQLite <data_dir>/love.db
//   durable streams                        SQLite, <data_dir>/streams.db   Redis Streams
//   relational records                     SQLite, <data_dir>/records.db   PostgreSQL, written
//                                                                          through an outbox
//                                                                          stream (queued_records)
//
// "auto" picks the server backend when its address is configured. Opening is a start-up step:
// it blocks until each backend answers (or fails with a clear error naming the address, never
// the password), so a node with a wrong address does not start half-working.
#pragma once

#include "core/result.hpp"
#include "state/bus.hpp"
#include "state/inventory.hpp"
#include "state/keys.hpp"
#include "state/love_counts.hpp"
#include "state/records.hpp"
#include "state/room_log.hpp"
#include "state/shared_state.hpp"
#include "state/streams.hpp"

#include <chrono>
#include <memory>
#include <string>

namespace livehouse::state {

namespace redis {
class client;
}
namespace postgres {
class pg_pool;
}

struct backends_options {
    std::string data_dir;          ///< embedded files go here (must exist)
    std::string phase = "release"; ///< key namespace phase (seed 002)
    std::string redis;             ///< --redis: "host:port[,...]"; empty: none
    std::string postgres;          ///< --postgres: libpq conninfo; empty: none
    std::string shared = "auto";   ///< auto | embedded | redis
    std::string streams = "auto";  ///< auto | embedded | redis
    std::string records = "auto";  ///< auto | embedded | postgres
    std::chrono::milliseconds redis_reply_timeout{5000};
    std::size_t postgres_pool = 8;
    std::chrono::milliseconds postgres_acquire_timeout{250};
    std::string node_name = "node"; ///< this node's consumer name in shared streams
};

class backends {
  public:
    static core::result<std::unique_ptr<backends>> open(const backends_options& options);
    ~backends();
    backends(const backends&) = delete;
    backends& operator=(const backends&) = delete;

    state::counters& counters() { return *counters_; }
    state::sorted_sets& sorted_sets() { return *sorted_sets_; }
    state::sets& sets() { return *sets_; }
    state::bus& bus() { return *bus_; }
    state::inventory& inventory() { return *inventory_; }
    /// Room logs on the shared backend; appends are published on bus(), so its subscribers get
    /// them.
    state::room_log& room_log() { return *room_log_; }
    state::love_counts& love_counts() { return *love_counts_; }
    state::streams& streams() { return *streams_; }
    state::records& records() { return *records_front_; }

    /// Keys of one service in this node's phase.
    [[nodiscard]] core::result<key_space> keys(std::string_view service) const;

    /// Which backend serves each kind: "embedded", "redis", "redis-cluster", "postgres".
    [[nodiscard]] const std::string& shared_backend() const { return shared_name_; }
    [[nodiscard]] const std::string& streams_backend() const { return streams_name_; }
    [[nodiscard]] const std::string& records_backend() const { return records_name_; }
    /// Connections open now to Redis (every node, commands and subscriptions) and in the
    /// PostgreSQL pool; 0 for a backend not in use. Thread-safe: the node's metrics.
    [[nodiscard]] std::size_t redis_connections() const;
    [[nodiscard]] std::size_t postgres_connections() const;
    /// One line for the start-up log: kinds, backends, addresses (never a password).
    [[nodiscard]] std::string describe() const;

  private:
    backends() = default;

    std::string phase_;
    std::string shared_name_, streams_name_, records_name_, where_;
    // Destroyed bottom-up: the records front (it drains into the target through the stream)
    // before the target and the stream, and all before the Redis client they use.
    std::shared_ptr<redis::client> redis_;
    std::unique_ptr<state::counters> counters_;
    std::unique_ptr<state::sorted_sets> sorted_sets_;
    std::unique_ptr<state::sets> sets_;
    std::unique_ptr<state::bus> bus_;
    std::unique_ptr<state::inventory> inventory_;
    std::unique_ptr<state::room_log> room_log_; ///< publishes on bus_: destroyed before it
    std::unique_ptr<state::love_counts> love_counts_;
    std::unique_ptr<state::streams> streams_;
    std::unique_ptr<state::records> records_target_;
    postgres::pg_pool* pg_pool_ = nullptr; ///< records_target_'s pool, when it is PostgreSQL
    std::unique_ptr<state::records> records_front_owned_;
    state::records* records_front_ = nullptr;
};

} // namespace livehouse::state
