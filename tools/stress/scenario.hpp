// A load-test scenario: a TOML file in the repository (scenarios/), so a test is edited,
// reviewed and re-run like code (seed 000: "edit-ability", "repeatability").
//
//   name = "status burst"
//   [vars]                      # load variables: defaults, each overridable with --set k=v
//   target = "http://127.0.0.1:8080"
//   duration = "10s"
//   rate = 1000
//   [[phases]]                  # run one after the other, unless `start` is given
//   start = "0s"                # begins a track of its own at this offset, beside the others
//   name = "steady"
//   executor = "constant-arrival-rate"  # | ramping-arrival-rate | spike | constant-vus
//   rate = "${rate}"            # arrivals per second (open model)
//   start_rate = 0              # ramping-arrival-rate: from start_rate to rate over duration
//   ramp = "2s"                 # spike: 0 -> rate in `ramp`, then rate until duration
//   vus = 10                    # constant-vus (closed model): this many loop the flow
//   viewers = 500               # hls-viewers: players of one live playlist, joining evenly
//   playlist = "/hls/${id}/index.m3u8"   # over `ramp` (hls_viewer.hpp)
//   broadcast = "${id}"         # love-tappers: `viewers` tap hearts as the watch page does
//   taps_per_second = 3         # (love_tapper.hpp); token_secret mints their user tokens
//   duration = "${duration}"
//   max_vus = 1000              # open model: connections at most; arrivals beyond are dropped
//   flow = "status"
//   [[flows.status]]            # the steps of one iteration, in order
//   name = "status"
//   method = "GET"
//   path = "/api/v1/broadcasts/${broadcast}/status"
//   headers = { Accept = "application/json" }
//   body = ""
//   expect_status = 200         # a different status counts as failed
//   think = "0s"                # pause after the step
//   extract = { order = "$.id" } # from the JSON answer, for later steps: ${order}; also
//                               # ${__vu} (the VU's number) and ${__iter} (its iteration)
//   [[events]]                  # fault injection: a shell command at a time into the run
//   name = "redis down"
//   at = "5s"
//   run = "redis-cli -p ${redis_port} shutdown nosave"
//   [thresholds]
//   "http_req_duration{step=status}" = ["p99 < 200ms"]
//   http_req_failed = ["rate == 0"]
//
// Every string value may use ${var}; numbers and durations given as strings are parsed after
// substitution. Durations: "250ms", "10s", "2m", or a plain number of seconds. Unknown keys are
// errors (a typo must not silently change the test). Limits: 64 phases, 64 steps per flow,
// 256 vars, rates up to 10,000,000/s, 1,000,000 VUs.
#pragma once

#include "codec/http/url.hpp"
#include "core/result.hpp"

#include <boost/asio/ip/address.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace livehouse::stress {

using duration = std::chrono::microseconds;

struct step {
    std::string name;
    std::string method = "GET";
    std::string path; ///< origin-form target, after ${var} substitution
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    int expect_status = 200; ///< 0: any status below 400
    duration think{0};
    /// A connect or request (write + whole response) still going after this fails with
    /// "timeout"; checked once a second, so it ends within timeout + 1 s.
    duration timeout = std::chrono::seconds(10);
    /// Values taken from the JSON response for later steps of the same iteration:
    /// {"order": "$.id"} -> ${order}. Paths: $ then .key and [index] parts.
    std::vector<std::pair<std::string, std::string>> extract;
    /// path, body or a header still has ${...} (extracted values, ${__vu}, ${__iter}): filled
    /// in per request.
    bool dynamic = false;
};

enum class executor {
    constant_arrival_rate,
    ramping_arrival_rate,
    spike,
    constant_vus,
    ramping_vus,
    hls_viewers,
    love_tappers,
    chat_clients
};

