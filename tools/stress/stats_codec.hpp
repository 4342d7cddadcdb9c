// stats_codec: a run's statistics (load_run.hpp's run_stats) as JSON and back, losslessly —
// what a `livehouse stress --worker` sends its coordinator, which merges every worker's into
// one run as if one process had generated all the load (histograms bucket by bucket:
// core::latency_histogram::snapshot/restore).
//
// Decoding is peer input: nothing throws; every field is type-checked; limits: 4,096 steps,
// 1,024 statuses or error kinds per map, 256-byte names, 86,400 seconds of timeline. Events
// are not carried (the coordinator runs them).
#pragma once

#include "core/result.hpp"
#include "stress/load_run.hpp"

#include <nlohmann/json.hpp>

namespace livehouse::stress {

nlohmann::json stats_to_json(const run_stats& stats);
core::result<run_stats> stats_from_json(const nlohmann::json& j);

} // namespace livehouse::stress
