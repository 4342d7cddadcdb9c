// One contract for every shared-state backend (state/shared_state.hpp, bus.hpp, inventory.hpp,
// streams.hpp): the same suite runs against the embedded backend, a single Redis server and a
// 3-master Redis Cluster, both private servers this test process starts
// (livehouse_test/redis_server.hpp). Each test uses its own key space, so tests sharing a
// server cannot see each other's keys.
// Expected values follow Redis's documented behaviour (INCRBY, ZINCRBY, ZREVRANGE, ZREVRANK,
// SADD, SCARD), so a backend that passes here behaves like Redis for the services.
#include "core/clock.hpp"
#include "livehouse_test/redis_client.hpp"
#include "livehouse_test/redis_server.hpp"
#include "livehouse_test/temp_dir.hpp"
#include "livehouse_test/wait.hpp"
#include "state/embedded/memory_bus.hpp"
#include "state/embedded/memory_inventory.hpp"
#include "state/embedded/memory_state.hpp"
#include "state/embedded/sqlite_streams.hpp"
#include "state/keys.hpp"
#include "state/redis/client.hpp"
#include "state/redis/redis_state.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <gtest/gtest.h>
#include <limits>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace livehouse::state {
namespace {

using namespace std::chrono_literals;

// Real time for every backend: a Redis server's hold expiry cannot follow a test's clock.
const core::system_clock wall_clock;

struct backend {
    std::unique_ptr<counters> c;
    std::unique_ptr<sorted_sets> z;
    std::unique_ptr<sets> s;
    std::unique_ptr<bus> b;
    std::unique_ptr<inventory> inv;
    std::unique_ptr<streams> st;
    std::shared_ptr<test::temp_dir> dir;   ///< files of an embedded backend
    std::shared_ptr<redis::client> client; ///< the server backends' connection
};

struct backend_kind {
    std::string name;
    std::function<backend()> make;
};

backend redis_backend(const std::string& seeds) {
    backend b;
    b.client = test::connect_redis(seeds);
    if (!b.client) {
        return b;
    }
    b.c = std::make_unique<redis::redis_counters>(b.client);
    b.z = std::make_unique<redis::redis_sorted_sets>(b.client);
    b.s = std::make_unique<redis::redis_sets>(b.client);
    b.b = std::make_unique<redis::redis_bus>(b.client);
    b.inv = std::make_unique<redis::redis_inventory>(b.client);
    b.st = std::make_unique<redis::redis_streams>(b.client);
    return b;
}

std::vector<backend_kind> kinds() {
    return {{"embedded",
             [] {
                 backend b;
                 b.c = std::make_unique<embedded::memory_counters>();
                 b.z = std::make_unique<embedded::memory_sorted_sets>();
                 b.s = std::make_unique<embedded::memory_sets>();
                 b.b = std::make_unique<embedded::memory_bus>();
                 b.inv = std::make_unique<embedded::memory_inventory>(wall_clock);
                 b.dir = std::make_shared<test::temp_dir>();
                 auto st = embedded::sqlite_streams::open(b.dir->str());
                 EXPECT_TRUE(st) << st.err().message;
                 if (st) {
                     b.st = std::move(*st);
                 }
                 return b;
             }},
            {"redis", [] { return redis_backend(test::shared_redis().address()); }},
            {"redis_cluster", [] { return redis_backend(test::shared_redis_cluster().seeds()); }}};
}

using test::wait_result;

class contract : public ::testing::TestWithParam<backend_kind> {
  protected:
    void SetUp() override {
        b_ = GetParam().make();
        ASSERT_TRUE(b_.c) << "backend did not start";
        static std::atomic<int> runs{0};
        auto ks = key_space::make(
            "test", std::string("contract").append(std::to_string(runs.fetch_add(1))));
        ASSERT_TRUE(ks);
        ks_.emplace(*ks);
    }

    std::string key(std::string_view name) const { return ks_->key(name); }

