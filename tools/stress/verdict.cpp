// Verdict and reports (see verdict.hpp).
#include "stress/verdict.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace livehouse::stress {

namespace {

double statistic_of(const step_stats& s, const std::string& stat) {
    const auto& h = s.latency;
    if (stat == "p50") {
        return static_cast<double>(h.percentile(0.50));
    }
    if (stat == "p90") {
        return static_cast<double>(h.percentile(0.90));
    }
    if (stat == "p95") {
        return static_cast<double>(h.percentile(0.95));
    }
    if (stat == "p99") {
        return static_cast<double>(h.percentile(0.99));
    }
    if (stat == "p99.9") {
        return static_cast<double>(h.percentile(0.999));
    }
    if (stat == "max") {
        return static_cast<double>(h.max());
    }
    if (stat == "min") {
        return static_cast<double>(h.min());
    }
    return h.mean();
}

bool compare(double a, const std::string& op, double b) {
    if (op == "<") {
        return a < b;
    }
    if (op == "<=") {
        return a <= b;
    }
    if (op == ">") {
        return a > b;
    }
    if (op == ">=") {
        return a >= b;
    }
    if (op == "==") {
        return a == b;
    }
    return a != b;
}

std::string ms(double micros) {
    return fmt::format("{:.2f} ms", micros / 1000.0);
}

std::string observed_text(const threshold_result& r) {
    return r.rule.is_duration() ? ms(r.observed) : fmt::format("{:g}", r.observed);
}

} // namespace

bool verdict::passed() const {
    for (const auto& r : results) {
        if (!r.passed) {
            return false;
        }
    }
    return true;
}

verdict judge(const scenario& sc, const run_stats& stats) {
    verdict v;
    const auto all = stats.total();
    for (const auto& t : sc.thresholds) {
        threshold_result r{t, 0, false};
        const step_stats* s = &all;
        if (!t.step.empty()) {
            const auto it = stats.steps.find(t.step);
            s = it == stats.steps.end() ? nullptr : &it->second;
        }
        if (t.metric == "hls_stalls") {
            r.observed = static_cast<double>(stats.viewers.stalls);
            r.passed = stats.viewers.joined > 0 && compare(r.observed, t.op, t.value);
        } else if (t.metric == "hls_viewers_started") {
            r.observed = static_cast<double>(stats.viewers.started);
            r.passed = compare(r.observed, t.op, t.value);
        } else if (t.metric == "hls_startup") {
            step_stats startup;
            startup.latency = stats.viewers.startup;
            r.observed = statistic_of(startup, t.statistic);
            r.passed = stats.viewers.started > 0 && compare(r.observed, t.op, t.value);
        } else if (t.metric == "chat_delivery") {
            step_stats delivery;
            delivery.latency = stats.chat.delivery;
            r.observed = statistic_of(delivery, t.statistic);
            r.passed = stats.chat.delivered > 0 && compare(r.observed, t.op, t.value);
        } else if (t.metric.starts_with("chat_")) {
            const auto& cs = stats.chat;
            r.observed = static_cast<double>(t.metric == "chat_joined"      ? cs.joined
                                             : t.metric == "chat_delivered" ? cs.delivered
                                             : t.metric == "chat_skipped"   ? cs.skipped
                                                                            : cs.disconnects);
            // No chat client ran: a chat threshold never passes.
            r.passed = cs.clients > 0 && compare(r.observed, t.op, t.value);
        } else if (t.metric == "dropped_iterations") {
            r.observed = static_cast<double>(stats.dropped);
            r.passed = compare(r.observed, t.op, t.value);
        } else if (t.metric == "iterations") {
            r.observed = static_cast<double>(stats.iterations);
            r.passed = compare(r.observed, t.op, t.value);
        } else if (s == nullptr || s->requests == 0) {
            r.passed = false; // nothing ran: never a pass
        } else if (t.metric == "http_req_duration") {
            r.observed = statistic_of(*s, t.statistic);
            r.passed = compare(r.observed, t.op, t.value);
        } else if (t.metric == "http_req_failed") {
            r.observed = t.statistic == "count"
                             ? static_cast<double>(s->failed)
                             : static_cast<double>(s->failed) / static_cast<double>(s->requests);
            r.passed = compare(r.observed, t.op, t.value);
        } else { // http_reqs
            r.observed = t.statistic == "count"
                             ? static_cast<double>(s->requests)
                             : static_cast<double>(s->requests) / std::max(stats.elapsed_s, 1e-9);
            r.passed = compare(r.observed, t.op, t.value);
        }
        v.results.push_back(std::move(r));
    }
    return v;
}

