// Faults of the Redis backend, provoked for real on private servers: a server killed and
// restarted mid-run (in-flight calls fail with a clear error, the client reconnects with
// backoff, acknowledged writes survive, subscriptions come back), a server that stops
// answering (calls fail at the reply timeout instead of hanging), and a slot moved between
// cluster masters while the client runs (ASK during the migration, MOVED after it).
#include "livehouse_test/redis_server.hpp"
#include "livehouse_test/wait.hpp"
#include "state/redis/client.hpp"
#include "state/redis/redis_state.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <gtest/gtest.h>
#include <mutex>
#include <sstream>
#include <thread>

namespace livehouse::state::redis {
namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

using test::wait_result;

std::shared_ptr<client> connect(const std::string& seeds,
                                std::chrono::milliseconds reply_timeout = 5000ms) {
    auto o = parse_redis_urls(seeds);
    EXPECT_TRUE(o) << o.err().message;
    o->connection.reply_timeout = reply_timeout;
    o->backoff_max = 200ms;
    auto c = client::connect(*o);
    EXPECT_TRUE(c) << c.err().message;
    return c ? *c : nullptr;
}

TEST(redis_client, connect_to_nothing_fails_with_the_address) {
    const auto port = test::free_port();
    auto o = parse_redis_urls(std::string("127.0.0.1:").append(std::to_string(port)));
    ASSERT_TRUE(o);
    const auto t0 = steady::now();
    auto c = client::connect(*o);
    ASSERT_FALSE(c);
    EXPECT_NE(c.err().message.find("no seed node"), std::string::npos) << c.err().message;
    EXPECT_LT(steady::now() - t0, 3s);
}

TEST(redis_client, parses_redis_urls) {
    auto o = parse_redis_urls("redis://:s3cret@10.0.0.1:7000,10.0.0.2:7001");
    ASSERT_TRUE(o) << o.err().message;
    EXPECT_EQ(o->seeds, (std::vector<std::string>{"10.0.0.1:7000", "10.0.0.2:7001"}));
    EXPECT_EQ(o->connection.password, "s3cret");
    EXPECT_FALSE(parse_redis_urls("redis://nohost"));
    EXPECT_FALSE(parse_redis_urls("h:99999"));
    EXPECT_FALSE(parse_redis_urls(""));
}

// Killed (as by a crash) in the middle of a stream of increments, then started again.
TEST(redis_faults, restart_fails_in_flight_calls_reconnects_and_keeps_acknowledged_writes) {
    test::redis_server server;
    auto c = connect(server.address());
    ASSERT_TRUE(c);
    redis_counters counters(c);
    const std::string k = "test|faults|restart";

    std::atomic<bool> stop{false};
    std::atomic<std::int64_t> acked{0};
    std::atomic<std::int64_t> failed{0};
    std::atomic<std::int64_t> slowest_ms{0};
    std::mutex m;
    std::string first_error;
    std::thread writer([&] {
        while (!stop) {
            const auto t0 = steady::now();
            auto r =
                wait_result<std::int64_t>([&](auto d) { counters.incrby(k, 1, std::move(d)); });
            const auto ms =
                std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - t0).count();
            slowest_ms = std::max<std::int64_t>(slowest_ms, ms);
            if (r) {
                ++acked;
            } else {
                ++failed;
                std::lock_guard lock(m);
                if (first_error.empty()) {
                    first_error = r.err().message;
                }
                std::this_thread::sleep_for(5ms);
            }
        }
    });
    auto wait_acked = [&](std::int64_t n) {
        const auto deadline = steady::now() + 10s;
        while (acked < n && steady::now() < deadline) {
            std::this_thread::sleep_for(1ms);
        }
        return acked >= n;
    };
    ASSERT_TRUE(wait_acked(300));
    server.kill();
    std::this_thread::sleep_for(300ms); // calls made while it is down fail at once
    const auto failed_while_down = failed.load();
    server.start();
    const auto at_restart = acked.load();
    const auto t_restart = steady::now();
    ASSERT_TRUE(wait_acked(at_restart + 300)) << "no reconnect after the restart";
    const auto reconnect_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - t_restart).count();
    stop = true;
    writer.join();

    EXPECT_GT(failed_while_down, 0);
    {
        std::lock_guard lock(m);
        EXPECT_NE(first_error.find("redis 127.0.0.1:"), std::string::npos) << first_error;
    }
    EXPECT_LT(slowest_ms, 2000) << "a call waited instead of failing";
    EXPECT_LT(reconnect_ms, 3000);
    // appendfsync always: every acknowledged increment survived the kill; a failed one may or
    // may not have been applied (its reply was lost), never more than that.
    auto v = wait_result<std::int64_t>([&](auto d) { counters.get(k, std::move(d)); });
    ASSERT_TRUE(v) << v.err().message;
    EXPECT_GE(*v, acked.load());
    EXPECT_LE(*v, acked.load() + failed.load());
}

TEST(redis_faults, subscriptions_are_restored_after_a_restart) {
    test::redis_server server;
    auto c = connect(server.address());
    ASSERT_TRUE(c);
    redis_bus bus(c);
    const std::string ch = "test|faults|chat";
    auto got = std::make_shared<std::atomic<int>>(0);
    std::unique_ptr<bus::subscription> sub;
    auto ready = wait_result<void>([&](auto d) {
        sub = bus.subscribe(
            ch, [got](std::string_view, const core::shared_bytes&) { ++*got; }, std::move(d));
    });
    ASSERT_TRUE(ready) << ready.err().message;
    ASSERT_TRUE(wait_result<void>(
        [&](auto d) { bus.publish(ch, core::make_shared_bytes("before"), std::move(d)); }));

    server.kill();
    server.start();
    // Publish until the restored subscription delivers (at most once: what was published
    // while it was resubscribing is missed, by contract).
    const int before = *got;
    const auto deadline = steady::now() + 5s;
    while (*got == before && steady::now() < deadline) {
        (void)wait_result<void>(
            [&](auto d) { bus.publish(ch, core::make_shared_bytes("after"), std::move(d)); });
        std::this_thread::sleep_for(20ms);
    }
    EXPECT_GT(*got, before) << "subscription not restored";
}

