// livehouse_state_bench: load on one shared-state operation (INCRBY, ZINCRBY, or an inventory
// reserve + confirm) through livehouse's own backends, embedded or Redis / Redis Cluster, with
// redis-benchmark's shape: C clients (-c), each keeping P calls in flight (-P), N calls in all
// (-n). Prints one JSON line: counts, rate and per-call latency percentiles.
//
// What it measures is the state interface a service calls (state/shared_state.hpp,
// inventory.hpp), not raw RESP: argument checks, command encoding, the client's hop onto its
// event-loop thread, reply parsing and the completion are all inside the latency.
//
// Counting is exact: the run ends only when every call has completed (or --timeout-s passes,
// then it exits 1), and each call is counted once as ok or error. bench/state_bench.sh compares
// it with redis-benchmark; tests/backends/two_process_test.cpp runs two of them at once to check
// exact totals across processes.
//
// Limits: "clients" are pipelines over the backend's one client (one connection per Redis node,
// as in the server), not separate connections like redis-benchmark's -c; --connections opens
// more clients. Reserve mode holds every item for --hold-ms and confirms at once; its latency is
// that of the pair.
#include "core/clock.hpp"
#include "state/embedded/memory_inventory.hpp"
#include "state/embedded/memory_state.hpp"
#include "state/redis/client.hpp"
#include "state/redis/redis_state.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fmt/format.h>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace livehouse::bench {
namespace {

using clock_type = std::chrono::steady_clock;

enum class op_kind : std::uint8_t { incrby, zincrby, reserve };

struct options {
    std::string backend = "embedded";
    std::string redis = "127.0.0.1:6379";
    std::string op = "incrby";
    std::uint64_t requests = 100000;
    std::uint32_t pipeline = 1;
    std::uint32_t clients = 1;
    std::uint32_t connections = 1;
    std::uint32_t threads = 1;
    std::string key = "bench|state|key";
    std::string member = "member";
    std::optional<std::int64_t> stock;
    std::int64_t hold_ms = 600000;
    double timeout_s = 600;
    std::string ready_file;
    std::string go_file;
};

/// The backend objects one pipeline calls. Several sets of them exist with --connections
/// (one Redis client each); the embedded backend has one.
struct target {
    std::shared_ptr<state::redis::client> client;
    std::unique_ptr<state::counters> counters;
    std::unique_ptr<state::sorted_sets> sorted_sets;
    std::unique_ptr<state::inventory> inventory;
};

/// What every completion touches. Shared-owned by the completions: the call that completes
/// last wakes main() and may still be returning through this when main() reads the result.
struct run_state {
    op_kind op = op_kind::incrby;
    std::uint64_t requests = 0;
    std::string key;
    std::string member;
    std::chrono::milliseconds hold{0};

    std::atomic<std::uint64_t> next{0};      ///< the next request index to claim
    std::atomic<std::uint64_t> completed{0}; ///< requests finished, ok or not
    std::atomic<std::uint64_t> errors{0};
    std::atomic<std::uint64_t> sold{0};
    /// Nanoseconds from issue to completion, one slot per request: each written once by the
    /// request's own completion, read by main() after `completed` reached `requests`.
    std::vector<std::int64_t> latency_ns;
    std::once_flag first_error;

