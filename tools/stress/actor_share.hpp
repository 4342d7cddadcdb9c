// actor_share: how a phase's N actors (HLS viewers, love tappers, chat clients) are spread
// over the event loops generating the load — every loop of every worker process together — and
// when each joins. Actor j of the phase joins at begin + ramp * j / N; loop `index` of `slots`
// takes j = index, index + slots, ... So the audience ramps up evenly whatever the number of
// loops or workers, and actor ids (1-based, from j) are unique across all of them.
//
// join_schedule calls a function at each of one loop's join times, on one timer (every join
// already due at a wake-up, so a busy loop does not fall behind the ramp).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

namespace livehouse::stress {

struct actor_share {
    using clock_type = std::chrono::steady_clock;

    std::size_t count = 0;           ///< actors on this loop
    std::uint64_t first_ordinal = 0; ///< j of this loop's first actor
    std::uint64_t ordinal_step = 1;  ///< between two of this loop's actors
    clock_type::time_point first_join;
    clock_type::duration join_every{}; ///< between two joins on this loop
    clock_type::time_point end;        ///< the phase's end: every actor stops then

    /// The actor's ordinal in the whole phase (0-based), and its id (1-based).
    [[nodiscard]] std::uint64_t ordinal(std::size_t i) const {
        return first_ordinal + ordinal_step * i;
    }
    [[nodiscard]] std::uint64_t id(std::size_t i) const { return ordinal(i) + 1; }
    [[nodiscard]] clock_type::time_point join_time(std::size_t i) const {
        return first_join + join_every * static_cast<std::int64_t>(i);
    }
};

/// Loop `index` of `slots`' share of `total` actors joining evenly over `ramp` from `begin`.
inline actor_share share_of(std::size_t total, std::chrono::microseconds ramp,
                            actor_share::clock_type::time_point begin,
                            actor_share::clock_type::time_point end, std::size_t index,
                            std::size_t slots) {
    actor_share s;
    s.count = total / slots + (index < total % slots ? 1 : 0);
    s.first_ordinal = index;
    s.ordinal_step = slots;
    const auto step = std::chrono::duration_cast<actor_share::clock_type::duration>(ramp) /
                      static_cast<std::int64_t>(std::max<std::size_t>(1, total));
    s.first_join = begin + step * static_cast<std::int64_t>(index);
    s.join_every = step * static_cast<std::int64_t>(slots);
    s.end = end;
    return s;
}

/// Calls join(i) at share.join_time(i) for every i in [0, share.count) while before share.end.
class join_schedule {
  public:
    join_schedule(boost::asio::io_context& ioc, const actor_share& share,
                  std::function<void(std::size_t)> join)
        : timer_(std::make_unique<boost::asio::steady_timer>(ioc)), share_(share),
          join_(std::move(join)) {}

    void start() { arm(0); }

  private:
    void arm(std::size_t i) {
        if (i >= share_.count || share_.join_time(i) >= share_.end) {
            return;
        }
        timer_->expires_at(share_.join_time(i));
        timer_->async_wait([this, i](boost::system::error_code ec) {
            if (ec) {
                return;
            }
            // Everyone due by now joins, not one per wake-up: a loop busy with thousands of
            // players runs a few hundred timer wake-ups a second, and one join per wake-up
            // fell behind the ramp — 100,000 viewers on six loops had ~9 % join after the
            // run's end instead of during the ramp.
            const auto now = actor_share::clock_type::now();
            std::size_t j = i;
            do {
                join_(j++);
            } while (j < share_.count && share_.join_time(j) <= now &&
                     share_.join_time(j) < share_.end);
            arm(j);
        });
    }

    std::unique_ptr<boost::asio::steady_timer> timer_;
    const actor_share& share_;
    std::function<void(std::size_t)> join_;
};

} // namespace livehouse::stress
