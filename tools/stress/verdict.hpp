// The verdict of a run (seed 000: "understandability" — PASSED or FAILED right after the run,
// naming what failed), and the reports: a terminal summary and a JSON document.
#pragma once

#include "stress/load_run.hpp"
#include "stress/scenario.hpp"
#include "stress/server_metrics.hpp"

#include <string>
#include <vector>

namespace livehouse::stress {

struct threshold_result {
    threshold rule;
    double observed = 0; ///< microseconds for durations, else the plain number
    bool passed = false;
};

struct verdict {
    std::vector<threshold_result> results;
    [[nodiscard]] bool passed() const;
};

/// Evaluates every threshold of `sc` against `stats`. A threshold on a step that never ran
/// fails (observed 0): a test that did not happen must not pass.
verdict judge(const scenario& sc, const run_stats& stats);

/// The terminal summary: per step requests, failures, req/s, p50/p90/p99/p99.9/max, statuses
/// and errors; dropped iterations; each threshold; the PASSED/FAILED line last.
/// `server`: the target's /metrics over the run (null: not scraped).
std::string summary_text(const scenario& sc, const run_stats& stats, const verdict& v,
                         const server_scraper* server = nullptr);

/// The same as JSON, with the per-second timeline (requests, failed, dropped, p50/p99/max).
std::string report_json(const scenario& sc, const run_stats& stats, const verdict& v,
                        const server_scraper* server = nullptr);

} // namespace livehouse::stress
