// prometheus_sums: the reduction the load tester applies to the target's /metrics.
#include "stress/server_metrics.hpp"

#include <gtest/gtest.h>
#include <limits>
#include <string>

namespace livehouse::stress {
namespace {

TEST(PrometheusSums, SumsSeriesAndSkipsTheRest) {
    const auto m = prometheus_sums("# HELP http_requests_total Requests.\n"
                                   "# TYPE http_requests_total counter\n"
                                   "http_requests_total{route=\"a\",status=\"200\"} 10\n"
                                   "http_requests_total{route=\"b\",status=\"404\"} 5 1700000000\n"
                                   "process_cpu_seconds_total 1.25\n"
                                   "node_load1 0.5\n"
                                   "broken_line\n"
                                   "also_broken{x=\"1\" 3\n"
                                   "nan_value NaN\n"
                                   "\n");
    EXPECT_DOUBLE_EQ(m.at("http_requests_total"), 15);
    EXPECT_DOUBLE_EQ(m.at("process_cpu_seconds_total"), 1.25);
    EXPECT_DOUBLE_EQ(m.at("node_load1"), 0.5);
    EXPECT_FALSE(m.contains("broken_line"));
    EXPECT_FALSE(m.contains("also_broken"));
    EXPECT_FALSE(m.contains("nan_value"));
    EXPECT_TRUE(prometheus_sums("").empty());
}

TEST(PrometheusBuckets, SumsSeriesPerBoundAndReadsQuantiles) {
    const std::string text = "# TYPE http_request_duration_seconds histogram\n"
                             "http_request_duration_seconds_bucket{route=\"a\",le=\"0.001\"} 50\n"
                             "http_request_duration_seconds_bucket{route=\"a\",le=\"0.01\"} 90\n"
                             "http_request_duration_seconds_bucket{route=\"a\",le=\"+Inf\"} 100\n"
                             "http_request_duration_seconds_bucket{route=\"b\",le=\"0.001\"} 0\n"
                             "http_request_duration_seconds_bucket{route=\"b\",le=\"0.01\"} 0\n"
                             "http_request_duration_seconds_bucket{route=\"b\",le=\"+Inf\"} 100\n"
                             "http_request_duration_seconds_sum{route=\"a\"} 1.5\n"
                             "other_bucket{le=\"1\"} 7\n";
    const auto b = prometheus_buckets(text, "http_request_duration_seconds");
    ASSERT_EQ(b.size(), 3u);
    EXPECT_DOUBLE_EQ(b.at(0.001), 50);
    EXPECT_DOUBLE_EQ(b.at(0.01), 90);
    EXPECT_DOUBLE_EQ(b.at(std::numeric_limits<double>::infinity()), 200);
    // 200 requests: 50 under 1 ms, 40 more under 10 ms, 110 above (+Inf).
    EXPECT_DOUBLE_EQ(bucket_quantile(b, 0.25), 0.001);
    EXPECT_DOUBLE_EQ(bucket_quantile(b, 0.45), 0.01);
    EXPECT_DOUBLE_EQ(bucket_quantile(b, 0.99), 0.01) << "+Inf reads as the largest bound";
    EXPECT_DOUBLE_EQ(bucket_quantile({}, 0.5), -1);
    EXPECT_DOUBLE_EQ(bucket_quantile({{0.1, 0}, {std::numeric_limits<double>::infinity(), 0}}, 0.5),
                     -1);
}

TEST(ServerScraper, GivesUpOnATargetWithoutMetrics) {
    server_scraper s("http://127.0.0.1:1/metrics"); // nothing listens on port 1
    for (int i = 0; i < 5; ++i) {
        s.sample(i);
    }
    EXPECT_TRUE(s.samples().empty());
    EXPECT_FALSE(s.error().empty());
}

} // namespace
} // namespace livehouse::stress