    std::mutex mutex;
    std::condition_variable finished;
};

/// One of C×P call slots: it issues a request, and the request's completion issues the next.
struct slot {
    std::shared_ptr<run_state> run;
    target* to = nullptr;
    /// 0 while a request is being issued. The issuer and the completion each add 1 when they
    /// are through; whichever comes second (sees 1) issues the next request. An embedded call
    /// completes before it returns, so this turns "next from the completion" into a loop
    /// instead of recursion as deep as the request count.
    std::atomic<int> turn{0};
};

void report_error(run_state& r, const core::error& e) {
    r.errors.fetch_add(1, std::memory_order_relaxed);
    std::call_once(r.first_error,
                   [&] { fmt::print(stderr, "state_bench: first error: {}\n", e.message); });
}

void pump(slot& s);

/// The request is over: records it, then hands the slot on (see slot::turn).
void finish(slot& s, std::uint64_t index, clock_type::time_point started) {
    auto& r = *s.run;
    r.latency_ns[index] =
        std::chrono::duration_cast<std::chrono::nanoseconds>(clock_type::now() - started).count();
    if (r.completed.fetch_add(1, std::memory_order_acq_rel) + 1 == r.requests) {
        std::lock_guard lock(r.mutex);
        r.finished.notify_all();
    }
    if (s.turn.fetch_add(1, std::memory_order_acq_rel) == 1) {
        pump(s); // the issuer already returned: continue from here
    }
}

/// Starts request `index` on the slot's target; `finish` runs exactly once when it is over.
void issue(slot& s, std::uint64_t index) {
    auto& r = *s.run;
    const auto started = clock_type::now();
    auto* sp = &s;
    switch (r.op) {
    case op_kind::incrby:
        s.to->counters->incrby(r.key, 1, [sp, index, started](core::result<std::int64_t> v) {
            if (!v) {
                report_error(*sp->run, v.err());
            }
            finish(*sp, index, started);
        });
        return;
    case op_kind::zincrby:
        s.to->sorted_sets->increment(r.key, r.member, 1,
                                     [sp, index, started](core::result<std::int64_t> v) {
                                         if (!v) {
                                             report_error(*sp->run, v.err());
                                         }
                                         finish(*sp, index, started);
                                     });
        return;
    case op_kind::reserve:
        s.to->inventory->reserve(
            r.key, 1, r.hold, [sp, index, started](core::result<std::optional<std::string>> hold) {
                if (!hold) {
                    report_error(*sp->run, hold.err());
                    finish(*sp, index, started);
                    return;
                }
                if (!*hold) {
                    finish(*sp, index, started); // sold out: an answer, not an error
                    return;
                }
                sp->to->inventory->confirm(
                    sp->run->key, std::move(**hold), [sp, index, started](core::result<bool> ok) {
                        if (!ok) {
                            report_error(*sp->run, ok.err());
                        } else if (*ok) {
                            sp->run->sold.fetch_add(1, std::memory_order_relaxed);
                        } else {
                            // Confirmed long before --hold-ms: a lost hold is a fault.
                            report_error(*sp->run, core::make_error("confirm: hold not found"));
                        }
                        finish(*sp, index, started);
                    });
            });
        return;
    }
}

/// Issues requests on the slot until one does not complete before its call returns, or none
/// are left to claim.
void pump(slot& s) {
    auto& r = *s.run;
    for (;;) {
        const auto index = r.next.fetch_add(1, std::memory_order_relaxed);
        if (index >= r.requests) {
            return;
        }
        s.turn.store(0, std::memory_order_relaxed);
        issue(s, index);
        if (s.turn.fetch_add(1, std::memory_order_acq_rel) == 0) {
            return; // still in flight: its completion continues the slot
        }
    }
}

/// Waits for a completion-style call (setup and read-back, not the measured calls).
template <typename T, typename Call>
core::result<T> wait_for(Call&& call, std::chrono::seconds limit = std::chrono::seconds(10)) {
    struct waiter {
        std::mutex mutex;
        std::condition_variable cv;
        std::optional<core::result<T>> value;
    };
    // Shared: on a timeout the completion may still come after this function has returned.
    auto w = std::make_shared<waiter>();
    call([w](core::result<T> v) {
        std::lock_guard lock(w->mutex);
        w->value.emplace(std::move(v));
        w->cv.notify_all();
    });
    std::unique_lock lock(w->mutex);
    if (!w->cv.wait_for(lock, limit, [&] { return w->value.has_value(); })) {
        return core::make_error("timed out");
    }
    return std::move(*w->value);
}

core::result<std::vector<target>> make_targets(const options& o, const core::clock& clock) {
    std::vector<target> out;
    if (o.backend == "embedded") {
        target t;
        t.counters = std::make_unique<state::embedded::memory_counters>();
        t.sorted_sets = std::make_unique<state::embedded::memory_sorted_sets>();
        t.inventory = std::make_unique<state::embedded::memory_inventory>(clock);
        out.push_back(std::move(t));
        return out;
    }
    auto urls = state::redis::parse_redis_urls(o.redis);
    if (!urls) {
        return urls.err();
    }
    for (std::uint32_t i = 0; i < o.connections; ++i) {
        auto c = state::redis::client::connect(*urls);
        if (!c) {
            return c.err().wrap("--redis");
        }
        target t;
        t.client = *c;
        t.counters = std::make_unique<state::redis::redis_counters>(t.client);
        t.sorted_sets = std::make_unique<state::redis::redis_sorted_sets>(t.client);
        t.inventory = std::make_unique<state::redis::redis_inventory>(t.client);
        out.push_back(std::move(t));
    }
    return out;
}

double percentile_ms(std::vector<std::int64_t>& v, double q) {
    if (v.empty()) {
        return 0;
    }
    const auto at =
        std::min(v.size() - 1, static_cast<std::size_t>(q * static_cast<double>(v.size())));
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(at), v.end());
    return static_cast<double>(v[at]) / 1e6;
}

