// chat::room: shards per thread and size, delivery order, batching within the flush interval,
// and the pace (newest kept, the rest counted as skipped, never events).
#include "codec/websocket/frame.hpp"
#include "core/bytes.hpp"
#include "services/chat/room.hpp"

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <string>
#include <utility>
#include <vector>

namespace livehouse::services::chat {
namespace {

namespace asio = boost::asio;

struct recorder : room_member {
    std::vector<std::uint64_t> offsets;
    std::vector<std::string> texts;
    void deliver(const core::shared_bytes& frame, std::uint64_t offset) override {
        offsets.push_back(offset);
        codec::websocket::frame_reader r(codec::websocket::role::client);
        (void)r.feed(core::as_bytes(*frame));
        auto e = r.next();
        texts.push_back(e ? e->payload : std::string("<bad frame>"));
    }
};

core::shared_bytes entry(std::uint64_t offset) {
    return core::make_shared_bytes(
        fmt::format(R"({{"type":"message","offset":{},"text":"m"}})", offset));
}

TEST(ChatRoom, ShardsHoldAtMostShardSizeMembersOfOneThread) {
    asio::io_context a;
    asio::io_context b;
    core::counter deliveries;
    room r("b1", {.shard_size = 2, .deliver_per_second = 1000}, a.get_executor(),
           {&deliveries, nullptr});
    std::vector<std::shared_ptr<recorder>> members;
    std::vector<std::shared_ptr<room::shard>> shards;
    for (int i = 0; i < 5; ++i) {
        members.push_back(std::make_shared<recorder>());
        shards.push_back(r.join(members.back(), (i < 3 ? a : b).get_executor()));
    }
    EXPECT_EQ(r.members(), 5U);
    EXPECT_EQ(r.shard_count(), 3U); // a: {0,1} {2}; b: {3,4}
    EXPECT_EQ(shards[0], shards[1]);
    EXPECT_NE(shards[1], shards[2]);
    EXPECT_EQ(shards[3], shards[4]);

    for (std::uint64_t o = 1; o <= 3; ++o) {
        r.on_entry(entry(o), o, true);
    }
    a.run();
    b.run();
    for (const auto& m : members) {
        EXPECT_EQ(m->offsets, (std::vector<std::uint64_t>{1, 2, 3}));
    }
    EXPECT_EQ(deliveries.value(), 15U);

    EXPECT_EQ(r.leave(shards[2], members[2].get()), 4U);
    EXPECT_EQ(r.shard_count(), 2U); // the emptied shard is gone
    r.broadcast_event(core::make_shared_bytes(R"({"type":"status","status":"ended"})"));
    a.restart();
    b.restart();
    a.run();
    b.run();
    EXPECT_EQ(members[0]->texts.back(), R"({"type":"status","status":"ended"})");
    EXPECT_EQ(members[2]->offsets.size(), 3U); // left before the event
}

TEST(ChatRoom, PaceKeepsTheNewestAndCountsTheRestAsSkipped) {
    asio::io_context io;
    core::counter skipped;
    auto r = std::make_shared<room>("b1", room_options{.shard_size = 10, .deliver_per_second = 5},
                                    io.get_executor(), room_metrics{nullptr, &skipped});
    auto m = std::make_shared<recorder>();
    auto s = r->join(m, io.get_executor());
    // 5 go at once (the bucket), 20 more wait; a delete in between is never skipped.
    for (std::uint64_t o = 1; o <= 25; ++o) {
        r->on_entry(entry(o), o, true);
        if (o == 10) {
            r->on_entry(core::make_shared_bytes(R"({"type":"delete","offset":11,"target":1})"), 11,
                        false);
        }
    }
    io.run(); // delivers the first 5, then the timer fires once (100 ms): one token back
    std::vector<std::uint64_t> messages;
    bool delete_seen = false;
    std::size_t skipped_notices = 0;
    for (std::size_t i = 0; i < m->offsets.size(); ++i) {
        if (m->texts[i].find("\"skipped\"") != std::string::npos) {
            ++skipped_notices;
        } else if (m->texts[i].find("\"delete\"") != std::string::npos) {
            delete_seen = true;
        } else {
            messages.push_back(m->offsets[i]);
        }
    }
    ASSERT_GE(messages.size(), 6U);
    EXPECT_EQ(std::vector<std::uint64_t>(messages.begin(), messages.begin() + 5),
              (std::vector<std::uint64_t>{1, 2, 3, 4, 5}));
    EXPECT_EQ(messages.back(), 25U) << "the newest is kept";
    EXPECT_TRUE(delete_seen);
    EXPECT_EQ(skipped_notices, 1U);
    EXPECT_EQ(skipped.value() + messages.size(), 25U) << "every message delivered or counted";
    for (std::size_t i = 1; i < messages.size(); ++i) {
        EXPECT_LT(messages[i - 1], messages[i]);
    }
}

TEST(ChatRoom, EntriesWithinTheFlushIntervalLeaveTogetherAndNoneWaitsLonger) {
    asio::io_context io;
    core::counter deliveries;
    const auto interval = std::chrono::milliseconds(60);
    room r("b1", {.shard_size = 10, .deliver_per_second = 1000, .flush_interval = interval},
           io.get_executor(), {&deliveries, nullptr});
    auto m = std::make_shared<recorder>();
    auto s = r.join(m, io.get_executor());

    // After a quiet spell the first entry goes out at once.
    r.on_entry(entry(1), 1, true);
    io.poll();
    EXPECT_EQ(m->offsets, (std::vector<std::uint64_t>{1}));
    const auto first = std::chrono::steady_clock::now();

    // The next ones, inside the interval, wait for its end and leave in one flush.
    r.on_entry(entry(2), 2, true);
    r.on_entry(entry(3), 3, true);
    io.restart(); // poll() ran out of work, which stops the context
    io.poll();
    EXPECT_EQ(m->offsets, (std::vector<std::uint64_t>{1})) << "held until the interval ends";
    ASSERT_EQ(io.run_one(), 1U); // the shard's timer: one handler delivers both
    const auto waited = std::chrono::steady_clock::now() - first;
    EXPECT_EQ(m->offsets, (std::vector<std::uint64_t>{1, 2, 3}));
    EXPECT_GE(waited, interval - std::chrono::milliseconds(5));
    EXPECT_LT(waited, interval + std::chrono::milliseconds(500)) << "no entry waits much longer";
    EXPECT_EQ(deliveries.value(), 3U);
}

// A member that leaves while the shard delivers to it (a send queue past its hard limit closes
// the connection inside deliver): every other member still gets every entry.
TEST(ChatRoom, AMemberLeavingDuringAFlushCostsTheOthersNothing) {
    asio::io_context io;
    room r("b1", {.shard_size = 10, .deliver_per_second = 1000}, io.get_executor(), {});
    struct leaver : recorder {
        room* rm = nullptr;
        std::shared_ptr<room::shard> shard;
        void deliver(const core::shared_bytes& frame, std::uint64_t offset) override {
            recorder::deliver(frame, offset);
            if (shard) {
                rm->leave(std::exchange(shard, nullptr), this);
            }
        }
    };
    auto quitter = std::make_shared<leaver>();
    quitter->rm = &r;
    quitter->shard = r.join(quitter, io.get_executor()); // first in the list
    std::vector<std::shared_ptr<recorder>> others;
    std::vector<std::shared_ptr<room::shard>> shards;
    for (int i = 0; i < 3; ++i) {
        others.push_back(std::make_shared<recorder>());
        shards.push_back(r.join(others.back(), io.get_executor()));
    }
    for (std::uint64_t o = 1; o <= 3; ++o) {
        r.on_entry(entry(o), o, true);
    }
    io.run();
    EXPECT_EQ(quitter->offsets, (std::vector<std::uint64_t>{1})) << "nothing after it left";
    for (const auto& m : others) {
        EXPECT_EQ(m->offsets, (std::vector<std::uint64_t>{1, 2, 3}));
    }
    EXPECT_EQ(r.members(), 3U);
    // The hole is closed: the next entry reaches the three, and the leaver is gone.
    r.on_entry(entry(4), 4, true);
    io.restart();
    io.run();
    for (const auto& m : others) {
        EXPECT_EQ(m->offsets.back(), 4U);
    }
    EXPECT_EQ(quitter.use_count(), 1) << "the room holds no reference to a member that left";
}

TEST(ChatRoom, ZeroFlushIntervalDeliversEachPostAtOnce) {
    asio::io_context io;
    room r("b1", {.shard_size = 10, .deliver_per_second = 1000, .flush_interval = {}},
           io.get_executor(), {});
    auto m = std::make_shared<recorder>();
    auto s = r.join(m, io.get_executor());
    for (std::uint64_t o = 1; o <= 3; ++o) {
        r.on_entry(entry(o), o, true);
        io.restart();
        io.poll();
        EXPECT_EQ(m->offsets.size(), o);
    }
}

TEST(ChatRoom, WaitersRunWhenTheSubscriptionIsReady) {
    asio::io_context io;
    room r("b1", {}, io.get_executor(), {});
    std::vector<int> calls;
    r.when_ready([&](bool ok) { calls.push_back(ok ? 1 : 0); });
    EXPECT_TRUE(calls.empty());
    r.set_ready(true);
    r.when_ready([&](bool ok) { calls.push_back(ok ? 2 : 0); });
    EXPECT_EQ(calls, (std::vector<int>{1, 2}));
}

} // namespace
} // namespace livehouse::services::chat
