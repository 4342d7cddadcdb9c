// stress_command (see stress_command.hpp).
#include "stress/stress_command.hpp"

#include "codec/http/url.hpp"
#include "stress/coordinator.hpp"
#include "stress/event_runner.hpp"
#include "stress/html_report.hpp"
#include "stress/load_run.hpp"
#include "stress/scenario.hpp"
#include "stress/server_metrics.hpp"
#include "stress/verdict.hpp"
#include "stress/webhook.hpp"

#include <fmt/format.h>
#include <fstream>
#include <sstream>

namespace livehouse::stress {

int run_stress_command(const stress_command_options& options) {
    std::ifstream in(options.scenario_file);
    if (!in) {
        fmt::print(stderr, "livehouse stress: cannot read {}\n", options.scenario_file);
        return 2;
    }
    std::stringstream text;
    text << in.rdbuf();
    std::vector<std::pair<std::string, std::string>> overrides;
    for (const auto& s : options.sets) {
        const auto eq = s.find('=');
        if (eq == std::string::npos || eq == 0) {
            fmt::print(stderr, "livehouse stress: --set {}: expected name=value\n", s);
            return 2;
        }
        overrides.emplace_back(s.substr(0, eq), s.substr(eq + 1));
    }
    auto sc = parse_scenario(text.str(), options.scenario_file, overrides);
    if (!sc) {
        fmt::print(stderr, "livehouse stress: {}\n", sc.err().message);
        return 2;
    }
    if (options.workers.empty()) {
        fmt::print(stderr, "livehouse stress: {} -> {}:{} ({} phase(s), {} thread(s))\n", sc->name,
                   sc->target_host, sc->target_port, sc->phases.size(), options.threads);
    } else {
        fmt::print(stderr,
                   "livehouse stress: {} -> {}:{} ({} phase(s), {} worker(s) x {} thread(s))\n",
                   sc->name, sc->target_host, sc->target_port, sc->phases.size(),
                   options.workers.size(), options.threads);
    }

    if (!sc->connect_to.empty()) {
        fmt::print(stderr, "livehouse stress: connecting to {} address(es) in turn (connect_to)\n",
                   sc->connect_to.size());
    }
    if (!sc->local_ips.empty()) {
        fmt::print(stderr, "livehouse stress: connecting from {} source address(es) (local_ips)\n",
                   sc->local_ips.size());
    }
    // The server's side, once a second from this thread: the target's /metrics (with
    // connect_to, the first address's: one node of the tier).
    const auto& metrics_at = sc->connect_to.empty()
                                 ? codec::http::host_port{sc->target_host, sc->target_port}
                                 : sc->connect_to.front();
    server_scraper server(
        fmt::format("http://{}/metrics", codec::http::authority(metrics_at.host, metrics_at.port)));
    if (options.scrape) {
        server.sample(0);
    }
    live_counters live;
    std::uint64_t last_requests = 0;
    run_options ro;
    ro.threads = options.threads;
    ro.live = &live;
    ro.on_second = [&](double elapsed) {
        if (options.scrape) {
            server.sample(elapsed);
        }
        if (!options.quiet) {
            const auto r = live.requests.load();
            fmt::print(stderr,
                       "[{:>4.0f}s] {:>8} req/s  {:>10} requests  {:>6} failed  {:>6} dropped  "
                       "{:>6} connections\n",
                       elapsed, r - last_requests, r, live.failed.load(), live.dropped.load(),
                       live.open_connections.load());
            last_requests = r;
        }
    };
    // With workers, handing out the jobs takes a moment: they all start 500 ms from now.
    ro.start = std::chrono::steady_clock::now() +
               std::chrono::milliseconds(options.workers.empty() ? 50 : 500);
    event_runner events(sc->events, *ro.start);
    run_stats stats;
    if (options.workers.empty()) {
        stats = run_scenario(*sc, ro);
    } else {
        coordinator_options co;
        co.workers = options.workers;
        co.token = options.token;
        co.threads = options.threads;
        co.scenario_text = text.str();
        co.scenario_file = options.scenario_file;
        co.sets = overrides;
        auto r = run_on_workers(*sc, co, ro);
        if (!r) {
            events.finish();
            fmt::print(stderr, "livehouse stress: {}\n", r.err().message);
            return 2;
        }
        stats = std::move(*r);
    }
    stats.events = events.finish();
    const auto v = judge(*sc, stats);
    const auto* scraped = options.scrape ? &server : nullptr;
    fmt::print("{}", summary_text(*sc, stats, v, scraped));
    if (!options.json_out.empty()) {
        std::ofstream out(options.json_out);
        out << report_json(*sc, stats, v, scraped) << "\n";
        if (!out) {
            fmt::print(stderr, "livehouse stress: cannot write {}\n", options.json_out);
            return 2;
        }
    }
    if (!options.html_out.empty()) {
        // uPlot from the source tree the binary was built from, else from the working directory.
        auto charts = load_chart_library(LIVEHOUSE_SOURCE_DIR);
        if (!charts) {
            charts = load_chart_library(".");
        }
        // A report that cannot be made is said, and does not change the verdict.
        if (!charts) {
            fmt::print(stderr, "livehouse stress: no HTML report: {}\n", charts.err().message);
        } else {
            std::ofstream out(options.html_out);
            out << html_report(*sc, stats, v, scraped, *charts);
            if (!out) {
                fmt::print(stderr, "livehouse stress: cannot write {}\n", options.html_out);
            }
        }
    }
    if (!options.webhook.empty()) {
        // A notification that cannot be delivered is reported, and does not change the verdict.
        auto status = post_webhook(options.webhook, webhook_body(*sc, stats, v));
        if (!status) {
            fmt::print(stderr, "livehouse stress: {}\n", status.err().message);
        } else {
            fmt::print(stderr, "livehouse stress: webhook answered {}\n", *status);
        }
    }
    return v.passed() ? 0 : 1;
}

} // namespace livehouse::stress
