// One contract for every love counts backend (state/love_counts.hpp): embedded, a single Redis
// server and a 3-master Redis Cluster (the private servers of livehouse_test/redis_server.hpp).
// Each test has its own key space and hash tag. On Redis a second client stands for a second
// node: concurrent applies from both must add up exactly, and a batch retried through the
// other node is counted once.
#include "livehouse_test/redis_client.hpp"
#include "livehouse_test/redis_server.hpp"
#include "livehouse_test/temp_dir.hpp"
#include "livehouse_test/wait.hpp"
#include "state/embedded/sqlite_love_counts.hpp"
#include "state/keys.hpp"
#include "state/love_counts.hpp"
#include "state/redis/client.hpp"
#include "state/redis/redis_state.hpp"

#include <atomic>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <string>
#include <thread>
#include <vector>

namespace livehouse::state {
namespace {

using test::wait_result;

struct love_backend {
    std::shared_ptr<test::temp_dir> dir; ///< embedded: where love.db is (outlives counts)
    std::shared_ptr<redis::client> client, client2;
    std::unique_ptr<love_counts> counts, counts2; ///< counts2: a second node (null: embedded)
};

struct love_backend_kind {
    std::string name;
    std::function<love_backend()> make;
};

void PrintTo(const love_backend_kind& k, std::ostream* os) {
    *os << k.name;
}

love_backend redis_backend(const std::string& seeds) {
    love_backend b;
    b.client = test::connect_redis(seeds);
    b.client2 = test::connect_redis(seeds);
    if (b.client && b.client2) {
        b.counts = std::make_unique<redis::redis_love_counts>(b.client);
        b.counts2 = std::make_unique<redis::redis_love_counts>(b.client2);
    }
    return b;
}

std::vector<love_backend_kind> kinds() {
    return {{"embedded",
             [] {
                 love_backend b;
                 b.dir = std::make_shared<test::temp_dir>();
                 if (auto c = embedded::sqlite_love_counts::open(b.dir->str())) {
                     b.counts = std::move(*c);
                 }
                 return b;
             }},
            {"redis", [] { return redis_backend(test::shared_redis().address()); }},
            {"redis_cluster", [] { return redis_backend(test::shared_redis_cluster().seeds()); }}};
}

class love_counts_contract : public ::testing::TestWithParam<love_backend_kind> {
  protected:
    void SetUp() override {
        b_ = GetParam().make();
        ASSERT_TRUE(b_.counts) << "backend did not start";
        static std::atomic<int> runs{0};
        const auto run = std::to_string(runs.fetch_add(1));
        auto ks = key_space::make("test", "love" + run);
        ASSERT_TRUE(ks);
        key_ = ks->key("{b" + run + "}");
    }
    love_counts& node2() { return b_.counts2 ? *b_.counts2 : *b_.counts; }

    core::result<love_applied> apply(love_counts& c, std::vector<love_batch_entry> batches) {
        return wait_result<love_applied>(
            [&](auto done) { c.apply(key_, std::move(batches), std::move(done)); });
    }
    core::result<love_applied> apply(std::vector<love_batch_entry> batches) {
        return apply(*b_.counts, std::move(batches));
    }
    std::int64_t total() {
        auto r = wait_result<std::int64_t>([&](auto d) { b_.counts->total(key_, std::move(d)); });
        EXPECT_TRUE(r) << r.err().message;
        return r ? *r : -1;
    }
    std::vector<scored_member> top(std::size_t n) {
        auto r = wait_result<std::vector<scored_member>>(
            [&](auto d) { b_.counts->top(key_, n, std::move(d)); });
        EXPECT_TRUE(r) << r.err().message;
        return r ? *r : std::vector<scored_member>{};
    }

    love_backend b_;
    std::string key_;
};

TEST_P(love_counts_contract, counts_totals_and_rankings_and_retries_once) {
    EXPECT_EQ(total(), 0);
    EXPECT_TRUE(top(10).empty());
    auto r = apply({{"ann", "a1", 5}, {"bob", "b1", 3}, {"ann", "a2", 4}, {"ann", "a1", 5}});
    ASSERT_TRUE(r) << r.err().message;
    EXPECT_EQ(r->counted, (std::vector<bool>{true, true, true, false})) << "a1 twice: once";
    EXPECT_EQ(r->total, 12);
    EXPECT_EQ(total(), 12);
    EXPECT_EQ(top(10), (std::vector<scored_member>{{"ann", 9}, {"bob", 3}}));
    EXPECT_EQ(top(1), (std::vector<scored_member>{{"ann", 9}}));
    // A retry in a later apply, through the other node: still once. Another user may reuse an
    // id (ids are per user).
    r = apply(node2(), {{"bob", "b1", 3}, {"cid", "a1", 0}, {"cid", "c1", 7}});
    ASSERT_TRUE(r) << r.err().message;
    EXPECT_EQ(r->counted, (std::vector<bool>{false, true, true}));
    EXPECT_EQ(r->total, 19);
    EXPECT_EQ(top(10), (std::vector<scored_member>{{"ann", 9}, {"cid", 7}, {"bob", 3}}));
    auto s = wait_result<std::optional<std::int64_t>>(
        [&](auto d) { b_.counts->score(key_, "cid", std::move(d)); });
    ASSERT_TRUE(s);
    EXPECT_EQ(*s, std::optional<std::int64_t>(7));
    // An empty apply reads the total.
    r = apply({});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->total, 19);
    EXPECT_TRUE(r->counted.empty());
}

TEST_P(love_counts_contract, a_user_remembers_the_last_window_of_batch_ids) {
    std::vector<love_batch_entry> batches;
    for (std::size_t i = 0; i <= love_seen_window; ++i) {
        batches.push_back({"ann", fmt::format("x{}", i), 1});
    }
    ASSERT_TRUE(apply(batches));
    // x0 fell out of the window (one too many since): counted again; x1 is still remembered.
    auto r = apply({{"ann", "x0", 1}, {"ann", "x2", 1}});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->counted, (std::vector<bool>{true, false}));
    EXPECT_EQ(r->total, static_cast<std::int64_t>(love_seen_window) + 2);
}

