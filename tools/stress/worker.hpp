// `livehouse stress --worker [--listen HOST:PORT] [--token T]`: a load generator a coordinator
// drives (coordinator.hpp), for more load than one process or host makes. It waits for a job,
// runs its share of the scenario, reports its counters every second and its statistics at the
// end (stats_codec.hpp), then waits for the next job.
//
// Protocol (line_channel.hpp, one JSON object per line), coordinator -> worker:
//   {"job": {"scenario": "<TOML>", "file": "<name>", "sets": [["k","v"], ...],
//            "share_index": i, "share_count": n, "threads": t, "start_in_ms": d,
//            "token": "<the worker's --token, if it has one>"}}
// worker -> coordinator:
//   {"accepted": true}, then {"progress": {"requests","failed","dropped","connections"}} once
//   a second, then {"stats": {...}}; or {"error": "..."} and the connection is closed.
//
// A worker runs no scenario events and scrapes no metrics: the coordinator does both once.
// It listens on loopback unless told otherwise: a worker sends load wherever a job says, so one
// reachable from a network should have a --token.
#pragma once

#include <string>

namespace livehouse::stress {

struct worker_options {
    std::string listen = "127.0.0.1:7400";
    std::string token; ///< "": none required
};

/// Serves jobs until the process is stopped. Returns 2 when it cannot listen.
int run_stress_worker(const worker_options& options);

} // namespace livehouse::stress