std::int64_t unix_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

/// --ready-file / --go-file: says "connected and set up" by creating the ready file, then waits
/// for the go file, so that a test can start several processes' load at the same moment
/// (process start-up and connecting take longer than a short run).
std::optional<core::error> rendezvous(const options& o) {
    namespace fs = std::filesystem;
    if (!o.ready_file.empty()) {
        // Written under another name and renamed: whoever polls for it never sees it half-made.
        const auto tmp = std::string(o.ready_file).append(".tmp");
        if (std::FILE* f = std::fopen(tmp.c_str(), "w")) {
            std::fclose(f);
        }
        std::error_code ec;
        fs::rename(tmp, o.ready_file, ec);
        if (ec) {
            return core::make_error(fmt::format("--ready-file {}: {}", o.ready_file, ec.message()));
        }
    }
    if (o.go_file.empty()) {
        return std::nullopt;
    }
    const auto deadline = clock_type::now() + std::chrono::duration<double>(o.timeout_s);
    while (!fs::exists(o.go_file)) {
        if (clock_type::now() > deadline) {
            return core::make_error(fmt::format("--go-file {} did not appear", o.go_file));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return std::nullopt;
}

int run(const options& o) {
    const core::system_clock clock;
    auto targets = make_targets(o, clock);
    if (!targets) {
        fmt::print(stderr, "state_bench: {}\n", targets.err().message);
        return 2;
    }
    auto& first = targets->front();

    auto r = std::make_shared<run_state>();
    r->op = o.op == "incrby" ? op_kind::incrby
                             : (o.op == "zincrby" ? op_kind::zincrby : op_kind::reserve);
    r->requests = o.requests;
    r->key = o.key;
    r->member = o.member;
    r->hold = std::chrono::milliseconds(o.hold_ms);
    r->latency_ns.assign(o.requests, 0);

    if (r->op == op_kind::reserve && o.stock) {
        auto set = wait_for<std::int64_t>(
            [&](auto done) { first.inventory->set_stock(o.key, *o.stock, std::move(done)); });
        if (!set) {
            fmt::print(stderr, "state_bench: set_stock: {}\n", set.err().message);
            return 2;
        }
    }

    // Slots are spread over the targets (connections) round-robin and started from --threads
    // threads; with the embedded backend those threads are the concurrent callers.
    const std::size_t slot_count = static_cast<std::size_t>(o.clients) * o.pipeline;
    std::vector<std::unique_ptr<slot>> slots;
    slots.reserve(slot_count);
    for (std::size_t i = 0; i < slot_count; ++i) {
        auto s = std::make_unique<slot>();
        s->run = r;
        s->to = &(*targets)[(i / o.pipeline) % targets->size()];
        slots.push_back(std::move(s));
    }

    if (!o.ready_file.empty() || !o.go_file.empty()) {
        if (auto e = rendezvous(o)) {
            fmt::print(stderr, "state_bench: {}\n", e->message);
            return 2;
        }
    }

    const auto start_unix_ms = unix_ms();
    const auto started = clock_type::now();
    {
        std::vector<std::thread> starters;
        const auto threads = std::max<std::uint32_t>(1, o.threads);
        for (std::uint32_t t = 0; t < threads; ++t) {
            starters.emplace_back([&, t] {
                for (std::size_t i = t; i < slot_count; i += threads) {
                    pump(*slots[i]);
                }
            });
        }
        for (auto& t : starters) {
            t.join();
        }
    }
    bool complete = false;
    {
        std::unique_lock lock(r->mutex);
        complete = r->finished.wait_for(lock, std::chrono::duration<double>(o.timeout_s), [&] {
            return r->completed.load(std::memory_order_acquire) == r->requests;
        });
    }
    const double seconds = std::chrono::duration<double>(clock_type::now() - started).count();
    const auto end_unix_ms = unix_ms();
    const auto done = r->completed.load();
    const auto errors = r->errors.load();

    nlohmann::json out;
    out["op"] = o.op;
    out["backend"] = o.backend;
    out["requests"] = o.requests;
    out["clients"] = o.clients;
    out["pipeline"] = o.pipeline;
    out["ok"] = done - errors;
    out["errors"] = errors + (o.requests - done); // unfinished calls count as errors
    out["seconds"] = seconds;
    out["start_unix_ms"] = start_unix_ms;
    out["end_unix_ms"] = end_unix_ms;
    out["ops_per_s"] = seconds > 0 ? static_cast<double>(done) / seconds : 0.0;
    if (complete) {
        out["p50_ms"] = percentile_ms(r->latency_ns, 0.50);
        out["p99_ms"] = percentile_ms(r->latency_ns, 0.99);
    } else {
        // Latency slots of unfinished calls may still be written: leave them alone.
        out["p50_ms"] = nullptr;
        out["p99_ms"] = nullptr;
        fmt::print(stderr, "state_bench: {} of {} calls unfinished after {} s\n", o.requests - done,
                   o.requests, o.timeout_s);
    }
    if (r->op == op_kind::reserve) {
        out["sold"] = r->sold.load();
        auto left = wait_for<std::int64_t>(
            [&](auto cb) { first.inventory->available(o.key, std::move(cb)); });
        out["available"] = left ? nlohmann::json(*left) : nlohmann::json(nullptr);
    }
    fmt::print("{}\n", out.dump());
    std::fflush(stdout);
    if (!complete) {
        // Completions may still arrive and touch the targets: do not tear them down.
        std::_Exit(1);
    }
    // The call that completed last may still be returning through its slot on a client's
    // thread: stop the clients (joining their threads) before the slots go.
    targets->clear();
    return errors == 0 ? 0 : 1;
}

} // namespace
} // namespace livehouse::bench

