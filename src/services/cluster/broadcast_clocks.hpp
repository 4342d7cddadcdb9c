// What every node knows of the broadcasts other nodes ingest: whether each is live and where
// its media timeline is now. A node with a broadcast publishes, every 2 s, one small event per
// live or suspended broadcast on one channel of the state bus,
//
//   {"id":"b42","position":123.456,"live":true}
//
// and every node keeps the latest per broadcast. A node without the broadcast can then take
// what needs its live status and media position — love taps (judged against the range the
// viewer could have played) and chat messages (stamped with the position) — as the ingesting
// node would. An entry older than stale_after (three periods missed: the node went away, the
// broadcast ended) counts as unknown. Fire-and-forget like the bus: a lost event costs two
// seconds of extrapolation.
//
// Threading: tick() on one thread (the app's); lookup() from any thread.
#pragma once

#include "core/clock.hpp"
#include "media/broadcast.hpp"
#include "state/bus.hpp"
#include "state/keys.hpp"

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace livehouse::services::cluster {

struct remote_clock {
    double position_s = 0; ///< the live edge now (extrapolated while live)
    bool live = false;     ///< false: suspended
};

class broadcast_clocks : public std::enable_shared_from_this<broadcast_clocks> {
  public:
    static constexpr int period_ticks = 2;
    static constexpr std::chrono::seconds stale_after{6};
    static constexpr std::size_t max_entries = 100000;

    static std::shared_ptr<broadcast_clocks> create(state::bus& bus, state::key_space keys,
                                                    media::broadcast_registry& registry,
                                                    const core::clock& clock);
    broadcast_clocks(const broadcast_clocks&) = delete;
    broadcast_clocks& operator=(const broadcast_clocks&) = delete;
    ~broadcast_clocks();

    /// Subscribes the channel (once, at start-up).
    void start();
    /// Every second: every period_ticks, publishes this node's live and suspended broadcasts.
    void tick();
    /// Another node's broadcast, as its last event said; nullopt if unknown or stale.
    [[nodiscard]] std::optional<remote_clock> lookup(const std::string& broadcast_id) const;
    /// Drops the subscription (shutdown).
    void close();

  private:
    broadcast_clocks(state::bus& bus, state::key_space keys, media::broadcast_registry& registry,
                     const core::clock& clock);
    void on_event(std::string_view payload);

    struct entry {
        double position_s = 0;
        bool live = false;
        std::chrono::steady_clock::time_point at;
    };

    state::bus& bus_;
    const std::string channel_;
    media::broadcast_registry& registry_;
    const core::clock& clock_;
    int ticks_ = 0;
    std::unique_ptr<state::bus::subscription> sub_;

    mutable std::mutex mu_;
    std::unordered_map<std::string, entry> entries_;
};

} // namespace livehouse::services::cluster
