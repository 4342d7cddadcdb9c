// stats_codec: a run's statistics survive JSON exactly (what workers send their coordinator),
// two shares merged after the trip equal the merge of the originals, and malformed input is
// refused with a message naming the field.
#include "stress/stats_codec.hpp"

#include <gtest/gtest.h>
#include <random>

namespace livehouse::stress {
namespace {

run_stats sample(unsigned seed) {
    std::mt19937_64 rng(seed);
    std::lognormal_distribution<double> d(8.0, 1.5);
    run_stats s;
    auto& get = s.steps["get"];
    for (int i = 0; i < 5000; ++i) {
        const auto v = static_cast<std::uint64_t>(d(rng));
        get.latency.record(v);
        ++get.requests;
        ++get.statuses[i % 10 == 0 ? 503 : 200];
        if (i % 10 == 0) {
            ++get.failed;
            ++get.errors["status"];
        }
        if (s.seconds.size() <= static_cast<std::size_t>(i / 1000)) {
            s.seconds.resize(static_cast<std::size_t>(i / 1000) + 1);
        }
        auto& sec = s.seconds[static_cast<std::size_t>(i / 1000)];
        ++sec.requests;
        sec.latency.record(v);
    }
    s.seconds[1].dropped = 3;
    s.viewers.joined = 10;
    s.viewers.started = 9;
    s.viewers.stalls = 1;
    s.viewers.segments = 90;
    s.viewers.bytes = 123456;
    s.viewers.startup.record(250000);
    s.viewers.stall_time.record(1200000);
    s.love = {.tappers = 4, .batches = 40, .sent = 240, .accepted = 239};
    s.chat.clients = 20;
    s.chat.joined = 20;
    s.chat.late_joins = 2;
    s.chat.sent = 50;
    s.chat.acked = 49;
    s.chat.received = 980;
    s.chat.delivered = 980;
    s.chat.skipped = 2;
    s.chat.disconnects = 1;
    s.chat.malformed = 0;
    s.chat.errors["close 1008"] = 1;
    s.chat.delivery.record(15000, 980);
    s.iterations = 5000;
    s.dropped = 3;
    s.elapsed_s = 5.25;
    return s;
}

void expect_same(const core::latency_histogram& a, const core::latency_histogram& b) {
    EXPECT_EQ(a.count(), b.count());
    EXPECT_EQ(a.sum(), b.sum());
    EXPECT_EQ(a.min(), b.min());
    EXPECT_EQ(a.max(), b.max());
    for (std::size_t i = 0; i < core::latency_histogram::bucket_count; ++i) {
        ASSERT_EQ(a.bucket(i), b.bucket(i)) << i;
    }
}

void expect_same(const run_stats& a, const run_stats& b) {
    ASSERT_EQ(a.steps.size(), b.steps.size());
    for (const auto& [name, s] : a.steps) {
        const auto& t = b.steps.at(name);
        EXPECT_EQ(s.requests, t.requests);
        EXPECT_EQ(s.failed, t.failed);
        EXPECT_EQ(s.statuses, t.statuses);
        EXPECT_EQ(s.errors, t.errors);
        expect_same(s.latency, t.latency);
    }
    ASSERT_EQ(a.seconds.size(), b.seconds.size());
    for (std::size_t i = 0; i < a.seconds.size(); ++i) {
        EXPECT_EQ(a.seconds[i].requests, b.seconds[i].requests);
        EXPECT_EQ(a.seconds[i].dropped, b.seconds[i].dropped);
        expect_same(a.seconds[i].latency, b.seconds[i].latency);
    }
    EXPECT_EQ(a.viewers.stalls, b.viewers.stalls);
    EXPECT_EQ(a.viewers.bytes, b.viewers.bytes);
    expect_same(a.viewers.startup, b.viewers.startup);
    expect_same(a.viewers.stall_time, b.viewers.stall_time);
    EXPECT_EQ(a.love.accepted, b.love.accepted);
    EXPECT_EQ(a.chat.delivered, b.chat.delivered);
    EXPECT_EQ(a.chat.late_joins, b.chat.late_joins);
    EXPECT_EQ(a.chat.skipped, b.chat.skipped);
    EXPECT_EQ(a.chat.errors, b.chat.errors);
    expect_same(a.chat.delivery, b.chat.delivery);
    EXPECT_EQ(a.iterations, b.iterations);
    EXPECT_EQ(a.dropped, b.dropped);
    EXPECT_DOUBLE_EQ(a.elapsed_s, b.elapsed_s);
}

TEST(StatsCodec, RoundTripsExactly) {
    const auto s = sample(1);
    // Through text, as the line channel carries it.
    const auto text = stats_to_json(s).dump();
    auto back = stats_from_json(nlohmann::json::parse(text));
    ASSERT_TRUE(back) << back.err().message;
    expect_same(s, *back);
}

TEST(StatsCodec, MergingAfterTheTripEqualsMergingBefore) {
    const auto a = sample(1);
    const auto b = sample(2);
    run_stats direct;
    direct.merge(a);
    direct.merge(b);
    run_stats remote;
    remote.merge(*stats_from_json(stats_to_json(a)));
    remote.merge(*stats_from_json(stats_to_json(b)));
    expect_same(direct, remote);
    EXPECT_EQ(remote.steps.at("get").latency.percentile(0.99),
              direct.steps.at("get").latency.percentile(0.99));
}

TEST(StatsCodec, RefusesMalformedInputNamingTheField) {
    const auto good = stats_to_json(sample(3));
    struct bad {
        std::function<void(nlohmann::json&)> edit;
        std::string_view says;
    };
    const bad cases[] = {
        {[](auto& j) { j.erase("steps"); }, "no \"steps\""},
        {[](auto& j) { j["iterations"] = -1; }, "stats.iterations"},
        {[](auto& j) { j["steps"]["get"]["requests"] = "many"; }, "stats.steps.get.requests"},
        {[](auto& j) { j["steps"]["get"]["statuses"]["2xx"] = 1; }, "statuses"},
        {[](auto& j) {
             j["steps"]["get"]["latency"]["buckets"][0] = {5000, 1};
         },
         "buckets"},
        {[](auto& j) { j["steps"]["get"]["latency"]["min"] = 0u; }, "not a histogram"},
        {[](auto& j) { j["chat"]["errors"] = nlohmann::json::array(); }, "stats.chat.errors"},
        {[](auto& j) { j["seconds"] = 5; }, "stats.seconds"},
        {[](auto& j) { j["viewers"] = nullptr; }, "stats.viewers"},
        {[](auto& j) { j = nlohmann::json::array(); }, "expected an object"},
    };
    for (const auto& c : cases) {
        auto j = good;
        c.edit(j);
        auto r = stats_from_json(j);
        ASSERT_FALSE(r) << c.says;
        EXPECT_NE(r.err().message.find(c.says), std::string::npos) << r.err().message;
    }
}

} // namespace
} // namespace livehouse::stress