std::string summary_text(const scenario& sc, const run_stats& stats, const verdict& v,
                         const server_scraper* server) {
    std::string out = fmt::format("scenario: {} ({:.1f} s, {} iterations, {} dropped)\n", sc.name,
                                  stats.elapsed_s, stats.iterations, stats.dropped);
    out += fmt::format("{:<24} {:>9} {:>7} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}\n", "step",
                       "requests", "failed", "req/s", "p50", "p90", "p99", "p99.9", "max");
    const auto row = [&](const std::string& name, const step_stats& s) {
        const auto& h = s.latency;
        out += fmt::format(
            "{:<24} {:>9} {:>7} {:>10.1f} {:>10} {:>10} {:>10} {:>10} {:>10}\n", name, s.requests,
            s.failed, static_cast<double>(s.requests) / std::max(stats.elapsed_s, 1e-9),
            ms(static_cast<double>(h.percentile(0.5))), ms(static_cast<double>(h.percentile(0.9))),
            ms(static_cast<double>(h.percentile(0.99))),
            ms(static_cast<double>(h.percentile(0.999))), ms(static_cast<double>(h.max())));
        std::string codes;
        for (const auto& [code, n] : s.statuses) {
            codes +=
                fmt::format(" {}={}", code == 0 ? std::string("none") : fmt::format("{}", code), n);
        }
        std::string errors;
        for (const auto& [kind, n] : s.errors) {
            errors += fmt::format(" {}={}", kind, n);
        }
        out += fmt::format("{:<24} status:{}{}\n", "", codes,
                           errors.empty() ? std::string() : " errors:" + errors);
    };
    for (const auto& [name, s] : stats.steps) {
        row(name, s);
    }
    if (stats.steps.size() > 1) {
        row("(all)", stats.total());
    }
    if (const auto& vs = stats.viewers; vs.joined > 0) {
        out +=
            fmt::format("hls viewers: {} joined, {} started (start-up p50 {} / p99 {}), {} "
                        "stalls (p99 {}), {} segments, {:.1f} MB\n",
                        vs.joined, vs.started, ms(static_cast<double>(vs.startup.percentile(0.5))),
                        ms(static_cast<double>(vs.startup.percentile(0.99))), vs.stalls,
                        ms(static_cast<double>(vs.stall_time.percentile(0.99))), vs.segments,
                        static_cast<double>(vs.bytes) / 1e6);
    }
    if (const auto& ls = stats.love; ls.tappers > 0) {
        out += fmt::format("love: {} tappers, {} batches, {} taps sent, {} accepted\n", ls.tappers,
                           ls.batches, ls.sent, ls.accepted);
    }
    if (const auto& cs = stats.chat; cs.clients > 0) {
        std::string errors;
        for (const auto& [k, n] : cs.errors) {
            errors += fmt::format(" {}={}", k, n);
        }
        out += fmt::format("chat: {} clients, {} joined ({} late), {} sent, {} acked, {} received "
                           "({} stamped: delivery p50 {} / p99 {} / max {}), {} skipped, {} "
                           "disconnects{}\n",
                           cs.clients, cs.joined, cs.late_joins, cs.sent, cs.acked, cs.received,
                           cs.delivered, ms(static_cast<double>(cs.delivery.percentile(0.5))),
                           ms(static_cast<double>(cs.delivery.percentile(0.99))),
                           ms(static_cast<double>(cs.delivery.max())), cs.skipped, cs.disconnects,
                           errors);
    }
    for (const auto& e : stats.events) {
        out += fmt::format("event: {} at {:.1f} s (due {:.1f} s), exit {}, took {:.2f} s: {}\n",
                           e.name, e.ran_at_s, e.at_s, e.exit_code, e.took_s, e.command);
    }
    if (server != nullptr) {
        const auto& ss = server->samples();
        double cpu_sum = 0;
        double cpu_max = 0;
        double load_max = 0;
        double rss_max = 0;
        double conn_max = 0;
        double db_min = -1;
        double db_max = 0;
        double p99_max = -1;
        int cpu_n = 0;
        for (const auto& x : ss) {
            if (x.cpu_percent >= 0) {
                cpu_sum += x.cpu_percent;
                cpu_max = std::max(cpu_max, x.cpu_percent);
                ++cpu_n;
            }
            load_max = std::max(load_max, x.load1);
            rss_max = std::max(rss_max, x.rss_bytes);
            conn_max = std::max(conn_max, x.connections);
            db_min = db_min < 0 ? x.db_connections : std::min(db_min, x.db_connections);
            db_max = std::max(db_max, x.db_connections);
            p99_max = std::max(p99_max, x.latency_p99_ms);
        }
        if (cpu_n > 0) {
            out += fmt::format("server: cpu avg {:.0f}% max {:.0f}% (100% = one core), load1 max "
                               "{:.2f}, rss max {:.1f} MB, connections max {:.0f}, database "
                               "connections {:.0f}..{:.0f}\n",
                               cpu_sum / cpu_n, cpu_max, load_max, rss_max / 1e6, conn_max,
                               std::max(0.0, db_min), db_max);
            if (p99_max >= 0) {
                // Beside the client's: the gap between the two is the network and the queues
                // before the server reads a request.
                out += fmt::format("server latency (its http_request_duration_seconds): p99 "
                                   "per second max {:.1f} ms\n",
                                   p99_max);
            }
        } else {
            out += fmt::format("server metrics: unavailable ({})\n",
                               server->error().empty() ? "no samples" : server->error());
        }
    }
    for (const auto& r : v.results) {
        out += fmt::format("  {} {}  (observed {})\n", r.passed ? "ok  " : "FAIL", r.rule.text,
                           observed_text(r));
    }
    if (v.passed()) {
        out += "PASSED\n";
    } else {
        std::string failing;
        for (const auto& r : v.results) {
            if (!r.passed) {
                failing += (failing.empty() ? "" : "; ") + r.rule.text;
            }
        }
        out += fmt::format("FAILED: {}\n", failing);
    }
    return out;
}

