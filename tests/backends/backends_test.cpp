// Backend selection (state/backends.hpp): with no server address a node runs embedded; --redis
// and --postgres switch each kind of state to Redis / Redis Cluster and PostgreSQL; a wrong
// choice or an unreachable server is a clear start-up error. The servers are the private ones
// the other backend tests use.
#include "livehouse_test/postgres_server.hpp"
#include "livehouse_test/process.hpp"
#include "livehouse_test/redis_server.hpp"
#include "livehouse_test/temp_dir.hpp"
#include "livehouse_test/wait.hpp"
#include "state/backends.hpp"

#include <chrono>
#include <future>
#include <gtest/gtest.h>
#include <thread>

namespace livehouse::state {
namespace {

using namespace std::chrono_literals;

using test::wait_result;

// Uses every kind once: a counter, the bus, and a record written then read back (through the
// outbox when the records are in PostgreSQL, so it may take a moment to appear).
void exercise(backends& b, const std::string& id) {
    auto ks = b.keys("test");
    ASSERT_TRUE(ks) << ks.err().message;
    auto v = wait_result<std::int64_t>(
        [&](auto d) { b.counters().incrby(ks->key(id), 2, std::move(d)); });
    ASSERT_TRUE(v) << v.err().message;
    EXPECT_EQ(*v, 2);
    auto s = wait_result<std::string>(
        [&](auto d) { b.streams().append(ks->key(id + ":log"), "x", std::move(d)); });
    ASSERT_TRUE(s) << s.err().message;
    ASSERT_TRUE(wait_result<void>([&](auto d) {
        b.records().put_total({id, "love", 42}, std::move(d));
    }));
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    std::vector<total_record> got;
    while (got.empty() && std::chrono::steady_clock::now() < deadline) {
        auto t = wait_result<std::vector<total_record>>(
            [&](auto d) { b.records().totals(id, std::move(d)); });
        ASSERT_TRUE(t) << t.err().message;
        got = *t;
        if (got.empty()) {
            std::this_thread::sleep_for(20ms);
        }
    }
    EXPECT_EQ(got, (std::vector<total_record>{{id, "love", 42}}));
}

TEST(backends, embedded_when_no_server_is_configured) {
    test::temp_dir dir;
    backends_options o;
    o.data_dir = dir.str();
    auto b = backends::open(o);
    ASSERT_TRUE(b) << b.err().message;
    EXPECT_EQ((*b)->describe(), "shared=embedded streams=embedded records=embedded phase=release");
    exercise(**b, "b-embedded");
}

TEST(backends, redis_and_postgres_when_their_addresses_are_given) {
    test::temp_dir dir;
    backends_options o;
    o.data_dir = dir.str();
    o.phase = "staging";
    o.redis = test::shared_redis().address();
    o.postgres = test::shared_postgres().conninfo() + " password=never-logged";
    auto b = backends::open(o);
    ASSERT_TRUE(b) << b.err().message;
    EXPECT_EQ((*b)->shared_backend(), "redis");
    EXPECT_EQ((*b)->streams_backend(), "redis");
    EXPECT_EQ((*b)->records_backend(), "postgres");
    const auto d = (*b)->describe();
    EXPECT_NE(d.find(test::shared_redis().address()), std::string::npos) << d;
    EXPECT_EQ(d.find("never-logged"), std::string::npos) << "a password in the log line: " << d;
    exercise(**b, "b-servers");
    // The phase is in the keys on the server: "test|staging|b-servers".
    EXPECT_EQ(test::shared_redis().cli("get 'test|staging|b-servers'").substr(0, 1), "2");
}

TEST(backends, a_cluster_from_seed_nodes) {
    test::temp_dir dir;
    backends_options o;
    o.data_dir = dir.str();
    o.redis = test::shared_redis_cluster().seeds();
    o.streams = "embedded"; // per kind: streams stay in this node's SQLite
    auto b = backends::open(o);
    ASSERT_TRUE(b) << b.err().message;
    EXPECT_EQ((*b)->shared_backend(), "redis-cluster");
    EXPECT_EQ((*b)->streams_backend(), "embedded");
    EXPECT_EQ((*b)->records_backend(), "embedded");
    exercise(**b, "b-cluster");
}

TEST(backends, wrong_choices_and_unreachable_servers_are_start_up_errors) {
    test::temp_dir dir;
    backends_options o;
    o.data_dir = dir.str();
    o.shared = "redis";
    auto r = backends::open(o);
    ASSERT_FALSE(r);
    EXPECT_NE(r.err().message.find("--redis"), std::string::npos) << r.err().message;

    o.shared = "memcached";
    r = backends::open(o);
    ASSERT_FALSE(r);
    EXPECT_NE(r.err().message.find("expected auto, embedded or redis"), std::string::npos);

    o.shared = "auto";
    o.phase = "Bad|Phase";
    EXPECT_FALSE(backends::open(o));

    o.phase = "release";
    const auto port = test::free_port();
    o.redis = std::string("127.0.0.1:").append(std::to_string(port));
    const auto t0 = std::chrono::steady_clock::now();
    r = backends::open(o);
    ASSERT_FALSE(r);
    EXPECT_NE(r.err().message.find(o.redis), std::string::npos) << r.err().message;
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
}

} // namespace
} // namespace livehouse::state
