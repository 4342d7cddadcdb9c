// server_metrics (see server_metrics.hpp).
#include "stress/server_metrics.hpp"

#include "stress/http_once.hpp"

#include <charconv>
#include <chrono>
#include <cmath>
#include <fmt/format.h>
#include <limits>
#include <optional>

namespace livehouse::stress {

namespace {

/// Calls fn(name, labels, value) for each sample line of a text exposition (format 0.0.4:
/// `name[{labels}] value [timestamp]`); comments, malformed lines and non-finite values are
/// skipped.
template <class F> void for_each_sample(std::string_view text, F&& fn) {
    std::size_t pos = 0;
    while (pos < text.size()) {
        auto end = text.find('\n', pos);
        if (end == std::string_view::npos) {
            end = text.size();
        }
        const auto line = text.substr(pos, end - pos);
        pos = end + 1;
        if (line.empty() || line.front() == '#') {
            continue;
        }
        const auto name_end = line.find_first_of("{ ");
        if (name_end == std::string_view::npos || name_end == 0) {
            continue;
        }
        std::size_t value_at = name_end;
        std::string_view labels;
        if (line[name_end] == '{') {
            const auto close = line.find('}', name_end);
            if (close == std::string_view::npos) {
                continue;
            }
            labels = line.substr(name_end + 1, close - name_end - 1);
            value_at = close + 1;
        }
        while (value_at < line.size() && line[value_at] == ' ') {
            ++value_at;
        }
        const auto value_end = std::min(line.find(' ', value_at), line.size());
        double v = 0;
        const auto [p, ec] = std::from_chars(line.data() + value_at, line.data() + value_end, v);
        if (ec != std::errc{} || !std::isfinite(v)) {
            continue;
        }
        fn(line.substr(0, name_end), labels, v);
    }
}

/// The value of label `key` in `k1="v1",k2="v2"` (no escapes: the values looked for here
/// are numbers).
std::optional<std::string_view> label_value(std::string_view labels, std::string_view key) {
    std::size_t pos = 0;
    while (pos < labels.size()) {
        const auto eq = labels.find('=', pos);
        if (eq == std::string_view::npos || eq + 1 >= labels.size() || labels[eq + 1] != '"') {
            return std::nullopt;
        }
        const auto close = labels.find('"', eq + 2);
        if (close == std::string_view::npos) {
            return std::nullopt;
        }
        if (labels.substr(pos, eq - pos) == key) {
            return labels.substr(eq + 2, close - eq - 2);
        }
        pos = close + 1;
        while (pos < labels.size() && (labels[pos] == ',' || labels[pos] == ' ')) {
            ++pos;
        }
    }
    return std::nullopt;
}

} // namespace

std::map<std::string, double> prometheus_sums(std::string_view text) {
    std::map<std::string, double> out;
    for_each_sample(text, [&](std::string_view name, std::string_view, double v) {
        out[std::string(name)] += v;
    });
    return out;
}

std::map<double, double> prometheus_buckets(std::string_view text, std::string_view histogram) {
    std::map<double, double> out;
    const auto bucket_name = std::string(histogram) + "_bucket";
    for_each_sample(text, [&](std::string_view name, std::string_view labels, double v) {
        if (name != bucket_name) {
            return;
        }
        const auto le = label_value(labels, "le");
        if (!le) {
            return;
        }
        double bound = std::numeric_limits<double>::infinity();
        if (*le != "+Inf") {
            const auto [p, ec] = std::from_chars(le->data(), le->data() + le->size(), bound);
            if (ec != std::errc{} || p != le->data() + le->size()) {
                return;
            }
        }
        out[bound] += v;
    });
    return out;
}

double bucket_quantile(const std::map<double, double>& cumulative, double q) {
    if (cumulative.empty()) {
        return -1;
    }
    const double total = cumulative.rbegin()->second;
    if (total <= 0) {
        return -1;
    }
    double largest_finite = 0;
    for (const auto& [bound, count] : cumulative) {
        if (std::isfinite(bound)) {
            largest_finite = bound;
        }
        if (count >= q * total) {
            return std::isfinite(bound) ? bound : largest_finite;
        }
    }
    return largest_finite;
}

void server_scraper::sample(double elapsed_s) {
    if (failures_ >= 3) {
        return;
    }
    auto r = http_once("GET", url_, "", "", std::chrono::milliseconds(800));
    if (!r || r->status != 200) {
        ++failures_;
        if (failures_ >= 3 && samples_.empty()) {
            error_ = r ? fmt::format("GET {} answered {}", url_, r->status) : r.err().message;
        }
        return;
    }
    failures_ = 0;
    const auto m = prometheus_sums(r->body);
    const auto get = [&m](const char* name) {
        const auto it = m.find(name);
        return it == m.end() ? 0.0 : it->second;
    };
    server_sample s;
    s.t_s = elapsed_s;
    s.load1 = get("node_load1");
    s.rss_bytes = get("process_resident_memory_bytes");
    s.connections = get("http_open_connections") + get("ws_open_connections");
    s.db_connections = get("redis_connections") + get("postgres_connections");
    const double cpu = get("process_cpu_seconds_total");
    const double requests = get("http_requests_total");
    s.cpu_percent = -1;
    if (have_last_ && elapsed_s > last_t_) {
        s.cpu_percent = 100.0 * (cpu - last_cpu_) / (elapsed_s - last_t_);
        s.requests_per_s = (requests - last_requests_) / (elapsed_s - last_t_);
    }
    // The server's own latency over the second before: its request-duration histogram's
    // buckets, this scrape's minus the last one's (all routes together).
    const auto buckets = prometheus_buckets(r->body, "http_request_duration_seconds");
    s.latency_p50_ms = -1;
    s.latency_p99_ms = -1;
    if (have_last_ && !buckets.empty()) {
        std::map<double, double> delta;
        for (const auto& [bound, count] : buckets) {
            const auto it = last_buckets_.find(bound);
            delta[bound] = count - (it == last_buckets_.end() ? 0 : it->second);
        }
        if (const double q50 = bucket_quantile(delta, 0.5); q50 >= 0) {
            s.latency_p50_ms = q50 * 1000;
            s.latency_p99_ms = bucket_quantile(delta, 0.99) * 1000;
        }
    }
    last_buckets_ = buckets;
    have_last_ = true;
    last_t_ = elapsed_s;
    last_cpu_ = cpu;
    last_requests_ = requests;
    samples_.push_back(s);
}

} // namespace livehouse::stress