    core::result<std::int64_t> incrby(const std::string& k, std::int64_t by) {
        return wait_result<std::int64_t>([&](auto done) { b_.c->incrby(k, by, std::move(done)); });
    }
    core::result<std::int64_t> zincr(const std::string& k, const std::string& m, std::int64_t by) {
        return wait_result<std::int64_t>(
            [&](auto done) { b_.z->increment(k, m, by, std::move(done)); });
    }
    std::vector<scored_member> top(const std::string& k, std::size_t n) {
        auto r = wait_result<std::vector<scored_member>>(
            [&](auto done) { b_.z->top(k, n, std::move(done)); });
        EXPECT_TRUE(r) << r.err().message;
        return r ? *r : std::vector<scored_member>{};
    }
    std::optional<std::size_t> rank(const std::string& k, const std::string& m) {
        auto r = wait_result<std::optional<std::size_t>>(
            [&](auto done) { b_.z->rank(k, m, std::move(done)); });
        EXPECT_TRUE(r) << r.err().message;
        return r ? *r : std::nullopt;
    }

    backend b_;
    std::optional<key_space> ks_;
};

TEST(key_space, composes_and_validates) {
    auto ks = key_space::make("love", "release");
    ASSERT_TRUE(ks);
    EXPECT_EQ(ks->key("{b42}:total"), "love|release|{b42}:total");
    EXPECT_EQ(ks->prefix(), "love|release|");
    EXPECT_FALSE(key_space::make("", "release"));
    EXPECT_FALSE(key_space::make("love", "re|lease"));
    EXPECT_FALSE(key_space::make("Love", "release"));
    EXPECT_FALSE(key_space::make(std::string(65, 'a'), "release"));
}

TEST_P(contract, counter_incrby_get_remove) {
    const auto k = key("counter");
    EXPECT_EQ(*wait_result<std::int64_t>([&](auto d) { b_.c->get(k, std::move(d)); }), 0);
    EXPECT_EQ(*incrby(k, 5), 5);
    EXPECT_EQ(*incrby(k, -7), -2);
    EXPECT_EQ(*wait_result<std::int64_t>([&](auto d) { b_.c->get(k, std::move(d)); }), -2);
    EXPECT_TRUE(*wait_result<bool>([&](auto d) { b_.c->remove(k, std::move(d)); }));
    EXPECT_FALSE(*wait_result<bool>([&](auto d) { b_.c->remove(k, std::move(d)); }));
    EXPECT_EQ(*wait_result<std::int64_t>([&](auto d) { b_.c->get(k, std::move(d)); }), 0);
}

TEST_P(contract, counter_overflow_is_refused_and_leaves_the_value) {
    const auto k = key("big");
    const auto max = std::numeric_limits<std::int64_t>::max();
    EXPECT_EQ(*incrby(k, max - 1), max - 1);
    const auto r = incrby(k, 2);
    ASSERT_FALSE(r);
    EXPECT_NE(r.err().message.find("overflow"), std::string::npos) << r.err().message;
    EXPECT_EQ(*wait_result<std::int64_t>([&](auto d) { b_.c->get(k, std::move(d)); }), max - 1);
}

TEST_P(contract, keys_and_members_over_the_limits_are_refused) {
    const std::string long_key(max_key_bytes + 1, 'k');
    EXPECT_FALSE(incrby(long_key, 1));
    EXPECT_FALSE(incrby("", 1));
    EXPECT_FALSE(zincr(key("z"), std::string(max_member_bytes + 1, 'm'), 1));
    EXPECT_FALSE(wait_result<bool>([&](auto d) {
        b_.s->add(key("s"), std::string(max_member_bytes + 1, 'm'), std::move(d));
    }));
    // Nothing was created by the refused calls.
    EXPECT_TRUE(top(key("z"), 10).empty());
    EXPECT_EQ(*wait_result<std::size_t>([&](auto d) { b_.s->size(key("s"), std::move(d)); }), 0U);
}

TEST_P(contract, sorted_set_order_is_score_descending_then_member_descending) {
    const auto k = key("ranking");
    EXPECT_EQ(*zincr(k, "alice", 3), 3);
    EXPECT_EQ(*zincr(k, "bob", 5), 5);
    EXPECT_EQ(*zincr(k, "carol", 3), 3);
    EXPECT_EQ(*zincr(k, "alice", 4), 7);
    EXPECT_EQ(*zincr(k, "dave", -1), -1);
    // ZREVRANGE 0 -1 WITHSCORES: alice 7, bob 5, carol 3, (tie broken by member, descending)
    // ... then dave -1.
    const std::vector<scored_member> want = {{"alice", 7}, {"bob", 5}, {"carol", 3}, {"dave", -1}};
    EXPECT_EQ(top(k, 10), want);
    EXPECT_EQ(top(k, 2), std::vector<scored_member>(want.begin(), want.begin() + 2));
    EXPECT_TRUE(top(k, 0).empty());

    EXPECT_EQ(*zincr(k, "bea", 3), 3); // ties with carol: "carol" > "bea", so carol first
    EXPECT_EQ(rank(k, "alice"), 0U);
    EXPECT_EQ(rank(k, "carol"), 2U);
    EXPECT_EQ(rank(k, "bea"), 3U);
    EXPECT_EQ(rank(k, "dave"), 4U);
    EXPECT_EQ(rank(k, "nobody"), std::nullopt);
    EXPECT_EQ(rank(key("absent"), "alice"), std::nullopt);

    auto sc = wait_result<std::optional<std::int64_t>>(
        [&](auto d) { b_.z->score(k, "bob", std::move(d)); });
    ASSERT_TRUE(sc);
    EXPECT_EQ(*sc, 5);
    EXPECT_TRUE(*wait_result<bool>([&](auto d) { b_.z->remove(k, std::move(d)); }));
    EXPECT_TRUE(top(k, 10).empty());
}

TEST_P(contract, set_add_contains_size_remove_member_remove) {
    const auto k = key("viewers");
    EXPECT_TRUE(*wait_result<bool>([&](auto d) { b_.s->add(k, "u1", std::move(d)); }));
    EXPECT_FALSE(*wait_result<bool>([&](auto d) { b_.s->add(k, "u1", std::move(d)); }));
    EXPECT_TRUE(*wait_result<bool>([&](auto d) { b_.s->add(k, "u2", std::move(d)); }));
    EXPECT_TRUE(*wait_result<bool>([&](auto d) { b_.s->contains(k, "u2", std::move(d)); }));
    EXPECT_FALSE(*wait_result<bool>([&](auto d) { b_.s->contains(k, "u3", std::move(d)); }));
    EXPECT_EQ(*wait_result<std::size_t>([&](auto d) { b_.s->size(k, std::move(d)); }), 2U);
    EXPECT_TRUE(*wait_result<bool>([&](auto d) { b_.s->remove_member(k, "u1", std::move(d)); }));
    EXPECT_FALSE(*wait_result<bool>([&](auto d) { b_.s->remove_member(k, "u1", std::move(d)); }));
    EXPECT_FALSE(*wait_result<bool>([&](auto d) { b_.s->contains(k, "u1", std::move(d)); }));
    EXPECT_EQ(*wait_result<std::size_t>([&](auto d) { b_.s->size(k, std::move(d)); }), 1U);
    EXPECT_TRUE(*wait_result<bool>([&](auto d) { b_.s->remove(k, std::move(d)); }));
    EXPECT_EQ(*wait_result<std::size_t>([&](auto d) { b_.s->size(k, std::move(d)); }), 0U);
}

// Exact totals under concurrency: many threads incrementing one counter and one member.
TEST_P(contract, concurrent_increments_are_exact) {
    const auto k = key("hot");
    const auto zk = key("hot-ranking");
    constexpr int threads = 8;
    constexpr int per_thread = 2000;
    const std::vector<std::string> members = {"m0", "m1", "m2"};
    std::vector<std::thread> ts;
    std::atomic<int> errors{0};
    for (int t = 0; t < threads; ++t) {
        ts.emplace_back([&, t] {
            for (int i = 0; i < per_thread; ++i) {
                if (!incrby(k, 1) || !zincr(zk, members[t % 3], 2)) {
                    errors.fetch_add(1);
                }
            }
        });
    }
    for (auto& t : ts) {
        t.join();
    }
    EXPECT_EQ(errors.load(), 0);
    EXPECT_EQ(*wait_result<std::int64_t>([&](auto d) { b_.c->get(k, std::move(d)); }),
              threads * per_thread);
    std::int64_t sum = 0;
    for (const auto& m : top(zk, 10)) {
        sum += m.score;
    }
    EXPECT_EQ(sum, 2LL * threads * per_thread);
}

// --- bus ------------------------------------------------------------------------------------

// Collects what a subscription receives (shared: a delivery may still run after the test's
// subscription object is gone, per the contract).
struct inbox {
    std::mutex mutex;
    std::condition_variable cv;
    std::vector<std::string> messages;