struct phase {
    std::string name;
    executor kind = executor::constant_arrival_rate;
    double rate = 0;                ///< arrivals per second (open models)
    double start_rate = 0;          ///< ramping-arrival-rate
    duration ramp{0};               ///< spike
    std::size_t vus = 0;            ///< constant-vus; hls-viewers: the viewers (key `viewers`)
    std::size_t start_vus = 0;      ///< ramping-vus: from start_vus to vus over the duration
    std::string playlist;           ///< hls-viewers: the live playlist's path
    std::string broadcast;          ///< love-tappers: the broadcast's id
    double taps_per_second = 3;     ///< love-tappers: per tapper
    std::string token_secret;       ///< love-tappers, chat-clients: HS256 key to mint user tokens
    double send_rate = 0.5;         ///< chat-clients: messages per second per sender
    std::size_t senders = 0;        ///< chat-clients: how many of the clients send (default all)
    std::size_t message_bytes = 48; ///< chat-clients: length of a message's text
    duration length{0};
    std::size_t max_vus = 1000;
    std::string flow;
    /// `start`: this phase begins a track of its own, this long after the run starts, beside
    /// the others (viewers, love and chat at once); without it, it follows the phase before.
    std::optional<duration> start;

    /// Arrivals per second the open model wants at `t` since the phase began.
    [[nodiscard]] double rate_at(duration t) const;
};

struct threshold {
    std::string metric;    ///< "http_req_duration", "http_req_failed", "dropped_iterations"...
    std::string step;      ///< from {step=...}; empty: every step
    std::string statistic; ///< p50 p90 p95 p99 p99.9 max min mean | rate | count
    std::string op;        ///< < <= > >= == !=
    double value = 0;      ///< microseconds for durations, else the plain number
    std::string text;      ///< as written, for the verdict

    /// The metric is a latency (its value and observations are durations).
    [[nodiscard]] bool is_duration() const {
        return metric == "http_req_duration" || metric == "hls_startup" ||
               metric == "chat_delivery";
    }
};

/// A command run at a time during the run (seed 004: what happens when one service fails):
/// `[[events]] at = "5s"  run = "redis-cli -p 6390 shutdown nosave"`, through /bin/sh.
struct event {
    std::string name;
    duration at{0};
    std::string command;
};

struct scenario {
    std::string name;
    std::string description;
    std::map<std::string, std::string> vars;
    std::string target_host;
    std::uint16_t target_port = 80;
    std::string target_authority; ///< host[:port] as written in target: the Host header
    /// `--set connect_to=host:port,host:port`: the addresses connections go to instead of the
    /// target's (curl's --connect-to), actor or VU i to the (i mod n)th — a tier of edges
    /// behind one name. Requests still name the target's host. Empty: the target's address.
    std::vector<codec::http::host_port> connect_to;
    /// `--set local_ips=127.0.0.2-127.0.0.17,10.0.0.5`: the source addresses connections are
    /// bound to, in turn (k6's --local-ips): past one address's ~28,000 ports to one server,
    /// and without the kernel's port search growing with the connections (endpoints.hpp).
    std::vector<boost::asio::ip::address> local_ips;
    std::vector<phase> phases;
    std::map<std::string, std::vector<step>> flows;
    std::vector<threshold> thresholds;
    std::vector<event> events;
};

/// Parses `text` (TOML), applies `overrides` (--set name=value: they replace [vars] entries
/// before substitution; an override of an unknown var is an error), substitutes and checks.
/// Errors name the key: "phases[0].rate: not a number after substitution: \"abc\"".
core::result<scenario>
parse_scenario(std::string_view text, std::string_view source,
               const std::vector<std::pair<std::string, std::string>>& overrides);

/// Replaces every ${name} in `text` from `vars`; an unknown name is an error (a step that
/// uses a value an earlier step did not extract).
core::result<std::string> expand(std::string_view text,
                                 const std::map<std::string, std::string>& vars);

/// "250ms" / "10s" / "2m" / "1.5" (seconds) -> microseconds.
core::result<duration> parse_duration(std::string_view text);
/// "p99 < 200ms" on `metric` (which may carry "{step=name}").
core::result<threshold> parse_threshold(std::string_view metric, std::string_view expression);

} // namespace livehouse::stress
