// The coordinator: `livehouse stress <scenario> --workers HOST:PORT,...` runs the scenario on
// several `livehouse stress --worker` processes (worker.hpp) — on this host or others — as one
// run: worker i of n takes share i of every phase (load_run.hpp's run_options::share_*), all
// start at the same moment, and their statistics are merged exactly (every histogram bucket by
// bucket), so the verdict and the reports read as if one process had made all the load. The
// coordinator runs the scenario's events and scrapes the server itself, once.
//
// A worker that cannot be reached, or refuses the job, stops the run before it starts (nothing
// sent). A worker lost during the run counts as a failed request in the step "worker" (error
// kind: what happened), so the verdict cannot pass on part of the load.
#pragma once

#include "core/result.hpp"
#include "stress/load_run.hpp"
#include "stress/scenario.hpp"

#include <string>
#include <utility>
#include <vector>

namespace livehouse::stress {

struct coordinator_options {
    std::vector<std::string> workers; ///< HOST:PORT each
    std::string token;                ///< the workers' --token ("" if none)
    std::size_t threads = 1;          ///< event loops per worker
    std::string scenario_text;        ///< the TOML, sent to every worker
    std::string scenario_file;        ///< its name, for the workers' messages
    std::vector<std::pair<std::string, std::string>> sets;
};

/// `ro.start` (when the load starts), `ro.live` and `ro.on_second` work as for run_scenario.
/// An error: the run could not start.
core::result<run_stats> run_on_workers(const scenario& sc, const coordinator_options& options,
                                       const run_options& ro);

} // namespace livehouse::stress