TEST_P(love_counts_contract, bad_arguments_are_refused_and_change_nothing) {
    const auto refused = [&](std::vector<love_batch_entry> b) {
        auto r = apply(std::move(b));
        return !r;
    };
    EXPECT_TRUE(refused({{"ann", "a", -1}}));
    EXPECT_TRUE(refused({{"ann", "a", max_love_taps + 1}}));
    EXPECT_TRUE(refused({{"", "a", 1}}));
    EXPECT_TRUE(refused({{"ann", "", 1}}));
    EXPECT_TRUE(refused({{"ann", "ok", 1}, {"ann", std::string(max_member_bytes + 1, 'x'), 1}}));
    EXPECT_TRUE(refused(std::vector<love_batch_entry>(max_love_apply + 1, {"u", "b", 1})));
    EXPECT_EQ(total(), 0) << "a refused apply counts nothing, not even its valid batches";
    auto untagged = wait_result<love_applied>([&](auto d) {
        b_.counts->apply("test|x|no-tag", {{"u", "b", 1}}, std::move(d));
    });
    EXPECT_FALSE(untagged);
}

TEST_P(love_counts_contract, concurrent_applies_from_two_nodes_add_up_exactly) {
    constexpr int threads = 4;
    constexpr int rounds = 50;
    std::vector<std::thread> pool;
    std::atomic<int> failures{0};
    for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&, t] {
            love_counts& c = t % 2 == 0 ? *b_.counts : node2();
            for (int i = 0; i < rounds; ++i) {
                // Each round also retries the previous round's batch: never counted twice.
                std::vector<love_batch_entry> b{{fmt::format("u{}", t), fmt::format("r{}", i), 3}};
                if (i > 0) {
                    b.push_back({fmt::format("u{}", t), fmt::format("r{}", i - 1), 3});
                }
                if (!apply(c, std::move(b))) {
                    ++failures;
                }
            }
        });
    }
    for (auto& th : pool) {
        th.join();
    }
    EXPECT_EQ(failures.load(), 0);
    EXPECT_EQ(total(), threads * rounds * 3);
    const auto ranking = top(10);
    ASSERT_EQ(ranking.size(), static_cast<std::size_t>(threads));
    for (const auto& m : ranking) {
        EXPECT_EQ(m.score, rounds * 3) << m.member;
    }
}

TEST_P(love_counts_contract, the_timeline_adds_up_per_video_second_and_skips_retries) {
    auto r = apply({{"ann", "a1", 3, {{10, 2}, {11, 1}}},
                    {"bob", "b1", 4, {{11, 3}, {3600, 1}}},
                    {"ann", "a1", 3, {{10, 2}, {11, 1}}}, // a retry: not on the timeline again
                    {"cid", "c1", 2, {}}});               // no breakdown: counted, no timeline
    ASSERT_TRUE(r) << r.err().message;
    EXPECT_EQ(r->total, 9);
    auto t = wait_result<love_timeline>([&](auto d) { b_.counts->timeline(key_, std::move(d)); });
    ASSERT_TRUE(t) << t.err().message;
    EXPECT_EQ(*t, (love_timeline{{10, 2}, {11, 4}, {3600, 1}}));
    EXPECT_FALSE(apply({{"dee", "d1", 2, {{5, 1}}}})) << "counts that do not add up";
    EXPECT_FALSE(apply({{"dee", "d1", 1, {{-1, 1}}}}));
    EXPECT_FALSE(apply({{"dee", "d1", 1, {{max_love_second + 1, 1}}}}));
    EXPECT_FALSE(apply({{"dee", "d1", 0, {{5, 0}}}}));
}

TEST_P(love_counts_contract, remove_drops_the_counts) {
    ASSERT_TRUE(apply({{"ann", "a1", 5, {{1, 5}}}}));
    auto done = wait_result<void>([&](auto d) { b_.counts->remove(key_, std::move(d)); });
    ASSERT_TRUE(done) << done.err().message;
    EXPECT_EQ(total(), 0);
    EXPECT_TRUE(top(10).empty());
    auto t = wait_result<love_timeline>([&](auto d) { b_.counts->timeline(key_, std::move(d)); });
    ASSERT_TRUE(t);
    EXPECT_TRUE(t->empty());
}

INSTANTIATE_TEST_SUITE_P(backends, love_counts_contract, ::testing::ValuesIn(kinds()),
                         [](const auto& p) { return p.param.name; });

} // namespace
} // namespace livehouse::state
