// The HTML report of a run: one self-contained file (seed 000's "understandability": something
// a team opens after the run, without a server). The verdict first, then per-step tables, the
// thresholds, and charts over time — requests and failures per second, p50/p99 per second,
// the server's CPU — drawn by uPlot (npm "uplot", a 50 KB charting library), whose script and
// stylesheet are inlined into the file.
#pragma once

#include "core/result.hpp"
#include "stress/load_run.hpp"
#include "stress/server_metrics.hpp"
#include "stress/verdict.hpp"

#include <string>

namespace livehouse::stress {

struct chart_library {
    std::string script;     ///< uPlot.iife.min.js
    std::string stylesheet; ///< uPlot.min.css
};

/// uPlot from `node_modules/uplot/dist/` under `root` (the repository: npm ci installs it).
core::result<chart_library> load_chart_library(const std::string& root);

/// The report. `server` may be null.
std::string html_report(const scenario& sc, const run_stats& stats, const verdict& v,
                        const server_scraper* server, const chart_library& charts);

} // namespace livehouse::stress