std::string report_json(const scenario& sc, const run_stats& stats, const verdict& v,
                        const server_scraper* server) {
    using nlohmann::json;
    const auto hist = [](const core::latency_histogram& h) {
        return json{{"count", h.count()},
                    {"min_us", h.min()},
                    {"mean_us", h.mean()},
                    {"p50_us", h.percentile(0.5)},
                    {"p90_us", h.percentile(0.9)},
                    {"p95_us", h.percentile(0.95)},
                    {"p99_us", h.percentile(0.99)},
                    {"p999_us", h.percentile(0.999)},
                    {"max_us", h.max()}};
    };
    json steps = json::object();
    for (const auto& [name, s] : stats.steps) {
        json statuses = json::object();
        for (const auto& [code, n] : s.statuses) {
            statuses[fmt::format("{}", code)] = n;
        }
        steps[name] = {{"requests", s.requests},
                       {"failed", s.failed},
                       {"rps", static_cast<double>(s.requests) / std::max(stats.elapsed_s, 1e-9)},
                       {"latency", hist(s.latency)},
                       {"statuses", statuses},
                       {"errors", s.errors}};
    }
    json timeline = json::array();
    for (std::size_t i = 0; i < stats.seconds.size(); ++i) {
        const auto& s = stats.seconds[i];
        timeline.push_back({{"second", i},
                            {"requests", s.requests},
                            {"failed", s.failed},
                            {"dropped", s.dropped},
                            {"p50_us", s.latency.percentile(0.5)},
                            {"p99_us", s.latency.percentile(0.99)},
                            {"max_us", s.latency.max()}});
    }
    json thresholds = json::array();
    for (const auto& r : v.results) {
        thresholds.push_back({{"threshold", r.rule.text},
                              {"observed", r.observed},
                              {"observed_text", observed_text(r)},
                              {"passed", r.passed}});
    }
    json out = {{"scenario", sc.name},
                {"vars", sc.vars},
                {"elapsed_s", stats.elapsed_s},
                {"iterations", stats.iterations},
                {"dropped_iterations", stats.dropped},
                {"total", steps.empty() ? json::object()
                                        : json{{"requests", stats.total().requests},
                                               {"failed", stats.total().failed},
                                               {"latency", hist(stats.total().latency)}}},
                {"steps", steps},
                {"viewers",
                 {{"joined", stats.viewers.joined},
                  {"started", stats.viewers.started},
                  {"stalls", stats.viewers.stalls},
                  {"segments", stats.viewers.segments},
                  {"bytes", stats.viewers.bytes},
                  {"startup", hist(stats.viewers.startup)},
                  {"stall_time", hist(stats.viewers.stall_time)}}},
                {"timeline", timeline},
                {"thresholds", thresholds},
                {"passed", v.passed()}};
    out["love"] = {{"tappers", stats.love.tappers},
                   {"batches", stats.love.batches},
                   {"sent", stats.love.sent},
                   {"accepted", stats.love.accepted}};
    out["chat"] = {{"clients", stats.chat.clients},
                   {"joined", stats.chat.joined},
                   {"late_joins", stats.chat.late_joins},
                   {"sent", stats.chat.sent},
                   {"acked", stats.chat.acked},
                   {"received", stats.chat.received},
                   {"delivered", stats.chat.delivered},
                   {"skipped", stats.chat.skipped},
                   {"disconnects", stats.chat.disconnects},
                   {"malformed", stats.chat.malformed},
                   {"errors", stats.chat.errors},
                   {"delivery", hist(stats.chat.delivery)}};
    json events = json::array();
    for (const auto& e : stats.events) {
        events.push_back({{"name", e.name},
                          {"command", e.command},
                          {"at_s", e.at_s},
                          {"ran_at_s", e.ran_at_s},
                          {"took_s", e.took_s},
                          {"exit_code", e.exit_code}});
    }
    out["events"] = events;
    if (server != nullptr) {
        json samples = json::array();
        for (const auto& x : server->samples()) {
            samples.push_back({{"t_s", x.t_s},
                               {"cpu_percent", x.cpu_percent},
                               {"load1", x.load1},
                               {"rss_bytes", x.rss_bytes},
                               {"connections", x.connections},
                               {"db_connections", x.db_connections},
                               {"latency_p50_ms", x.latency_p50_ms},
                               {"latency_p99_ms", x.latency_p99_ms},
                               {"requests_per_s", x.requests_per_s}});
        }
        out["server"] = {{"samples", samples}, {"error", server->error()}};
    }
    return out.dump(2);
}

} // namespace livehouse::stress
