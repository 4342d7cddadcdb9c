// The server's side of a run (seed 000: "server metrics — load average, CPU, database
// connections" beside the client's): the target's Prometheus /metrics, scraped once a second
// on the coordinating thread (never on a load loop), reduced to what a reader compares with the
// client figures. Any server that exports these names works; livehouse does (process_*,
// node_load1, http_open_connections, ws_open_connections, http_requests_total,
// http_request_duration_seconds, redis_connections, postgres_connections).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace livehouse::stress {

struct server_sample {
    double t_s = 0;         ///< since the run started
    double cpu_percent = 0; ///< of one core, over the second before (-1: unknown)
    double load1 = 0;
    double rss_bytes = 0;
    double connections = 0;    ///< http_open_connections + ws_open_connections
    double db_connections = 0; ///< redis_connections + postgres_connections
    double requests_per_s = 0; ///< http_requests_total, over the second before
    /// The server's own answer time over the second before, from its
    /// http_request_duration_seconds histogram (a bucket's upper bound; -1: no requests or
    /// no histogram).
    double latency_p50_ms = -1;
    double latency_p99_ms = -1;
};

/// The sum over all series of each metric in a Prometheus text exposition ("# " lines and
/// malformed lines skipped): {"http_requests_total": 1234, ...}.
std::map<std::string, double> prometheus_sums(std::string_view text);

/// A histogram's cumulative buckets summed over its series: upper bound (le; +Inf as
/// infinity) -> count.
std::map<double, double> prometheus_buckets(std::string_view text, std::string_view histogram);

/// The upper bound of the first bucket holding the q-quantile of cumulative buckets (+Inf
/// reads as the largest finite bound); -1 when they hold nothing.
double bucket_quantile(const std::map<double, double>& cumulative, double q);

class server_scraper {
  public:
    /// `metrics_url`: http://host:port/metrics.
    explicit server_scraper(std::string metrics_url) : url_(std::move(metrics_url)) {}

    /// One scrape. After 3 failures in a row it stops trying (the target has no /metrics).
    void sample(double elapsed_s);

    [[nodiscard]] const std::vector<server_sample>& samples() const { return samples_; }
    /// Why there are no samples ("" when there are).
    [[nodiscard]] const std::string& error() const { return error_; }

  private:
    std::string url_;
    std::vector<server_sample> samples_;
    std::string error_;
    int failures_ = 0;
    bool have_last_ = false;
    double last_t_ = 0;
    double last_cpu_ = 0;
    double last_requests_ = 0;
    std::map<double, double> last_buckets_;
};

} // namespace livehouse::stress
