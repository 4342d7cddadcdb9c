// The Prometheus registry: values, labels, escaping, histogram buckets and the exact text
// exposition format 0.0.4.
#include "core/metrics.hpp"

#include <gtest/gtest.h>
#include <limits>
#include <stdexcept>
#include <thread>
#include <vector>

namespace livehouse::core {
namespace {

TEST(metrics, counter_and_gauge_render_with_help_and_type) {
    metrics_registry r;
    auto& c = r.add_counter("jobs_total", "Jobs done.");
    auto& g = r.add_gauge("queue_depth", "Queued jobs.");
    c.inc();
    c.inc(4);
    g.set(7);
    g.dec();
    g.add(0.5);
    EXPECT_EQ(r.render(), "# HELP jobs_total Jobs done.\n"
                          "# TYPE jobs_total counter\n"
                          "jobs_total 5\n"
                          "# HELP queue_depth Queued jobs.\n"
                          "# TYPE queue_depth gauge\n"
                          "queue_depth 6.5\n");
}

TEST(metrics, labelled_family_sorted_and_escaped) {
    metrics_registry r;
    auto& f = r.add_counter_family("http_requests_total", "Requests.", {"route", "status"});
    f.with({"b", "200"}).inc();
    f.with({"a", "404"}).inc(2);
    f.with({"b", "200"}).inc();
    f.with({"q\"x\\y\nz", "500"}).inc();
    EXPECT_EQ(r.render(), "# HELP http_requests_total Requests.\n"
                          "# TYPE http_requests_total counter\n"
                          "http_requests_total{route=\"a\",status=\"404\"} 2\n"
                          "http_requests_total{route=\"b\",status=\"200\"} 2\n"
                          "http_requests_total{route=\"q\\\"x\\\\y\\nz\",status=\"500\"} 1\n");
}

TEST(metrics, same_series_reference_is_stable) {
    metrics_registry r;
    auto& f = r.add_gauge_family("g", "h", {"k"});
    auto* first = &f.with({"v"});
    for (int i = 0; i < 100; ++i) {
        f.with({std::to_string(i)});
    }
    EXPECT_EQ(first, &f.with(std::vector<std::string>{"v"}));
}

TEST(metrics, help_escapes_backslash_and_newline) {
    metrics_registry r;
    r.add_counter("c", "a\\b\nc \"q\"");
    EXPECT_EQ(r.render(), "# HELP c a\\\\b\\nc \"q\"\n# TYPE c counter\nc 0\n");
}

TEST(metrics, histogram_cumulative_buckets_sum_count) {
    metrics_registry r;
    auto& h = r.add_histogram("latency_seconds", "Latency.", {0.25, 1, 2.5});
    h.observe(0.125);
    h.observe(0.25); // le is inclusive
    h.observe(0.5);
    h.observe(3);
    EXPECT_EQ(r.render(), "# HELP latency_seconds Latency.\n"
                          "# TYPE latency_seconds histogram\n"
                          "latency_seconds_bucket{le=\"0.25\"} 2\n"
                          "latency_seconds_bucket{le=\"1\"} 3\n"
                          "latency_seconds_bucket{le=\"2.5\"} 3\n"
                          "latency_seconds_bucket{le=\"+Inf\"} 4\n"
                          "latency_seconds_sum 3.875\n"
                          "latency_seconds_count 4\n");
    EXPECT_EQ(h.count(), 4U);
    EXPECT_EQ(h.cumulative_count(0), 2U);
}

TEST(metrics, labelled_histogram_puts_le_last) {
    metrics_registry r;
    auto& f = r.add_histogram_family("d", "D.", {"route"}, {1});
    f.with({"x"}).observe(2);
    EXPECT_EQ(r.render(), "# HELP d D.\n# TYPE d histogram\n"
                          "d_bucket{route=\"x\",le=\"1\"} 0\n"
                          "d_bucket{route=\"x\",le=\"+Inf\"} 1\n"
                          "d_sum{route=\"x\"} 2\n"
                          "d_count{route=\"x\"} 1\n");
}

TEST(metrics, callback_gauge_read_at_render_and_removable) {
    metrics_registry r;
    double v = 3;
    r.add_callback_gauge("live", "Live.", [&] { return v; });
    EXPECT_NE(r.render().find("live 3\n"), std::string::npos);
    v = 4;
    EXPECT_NE(r.render().find("live 4\n"), std::string::npos);
    r.remove_callback_gauge("live");
    EXPECT_EQ(r.render(), "");
}

TEST(metrics, callback_counter_renders_as_counter) {
    metrics_registry r;
    std::uint64_t n = 7;
    r.add_callback_counter("frames_total", "Frames.", [&] { return static_cast<double>(n); });
    const auto text = r.render();
    EXPECT_NE(text.find("# TYPE frames_total counter\n"), std::string::npos) << text;
    EXPECT_NE(text.find("frames_total 7\n"), std::string::npos) << text;
    r.remove_callback_gauge("frames_total");
    EXPECT_EQ(r.render(), "");
}

TEST(metrics, special_values) {
    EXPECT_EQ(format_sample_value(std::numeric_limits<double>::infinity()), "+Inf");
    EXPECT_EQ(format_sample_value(-std::numeric_limits<double>::infinity()), "-Inf");
    EXPECT_EQ(format_sample_value(std::numeric_limits<double>::quiet_NaN()), "NaN");
    EXPECT_EQ(format_sample_value(-2), "-2");
    EXPECT_EQ(format_sample_value(0.25), "0.25");
}

TEST(metrics, reregistering_returns_same_metric_and_clash_throws) {
    metrics_registry r;
    auto& a = r.add_counter_family("c", "h", {"x"});
    auto& b = r.add_counter_family("c", "h", {"x"});
    EXPECT_EQ(&a, &b);
    EXPECT_THROW(r.add_gauge("c", "h"), std::invalid_argument);
    EXPECT_THROW(r.add_counter_family("c", "h", {"y"}), std::invalid_argument);
    EXPECT_THROW(r.add_counter("9bad", "h"), std::invalid_argument);
    EXPECT_THROW(r.add_counter_family("ok", "h", {"le"}), std::invalid_argument);
    EXPECT_THROW(r.add_counter_family("ok2", "h", {"__x"}), std::invalid_argument);
    EXPECT_THROW(r.add_histogram("h1", "h", {1, 1}), std::invalid_argument);
}

TEST(metrics, wrong_arity_and_cardinality_fold_into_overflow) {
    metrics_registry r;
    auto& f = r.add_counter_family("c", "h", {"a", "b"});
    f.with({"only-one"}).inc();
    for (std::size_t i = 0; i < counter_family::max_series_per_family + 10; ++i) {
        f.with({std::to_string(i), "x"}).inc();
    }
    // The overflow series is itself one of the 1000: 1 (arity) + 999 real + 11 folded.
    const auto text = r.render();
    EXPECT_NE(text.find("c{a=\"overflow\",b=\"overflow\"} 12\n"), std::string::npos) << text;
}

TEST(metrics, concurrent_increments_are_not_lost) {
    metrics_registry r;
    auto& c = r.add_counter("c", "h");
    auto& h = r.add_histogram("h", "h", {1});
    auto& f = r.add_counter_family("f", "h", {"k"});
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 10000; ++i) {
                c.inc();
                h.observe(0.5);
                f.with({t % 2 == 0 ? "even" : "odd"}).inc();
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    EXPECT_EQ(c.value(), 40000U);
    EXPECT_EQ(h.count(), 40000U);
    EXPECT_DOUBLE_EQ(h.sum(), 20000);
    EXPECT_EQ(f.with({"even"}).value(), 20000U);
}

} // namespace
} // namespace livehouse::core
