// load_run: runs a scenario's phases against its target and collects what the clients saw.
//
// Open models (constant-arrival-rate, ramping-arrival-rate, spike): iterations start at the
// times the rate says, whatever the server does. A step's latency is measured from the time it
// was *meant* to start, so a server that stalls for a second shows a second of latency on every
// iteration that should have started meanwhile — not one slow request and a quiet gap
// (coordinated omission, which wrk's default mode has). An iteration that finds no free
// connection and the phase at max_vus cannot start: it is counted in dropped_iterations, never
// silently skipped.
//
// Closed model (constant-vus): `vus` connections each run the flow in a loop for the phase's
// duration; latency from each request's actual start.
//
// Threading: `threads` event loops, each with its share of the rate (or of the VUs) and its own
// statistics, merged exactly at the end (core::latency_histogram); with workers
// (run_options::share_*), the loops of every worker process take their turns together.
// Connections are HTTP/1.1 keep-alive, one request in flight each, read with
// codec/http/response_reader (a body is counted, and kept only for a step that extracts from
// it, at most 16 MiB). Per request: the step's timeout (10 s by default).
#pragma once

#include "core/latency_histogram.hpp"
#include "stress/scenario.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace livehouse::stress {

struct step_stats {
    core::latency_histogram latency; ///< microseconds, successes and failures alike
    std::uint64_t requests = 0;
    std::uint64_t failed = 0; ///< transport error, or a status other than expect_status
    std::map<int, std::uint64_t> statuses;       ///< 0: no response
    std::map<std::string, std::uint64_t> errors; ///< by kind: connect, timeout, read, status...
    void merge(const step_stats& o);
};

/// One second of the run (since its start), all steps together.
struct second_stats {
    std::uint64_t requests = 0;
    std::uint64_t failed = 0;
    std::uint64_t dropped = 0;
    core::latency_histogram latency;
    void merge(const second_stats& o);
};

/// What the HLS viewers (hls_viewer.hpp) saw as players.
struct viewer_stats {
    std::uint64_t joined = 0;
    std::uint64_t started = 0;  ///< played a first segment
    std::uint64_t stalls = 0;   ///< the playhead reached the end of the buffer
    std::uint64_t segments = 0; ///< downloaded whole
    std::uint64_t bytes = 0;
    core::latency_histogram startup;    ///< join -> first segment downloaded (µs)
    core::latency_histogram stall_time; ///< per stall (µs)
    void merge(const viewer_stats& o);
};

/// A scenario event (fault injection) as it ran.
struct event_result {
    std::string name;
    std::string command;
    double at_s = 0;     ///< when it was meant to run, since the run's start
    double ran_at_s = 0; ///< when it ran
    double took_s = 0;
    int exit_code = -1; ///< -1: could not be started, or killed by a signal
};

/// What the love tappers (love_tapper.hpp) sent and what the server counted of it.
struct love_stats {
    std::uint64_t tappers = 0;
    std::uint64_t batches = 0;  ///< answered 200
    std::uint64_t sent = 0;     ///< taps in those batches
    std::uint64_t accepted = 0; ///< taps the server said it counted
    void merge(const love_stats& o) {
        tappers += o.tappers;
        batches += o.batches;
        sent += o.sent;
        accepted += o.accepted;
    }
};

/// What the chat clients (chat_client.hpp) saw of the room.
struct chat_stats {
    std::uint64_t clients = 0;     ///< that tried to join
    std::uint64_t joined = 0;      ///< got their history
    std::uint64_t late_joins = 0;  ///< of those, after sending began (missed messages then)
    std::uint64_t sent = 0;        ///< messages written
    std::uint64_t acked = 0;       ///< of those, acknowledged by the server
    std::uint64_t received = 0;    ///< room messages received, all clients together
    std::uint64_t delivered = 0;   ///< of those, sent by this tester (stamped): latency known
    std::uint64_t skipped = 0;     ///< messages the server said it did not deliver ("skipped")
    std::uint64_t disconnects = 0; ///< connections lost or closed by the server before the end
    std::uint64_t malformed = 0;   ///< text frames that were not a JSON object with a type
    std::map<std::string, std::uint64_t> errors; ///< disconnects by kind, errors without a ref
    core::latency_histogram delivery;            ///< send (wall clock) -> receipt, µs
    void merge(const chat_stats& o);
};

struct run_stats {
    std::map<std::string, step_stats> steps;
    viewer_stats viewers;
    love_stats love;
    chat_stats chat;
    std::vector<event_result> events;
    std::uint64_t iterations = 0;
    std::uint64_t dropped = 0;
    std::vector<second_stats> seconds;
    double elapsed_s = 0;
    void merge(const run_stats& o);
    /// All steps' requests, failures and latency together.
    [[nodiscard]] step_stats total() const;
};

/// Read while the run goes on (the progress line).
struct live_counters {
    std::atomic<std::uint64_t> requests{0};
    std::atomic<std::uint64_t> failed{0};
    std::atomic<std::uint64_t> dropped{0};
    std::atomic<std::int64_t> open_connections{0};
};

struct run_options {
    std::size_t threads = 1;
    /// This process's part of a run spread over several (`livehouse stress --worker`): it is
    /// share `share_index` of `share_count`, and its loops take their turns among all loops of
    /// all shares (arrivals, VUs, viewers), so the shares together run the scenario once.
    std::size_t share_index = 0;
    std::size_t share_count = 1;
    /// When the first phase starts (default: 20 ms from the call); events are timed from it.
    std::optional<std::chrono::steady_clock::time_point> start;
    live_counters* live = nullptr; ///< optional
    /// Called once a second from the coordinating thread with the seconds elapsed.
    std::function<void(double elapsed_s)> on_second;
};

run_stats run_scenario(const scenario& sc, const run_options& options);

} // namespace livehouse::stress
