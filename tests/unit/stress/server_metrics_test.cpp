// prometheus_sums: the reduction the load tester applies to the target's /metrics.
#include "stress/server_metrics.hpp"

#include <gtest/gtest.h>

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