TEST(redis_faults, a_server_that_stops_answering_fails_calls_at_the_reply_timeout) {
    test::redis_server server;
    auto c = connect(server.address(), 500ms);
    ASSERT_TRUE(c);
    redis_counters counters(c);
    ASSERT_TRUE(wait_result<std::int64_t>(
        [&](auto d) { counters.incrby("test|faults|x", 1, std::move(d)); }));
    ::kill(server.pid(), SIGSTOP);
    const auto t0 = steady::now();
    auto r = wait_result<std::int64_t>(
        [&](auto d) { counters.incrby("test|faults|x", 1, std::move(d)); });
    const auto elapsed = steady::now() - t0;
    ::kill(server.pid(), SIGCONT);
    ASSERT_FALSE(r);
    EXPECT_NE(r.err().message.find("no reply within 500 ms"), std::string::npos) << r.err().message;
    EXPECT_LT(elapsed, 2s);
    EXPECT_GE(elapsed, 400ms);
}

// Inventory scripts go by SHA1 (EVALSHA); a server that no longer has them (restarted, flushed,
// a new cluster node) answers NOSCRIPT and gets the whole script once.
TEST(redis_faults, scripts_are_sent_again_when_the_server_forgot_them) {
    auto& server = test::shared_redis();
    auto c = connect(server.address());
    ASSERT_TRUE(c);
    redis_inventory inv(c);
    const std::string k = "test|faults|inventory";
    ASSERT_TRUE(wait_result<std::int64_t>([&](auto d) { inv.set_stock(k, 3, std::move(d)); }));
    EXPECT_NE(server.cli("script flush").find("OK"), std::string::npos);
    auto a = wait_result<std::int64_t>([&](auto d) { inv.available(k, std::move(d)); });
    ASSERT_TRUE(a) << a.err().message;
    EXPECT_EQ(*a, 3);
    auto h = wait_result<std::optional<std::string>>(
        [&](auto d) { inv.reserve(k, 2, 10s, std::move(d)); });
    ASSERT_TRUE(h && *h);
    EXPECT_EQ(*wait_result<std::int64_t>([&](auto d) { inv.available(k, std::move(d)); }), 1);
}

// --- cluster redirects --------------------------------------------------------------------------

std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) {
        s.pop_back();
    }
    return s;
}

// Moves one slot from its master to another with the cluster spec's live resharding steps
// (SETSLOT IMPORTING / MIGRATING, MIGRATE, SETSLOT NODE) while the client keeps using it.
TEST(redis_cluster_redirects, ask_during_a_migration_and_moved_after_it) {
    test::redis_cluster cluster;
    auto c = connect(cluster.seeds());
    ASSERT_TRUE(c);
    ASSERT_TRUE(c->is_cluster());
    redis_counters counters(c);
    const std::string k1 = "test:faults:{moving}:a";
    const std::string k2 = "test:faults:{moving}:b";
    const auto slot = trim(cluster.node(0).cli("cluster keyslot " + k1));

    // Which node owns the slot now: the one that answers GET without redirecting.
    std::size_t from = 3;
    for (std::size_t i = 0; i < 3; ++i) {
        if (cluster.node(i).cli("get " + k1).find("MOVED") == std::string::npos) {
            from = i;
        }
    }
    ASSERT_LT(from, 3U);
    const std::size_t to = (from + 1) % 3;
    auto& a = cluster.node(from);
    auto& b = cluster.node(to);
    const auto id_a = trim(a.cli("cluster myid"));
    const auto id_b = trim(b.cli("cluster myid"));

    EXPECT_EQ(*wait_result<std::int64_t>([&](auto d) { counters.incrby(k1, 1, std::move(d)); }), 1);

    const auto importing = b.cli("cluster setslot " + slot + " importing " + id_a);
    ASSERT_NE(importing.find("OK"), std::string::npos) << importing;
    const auto migrating = a.cli("cluster setslot " + slot + " migrating " + id_b);
    ASSERT_NE(migrating.find("OK"), std::string::npos) << migrating;
    // k2 does not exist on the source: it answers -ASK, the client asks the target.
    EXPECT_EQ(*wait_result<std::int64_t>([&](auto d) { counters.incrby(k2, 5, std::move(d)); }), 5);
    // k1 still lives on the source: served there.
    EXPECT_EQ(*wait_result<std::int64_t>([&](auto d) { counters.incrby(k1, 1, std::move(d)); }), 2);

    ASSERT_NE(a.cli(std::string("migrate 127.0.0.1 ")
                        .append(std::to_string(b.port()))
                        .append(" \"\" 0 5000 keys ")
                        .append(k1))
                  .find("OK"),
              std::string::npos);
    for (std::size_t i = 0; i < 3; ++i) {
        cluster.node(i).cli("cluster setslot " + slot + " node " + id_b);
    }
    // The client's map still says "source": -MOVED sends it to the target, for good.
    EXPECT_EQ(*wait_result<std::int64_t>([&](auto d) { counters.incrby(k1, 1, std::move(d)); }), 3);
    EXPECT_EQ(*wait_result<std::int64_t>([&](auto d) { counters.incrby(k2, 1, std::move(d)); }), 6);
    EXPECT_EQ(trim(b.cli("get " + k1)), "3");
}

} // namespace
} // namespace livehouse::state::redis
