// `livehouse stress <scenario file> [--set name=value ...]`: loads the scenario, runs it with a
// progress line on stderr each second, prints the summary and the verdict, writes the JSON
// report when asked. Exit code: 0 PASSED, 1 FAILED (a threshold), 2 the scenario or the
// command line is wrong, or a worker could not be reached (nothing was run).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace livehouse::stress {

struct stress_command_options {
    std::string scenario_file;
    std::vector<std::string> sets; ///< "name=value"
    std::size_t threads = 1;       ///< event loops generating the load
    std::string json_out;          ///< "": no JSON report
    std::string html_out;          ///< "": no HTML report (html_report.hpp)
    bool quiet = false;            ///< no progress line
    bool scrape = true;            ///< GET the target's /metrics once a second
    std::string webhook;           ///< "": none; else http://... gets the verdict (webhook.hpp)
    /// HOST:PORT of `livehouse stress --worker`s that generate the load (coordinator.hpp);
    /// empty: this process does. `threads` is then per worker.
    std::vector<std::string> workers;
    std::string token; ///< the workers' --token
};

int run_stress_command(const stress_command_options& options);

} // namespace livehouse::stress