    bus::handler handler() {
        return [this](std::string_view, const core::shared_bytes& payload) {
            std::lock_guard lock(mutex);
            messages.push_back(*payload);
            cv.notify_all();
        };
    }
    std::vector<std::string> wait_for(std::size_t n) {
        std::unique_lock lock(mutex);
        cv.wait_for(lock, 5s, [&] { return messages.size() >= n; });
        return messages;
    }
    std::size_t count() {
        std::lock_guard lock(mutex);
        return messages.size();
    }
};

std::unique_ptr<bus::subscription> subscribe(bus& b, const std::string& channel, inbox& in) {
    std::unique_ptr<bus::subscription> sub;
    auto ready = wait_result<void>(
        [&](auto done) { sub = b.subscribe(channel, in.handler(), std::move(done)); });
    EXPECT_TRUE(ready) << ready.err().message;
    return sub;
}

TEST_P(contract, bus_delivers_to_every_subscriber_of_the_channel_in_order) {
    const auto a = key("chat:a");
    const auto other = key("chat:b");
    auto in1 = std::make_shared<inbox>();
    auto in2 = std::make_shared<inbox>();
    auto in3 = std::make_shared<inbox>();
    auto s1 = subscribe(*b_.b, a, *in1);
    auto s2 = subscribe(*b_.b, a, *in2);
    auto s3 = subscribe(*b_.b, other, *in3);
    std::vector<std::string> sent;
    for (int i = 0; i < 100; ++i) {
        sent.push_back(std::string("m").append(std::to_string(i)));
        ASSERT_TRUE(wait_result<void>([&](auto done) {
            b_.b->publish(a, core::make_shared_bytes(sent.back()), std::move(done));
        }));
    }
    EXPECT_EQ(in1->wait_for(100), sent);
    EXPECT_EQ(in2->wait_for(100), sent);
    EXPECT_EQ(in3->count(), 0U);

    s2.reset(); // unsubscribed: no more deliveries
    ASSERT_TRUE(wait_result<void>(
        [&](auto done) { b_.b->publish(a, core::make_shared_bytes("after"), std::move(done)); }));
    EXPECT_EQ(in1->wait_for(101).back(), "after");
    EXPECT_EQ(in2->count(), 100U);
}

TEST_P(contract, bus_refuses_oversized_payloads) {
    const auto r = wait_result<void>([&](auto done) {
        b_.b->publish(key("chat:a"),
                      core::make_shared_bytes(std::string(max_bus_payload_bytes + 1, 'x')),
                      std::move(done));
    });
    EXPECT_FALSE(r);
}

// --- inventory ------------------------------------------------------------------------------

std::optional<std::string> reserve(inventory& inv, const std::string& k, std::int64_t n,
                                   std::chrono::milliseconds ttl) {
    auto r = wait_result<std::optional<std::string>>(
        [&](auto done) { inv.reserve(k, n, ttl, std::move(done)); });
    EXPECT_TRUE(r) << r.err().message;
    return r ? *r : std::nullopt;
}

std::int64_t available(inventory& inv, const std::string& k) {
    return *wait_result<std::int64_t>([&](auto done) { inv.available(k, std::move(done)); });
}

TEST_P(contract, inventory_holds_confirms_releases_and_never_oversells) {
    auto& inv = *b_.inv;
    const auto k = key("tickets:show1");
    EXPECT_EQ(available(inv, k), 0);
    EXPECT_FALSE(reserve(inv, k, 1, 10s)) << "no stock set: nothing to hold";
    EXPECT_EQ(*wait_result<std::int64_t>([&](auto d) { inv.set_stock(k, 10, std::move(d)); }), 10);

    const auto h1 = reserve(inv, k, 4, 10s);
    ASSERT_TRUE(h1);
    EXPECT_FALSE(reserve(inv, k, 7, 10s)) << "only 6 left";
    EXPECT_EQ(available(inv, k), 6);
    EXPECT_TRUE(*wait_result<bool>([&](auto d) { inv.confirm(k, *h1, std::move(d)); }));
    EXPECT_FALSE(*wait_result<bool>([&](auto d) { inv.confirm(k, *h1, std::move(d)); }))
        << "a hold settles once";
    EXPECT_EQ(*wait_result<std::int64_t>([&](auto d) { inv.sold(k, std::move(d)); }), 4);

    const auto h2 = reserve(inv, k, 6, 10s);
    ASSERT_TRUE(h2);
    EXPECT_EQ(available(inv, k), 0);
    EXPECT_TRUE(*wait_result<bool>([&](auto d) { inv.release(k, *h2, std::move(d)); }));
    EXPECT_EQ(available(inv, k), 6);
    EXPECT_FALSE(*wait_result<bool>([&](auto d) { inv.confirm(k, "no-such-hold", std::move(d)); }));
    EXPECT_FALSE(wait_result<std::optional<std::string>>([&](auto d) {
        inv.reserve(k, 0, 10s, std::move(d));
    })) << "n must be >= 1";
}

TEST_P(contract, inventory_expired_holds_return_their_items) {
    auto& inv = *b_.inv;
    const auto k = key("tickets:show2");
    ASSERT_TRUE(wait_result<std::int64_t>([&](auto d) { inv.set_stock(k, 5, std::move(d)); }));
    const auto h = reserve(inv, k, 5, 100ms);
    ASSERT_TRUE(h);
    EXPECT_EQ(available(inv, k), 0);
    std::this_thread::sleep_for(250ms);
    EXPECT_EQ(available(inv, k), 5);
    EXPECT_FALSE(*wait_result<bool>([&](auto d) { inv.confirm(k, *h, std::move(d)); }))
        << "an expired hold cannot be confirmed";
    EXPECT_EQ(*wait_result<std::int64_t>([&](auto d) { inv.sold(k, std::move(d)); }), 0);
}

// Many buyers at once for fewer items than they want: exactly the stock is sold.
TEST_P(contract, inventory_under_concurrency_sells_exactly_the_stock) {
    auto& inv = *b_.inv;
    const auto k = key("tickets:flash");
    constexpr std::int64_t stock = 1000;
    ASSERT_TRUE(wait_result<std::int64_t>([&](auto d) { inv.set_stock(k, stock, std::move(d)); }));
    constexpr int threads = 8;
    constexpr int attempts = 200; // 1,600 attempts for 1,000 items
    std::atomic<std::int64_t> bought{0};
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; ++t) {
        ts.emplace_back([&] {
            for (int i = 0; i < attempts; ++i) {
                auto h = reserve(inv, k, 1, 10s);
                if (h && *wait_result<bool>([&](auto d) { inv.confirm(k, *h, std::move(d)); })) {
                    bought.fetch_add(1);
                }
            }
        });
    }
    for (auto& t : ts) {
        t.join();
    }
    EXPECT_EQ(bought.load(), stock);
    EXPECT_EQ(*wait_result<std::int64_t>([&](auto d) { inv.sold(k, std::move(d)); }), stock);
    EXPECT_EQ(available(inv, k), 0);
}

