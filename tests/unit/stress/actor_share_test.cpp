// actor_share / join_schedule: a phase's actors are split over the loops without overlap, and a
// loop busy with other work still joins its actors on the ramp's schedule (every join already
// due at a wake-up), not one per wake-up behind it.
#include "stress/actor_share.hpp"

#include <boost/asio/post.hpp>
#include <gtest/gtest.h>
#include <set>
#include <thread>
#include <vector>

namespace livehouse::stress {
namespace {

using clock_type = actor_share::clock_type;
using namespace std::chrono_literals;

TEST(ActorShare, LoopsSplitThePhaseWithoutOverlap) {
    const auto begin = clock_type::now();
    std::set<std::uint64_t> ordinals;
    std::size_t total = 0;
    for (std::size_t slot = 0; slot < 7; ++slot) {
        const auto s = share_of(100, 10s, begin, begin + 60s, slot, 7);
        total += s.count;
        for (std::size_t i = 0; i < s.count; ++i) {
            EXPECT_TRUE(ordinals.insert(s.ordinal(i)).second) << "ordinal " << s.ordinal(i);
            // Actor j joins at begin + ramp * j / N, whichever loop holds it.
            EXPECT_EQ(s.join_time(i), begin + 100ms * s.ordinal(i));
        }
    }
    EXPECT_EQ(total, 100U);
    EXPECT_EQ(*ordinals.rbegin(), 99U);
}

TEST(JoinSchedule, ABusyLoopKeepsToTheRamp) {
    boost::asio::io_context ioc;
    const auto begin = clock_type::now() + 20ms;
    // 200 actors over 200 ms on a loop whose every turn also runs 5 ms of other work (the
    // players it already has): one join per wake-up would manage about 40 of them by the end
    // of the ramp.
    const auto share = share_of(200, 200ms, begin, begin + 2s, 0, 1);
    std::vector<clock_type::time_point> joined(share.count);
    std::size_t n = 0;
    join_schedule joins(ioc, share, [&](std::size_t i) {
        joined[i] = clock_type::now();
        ++n;
    });
    joins.start();
    std::function<void()> busy = [&] {
        std::this_thread::sleep_for(5ms);
        if (n < share.count && clock_type::now() < share.end) {
            boost::asio::post(ioc, busy);
        }
    };
    boost::asio::post(ioc, busy);
    ioc.run();
    ASSERT_EQ(n, share.count);
    clock_type::duration worst{0};
    for (std::size_t i = 0; i < share.count; ++i) {
        EXPECT_GE(joined[i], share.join_time(i)) << "actor " << i << " joined early";
        worst = std::max(worst, joined[i] - share.join_time(i));
    }
    // A turn of other work (5 ms) and the timer's wake-up, with room for a loaded CI machine:
    // one join per turn falls ~800 ms behind here.
    EXPECT_LT(worst, 200ms) << std::chrono::duration<double, std::milli>(worst).count() << " ms";
}

TEST(JoinSchedule, NobodyJoinsAtOrAfterTheEnd) {
    boost::asio::io_context ioc;
    const auto begin = clock_type::now();
    // 10 actors over 1 s, the phase ending after 0.35 s: actors 0..3 join (at 0, 0.1, 0.2,
    // 0.3 s).
    const auto share = share_of(10, 1s, begin, begin + 350ms, 0, 1);
    std::size_t n = 0;
    join_schedule joins(ioc, share, [&](std::size_t) { ++n; });
    joins.start();
    ioc.run();
    EXPECT_EQ(n, 4U);
}

} // namespace
} // namespace livehouse::stress
