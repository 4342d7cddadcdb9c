// server_metrics (see server_metrics.hpp).
#include "stress/server_metrics.hpp"

#include "stress/http_once.hpp"

#include <charconv>
#include <chrono>
#include <cmath>
#include <fmt/format.h>

namespace livehouse::stress {

std::map<std::string, double> prometheus_sums(std::string_view text) {
    std::map<std::string, double> out;
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
        // name[{labels}] value [timestamp]
        const auto name_end = line.find_first_of("{ ");
        if (name_end == std::string_view::npos || name_end == 0) {
            continue;
        }
        std::size_t value_at = name_end;
        if (line[name_end] == '{') {
            const auto close = line.find('}', name_end);
            if (close == std::string_view::npos) {
                continue;
            }
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
        out[std::string(line.substr(0, name_end))] += v;
    }
    return out;
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
    have_last_ = true;
    last_t_ = elapsed_s;
    last_cpu_ = cpu;
    last_requests_ = requests;
    samples_.push_back(s);
}

} // namespace livehouse::stress