// --- durable streams ----------------------------------------------------------------------------

std::string append(streams& st, const std::string& k, const std::string& payload) {
    auto r = wait_result<std::string>([&](auto d) { st.append(k, payload, std::move(d)); });
    EXPECT_TRUE(r) << r.err().message;
    return r ? *r : std::string();
}

std::vector<stream_entry> read(streams& st, const std::string& k, const std::string& group,
                               const std::string& consumer, std::size_t max,
                               std::chrono::milliseconds claim_after) {
    auto r = wait_result<std::vector<stream_entry>>(
        [&](auto d) { st.read(k, group, consumer, max, claim_after, std::move(d)); });
    EXPECT_TRUE(r) << r.err().message;
    return r ? *r : std::vector<stream_entry>{};
}

std::size_t ack(streams& st, const std::string& k, const std::string& group,
                std::vector<std::string> ids) {
    auto r =
        wait_result<std::size_t>([&](auto d) { st.ack(k, group, std::move(ids), std::move(d)); });
    EXPECT_TRUE(r) << r.err().message;
    return r ? *r : 0;
}

std::vector<std::string> payloads(const std::vector<stream_entry>& es) {
    std::vector<std::string> out;
    for (const auto& e : es) {
        out.push_back(e.payload);
    }
    return out;
}

