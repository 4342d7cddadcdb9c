// edge_cache: one fetch per key in flight (coalescing), freshness windows (fresh, stale-while-
// revalidate, stale-if-error with a retry backoff), failed bodies dropped, the byte bound.
#include "services/edge/edge_cache.hpp"
#include "services/edge/edge_config.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <string>
#include <vector>

namespace livehouse::services::edge {
namespace {

using namespace std::chrono_literals;
using outcome = edge_cache::outcome;

const steady_time t0 = std::chrono::steady_clock::now();

/// An object received at t0 + at, fresh for `fresh`, then `swr` more of stale-while-revalidate,
/// and stale-if-error until fresh + sie.
object_ptr object(std::string body, std::chrono::seconds at, std::chrono::seconds fresh,
                  std::chrono::seconds swr = 0s, std::chrono::seconds sie = 0s) {
    auto o = std::make_shared<cached_object>();
    o->status = 200;
    o->body = core::filling_bytes::whole(std::move(body));
    o->received = t0 + at;
    o->fresh_until = o->received + fresh;
    o->revalidate_until = o->fresh_until + swr;
    o->error_until = o->fresh_until + sie;
    o->storable = true;
    return o;
}

struct recorder {
    std::vector<std::pair<object_ptr, std::string>> calls;
    waiter make() {
        return
            [this](const object_ptr& o, const fetch_status& s) { calls.emplace_back(o, s.error); };
    }
};

TEST(EdgeCache, ConcurrentMissesJoinOneFetch) {
    edge_cache c({.capacity_bytes = 1 << 20, .shards = 4});
    recorder r;
    auto w1 = r.make();
    EXPECT_EQ(c.lookup("/a", t0, w1).result, outcome::fetch);
    for (int i = 0; i < 99; ++i) {
        auto w = r.make();
        EXPECT_EQ(c.lookup("/a", t0, w).result, outcome::joined);
    }
    auto other = r.make();
    EXPECT_EQ(c.lookup("/b", t0, other).result, outcome::fetch) << "keys are independent";
    EXPECT_EQ(c.in_flight(), 2u);
    auto o = object("segment", 0s, 10s);
    auto done = c.resolve("/a", o, true);
    EXPECT_EQ(done.waiters.size(), 100u);
    EXPECT_EQ(c.in_flight(), 1u);
    auto late = r.make();
    auto hit = c.lookup("/a", t0 + 1s, late);
    EXPECT_EQ(hit.result, outcome::hit);
    EXPECT_EQ(hit.object, o);
    EXPECT_TRUE(late) << "a hit leaves the waiter with the caller";
    EXPECT_EQ(c.objects(), 1u);
}

TEST(EdgeCache, StaleWhileRevalidateStartsOneRefresh) {
    edge_cache c({.capacity_bytes = 1 << 20, .shards = 1});
    recorder r;
    auto w = r.make();
    ASSERT_EQ(c.lookup("/p", t0, w).result, outcome::fetch);
    c.resolve("/p", object("v1", 0s, 1s, 2s), true);

    auto a = r.make();
    auto first = c.lookup("/p", t0 + 1500ms, a);
    EXPECT_EQ(first.result, outcome::stale);
    EXPECT_TRUE(first.refresh) << "the first stale lookup refreshes";
    for (int i = 0; i < 10; ++i) {
        auto b = r.make();
        auto again = c.lookup("/p", t0 + 1600ms, b);
        EXPECT_EQ(again.result, outcome::stale);
        EXPECT_FALSE(again.refresh) << "never a second refresh in flight";
    }
    auto fresh = object("v2", 1s, 1s, 2s);
    EXPECT_TRUE(c.resolve("/p", fresh, true).waiters.empty());
    auto b = r.make();
    auto hit = c.lookup("/p", t0 + 1700ms, b);
    EXPECT_EQ(hit.result, outcome::hit);
    EXPECT_EQ(hit.object, fresh);
}

TEST(EdgeCache, PastRevalidationRequestsWaitForTheFetch) {
    edge_cache c({.capacity_bytes = 1 << 20, .shards = 1});
    recorder r;
    auto w = r.make();
    ASSERT_EQ(c.lookup("/p", t0, w).result, outcome::fetch);
    c.resolve("/p", object("v1", 0s, 1s, 1s, 30s), true);
    auto a = r.make();
    EXPECT_EQ(c.lookup("/p", t0 + 5s, a).result, outcome::fetch);
    auto b = r.make();
    EXPECT_EQ(c.lookup("/p", t0 + 5s, b).result, outcome::joined);
}

TEST(EdgeCache, StaleIfErrorServesTheOldCopyAndBacksOff) {
    edge_cache c({.capacity_bytes = 1 << 20, .shards = 1, .retry_after = 1s});
    recorder r;
    auto w = r.make();
    ASSERT_EQ(c.lookup("/p", t0, w).result, outcome::fetch);
    auto v1 = object("v1", 0s, 1s, 0s, 30s);
    c.resolve("/p", v1, true);

    auto a = r.make();
    ASSERT_EQ(c.lookup("/p", t0 + 5s, a).result, outcome::fetch);
    auto b = r.make();
    ASSERT_EQ(c.lookup("/p", t0 + 5s, b).result, outcome::joined);
    auto failed = c.fail("/p", t0 + 5s);
    EXPECT_EQ(failed.waiters.size(), 2u);
    EXPECT_EQ(failed.stale, v1) << "within stale-if-error";

    // For retry_after the key is answered from the stale copy: no fetch per viewer.
    for (int i = 0; i < 5; ++i) {
        auto x = r.make();
        auto s = c.lookup("/p", t0 + 5500ms, x);
        EXPECT_EQ(s.result, outcome::stale);
        EXPECT_EQ(s.object, v1);
        EXPECT_FALSE(s.refresh);
    }
    auto y = r.make();
    EXPECT_EQ(c.lookup("/p", t0 + 6100ms, y).result, outcome::fetch) << "then one retry";

    // Past error_until nothing stale is offered.
    auto f2 = c.fail("/p", t0 + 40s);
    EXPECT_EQ(f2.stale, nullptr);
}

TEST(EdgeCache, FailedBodiesAreNeverServedAgain) {
    edge_cache c({.capacity_bytes = 1 << 20, .shards = 1});
    recorder r;
    auto w = r.make();
    ASSERT_EQ(c.lookup("/s", t0, w).result, outcome::fetch);
    auto o = std::make_shared<cached_object>();
    o->body = core::filling_bytes::sized(100);
    o->received = t0;
    o->fresh_until = t0 + 3600s;
    o->revalidate_until = o->error_until = o->fresh_until;
    c.resolve("/s", o, true);
    auto a = r.make();
    EXPECT_EQ(c.lookup("/s", t0, a).result, outcome::hit) << "streaming while it fills";
    o->body->fail();
    auto b = r.make();
    EXPECT_EQ(c.lookup("/s", t0, b).result, outcome::fetch);
    EXPECT_EQ(c.objects(), 0u);
}

TEST(EdgeCache, BytesStayWithinCapacity) {
    const std::size_t capacity = 64 * 1024;
    edge_cache c({.capacity_bytes = capacity, .shards = 1});
    recorder r;
    for (int i = 0; i < 200; ++i) {
        const auto key = fmt::format("/seg-{}", i);
        auto w = r.make();
        ASSERT_EQ(c.lookup(key, t0, w).result, outcome::fetch);
        c.resolve(key, object(std::string(4000, 'x'), 0s, 3600s), true);
        ASSERT_LE(c.bytes(), capacity);
    }
    EXPECT_GT(c.evictions(), 0u);
    EXPECT_GT(c.objects(), 0u);
    EXPECT_LT(c.objects(), 200u);
    // Too large for the cache: not stored, still handed to its waiters.
    auto w = r.make();
    ASSERT_EQ(c.lookup("/huge", t0, w).result, outcome::fetch);
    auto done = c.resolve("/huge", object(std::string(capacity * 2, 'y'), 0s, 3600s), true);
    EXPECT_EQ(done.waiters.size(), 1u);
    auto again = r.make();
    EXPECT_EQ(c.lookup("/huge", t0, again).result, outcome::fetch);
}

TEST(EdgeCache, DrainHandsBackEveryWaiter) {
    edge_cache c({.capacity_bytes = 1 << 20, .shards = 4});
    recorder r;
    for (const char* k : {"/a", "/a", "/b", "/c"}) {
        auto w = r.make();
        c.lookup(k, t0, w);
    }
    EXPECT_EQ(c.drain().size(), 4u);
    EXPECT_EQ(c.in_flight(), 0u);
}

TEST(UpstreamUrl, ParsesHostAndPort) {
    auto a = parse_upstream_url("http://origin:8080");
    ASSERT_TRUE(a) << a.err().message;
    EXPECT_EQ(a->host, "origin");
    EXPECT_EQ(a->port, 8080);
    auto b = parse_upstream_url("http://127.0.0.1/");
    ASSERT_TRUE(b);
    EXPECT_EQ(b->host, "127.0.0.1");
    EXPECT_EQ(b->port, 80);
    auto c = parse_upstream_url("http://[::1]:9000");
    ASSERT_TRUE(c);
    EXPECT_EQ(c->host, "::1");
    EXPECT_EQ(c->port, 9000);
}

TEST(UpstreamUrl, RejectsWhatItCannotServe) {
    for (const char* bad :
         {"https://origin:443", "origin:8080", "http://", "http://o:0", "http://o:70000",
          "http://o:8x", "http://o/path", "http://u@o:1", "http://[::1", "http://o:"}) {
        auto r = parse_upstream_url(bad);
        EXPECT_FALSE(r) << bad;
    }
    EXPECT_NE(parse_upstream_url("https://o").err().message.find("only http://"),
              std::string::npos);
}

} // namespace
} // namespace livehouse::services::edge