int main(int argc, char** argv) {
    livehouse::bench::options o;
    CLI::App cli{"livehouse_state_bench: pipelined load on one shared-state operation",
                 "livehouse_state_bench"};
    cli.add_option("--backend", o.backend, "embedded|redis")
        ->check(CLI::IsMember({"embedded", "redis"}))
        ->capture_default_str();
    cli.add_option("--redis", o.redis, "redis://[:password@]host:port[,host:port...]")
        ->capture_default_str();
    cli.add_option("--op", o.op, "incrby|zincrby|reserve (reserve 1 + confirm)")
        ->check(CLI::IsMember({"incrby", "zincrby", "reserve"}))
        ->capture_default_str();
    cli.add_option("--requests,-n", o.requests, "Requests in all")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    cli.add_option("--pipeline,-P", o.pipeline, "Calls in flight per client")
        ->check(CLI::Range(1U, 100000U))
        ->capture_default_str();
    cli.add_option("--clients,-c", o.clients, "Independent pipelines")
        ->check(CLI::Range(1U, 100000U))
        ->capture_default_str();
    cli.add_option("--connections", o.connections,
                   "Redis clients (one connection per node and one thread each)")
        ->check(CLI::Range(1U, 64U))
        ->capture_default_str();
    cli.add_option("--threads", o.threads,
                   "Threads that start the pipelines (embedded: the concurrent callers)")
        ->check(CLI::Range(1U, 256U))
        ->capture_default_str();
    cli.add_option("--key", o.key, "Counter, sorted set or inventory key")->capture_default_str();
    cli.add_option("--member", o.member, "Sorted-set member (zincrby)")->capture_default_str();
    cli.add_option("--stock", o.stock, "reserve: set the inventory's stock first (else as is)");
    cli.add_option("--hold-ms", o.hold_ms, "reserve: hold time before confirm")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    cli.add_option("--timeout-s", o.timeout_s, "Give up (exit 1) after this long")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    cli.add_option("--ready-file", o.ready_file, "Create this file once connected and set up");
    cli.add_option("--go-file", o.go_file, "Then wait for this file to exist before the load");
    try {
        cli.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int code = cli.exit(e);
        return code == 0 ? 0 : 2;
    }
    if (o.backend == "embedded" && o.connections != 1) {
        fmt::print(stderr, "state_bench: --connections is for --backend redis\n");
        return 2;
    }
    return livehouse::bench::run(o);
}