TEST_P(contract, stream_group_reads_in_order_and_acks_once) {
    ASSERT_TRUE(b_.st);
    auto& st = *b_.st;
    const auto k = key("love:batches");
    const std::string bytes("b\0b", 3); // payloads are bytes
    // Groups exist before the entries they must see (a read of 0 entries creates one).
    EXPECT_TRUE(read(st, k, "analytics", "x", 0, 30s).empty());
    const auto id1 = append(st, k, "a");
    const auto id2 = append(st, k, bytes);
    const auto id3 = append(st, k, "c");
    EXPECT_NE(id1, id2);
    auto first = read(st, k, "writer", "c1", 2, 30s);
    ASSERT_EQ(first.size(), 2U);
    EXPECT_EQ(first[0].id, id1);
    EXPECT_EQ(first[0].payload, "a");
    EXPECT_EQ(first[0].deliveries, 1U);
    EXPECT_EQ(first[1].payload, bytes);
    auto second = read(st, k, "writer", "c1", 10, 30s);
    ASSERT_EQ(second.size(), 1U);
    EXPECT_EQ(second[0].id, id3);
    EXPECT_TRUE(read(st, k, "writer", "c2", 10, 30s).empty()) << "all given out, none stale";

    EXPECT_EQ(ack(st, k, "writer", {id1, id2}), 2U);
    EXPECT_EQ(ack(st, k, "writer", {id1, "not-an-id"}), 0U) << "acknowledged once only";

    // The other group still gets everything: entries go only once every group is done.
    EXPECT_EQ(payloads(read(st, k, "analytics", "x", 10, 30s)),
              (std::vector<std::string>{"a", bytes, "c"}));
}

TEST_P(contract, stream_unacknowledged_entries_are_redelivered_after_the_claim_time) {
    ASSERT_TRUE(b_.st);
    auto& st = *b_.st;
    const auto k = key("records");
    const auto id = append(st, k, "r1");
    ASSERT_EQ(read(st, k, "pg", "node-a", 10, 100ms).size(), 1U);
    EXPECT_TRUE(read(st, k, "pg", "node-b", 10, 100ms).empty()) << "node-a still has it";
    std::this_thread::sleep_for(200ms);
    const auto again = read(st, k, "pg", "node-b", 10, 100ms);
    ASSERT_EQ(again.size(), 1U) << "node-a never acknowledged: node-b gets it";
    EXPECT_EQ(again[0].id, id);
    EXPECT_EQ(again[0].deliveries, 2U);
    EXPECT_EQ(ack(st, k, "pg", {id}), 1U);
    std::this_thread::sleep_for(200ms);
    EXPECT_TRUE(read(st, k, "pg", "node-b", 10, 100ms).empty()) << "acknowledged: gone";
}

INSTANTIATE_TEST_SUITE_P(backends, contract, ::testing::ValuesIn(kinds()),
                         [](const auto& p) { return p.param.name; });

} // namespace
} // namespace livehouse::state
