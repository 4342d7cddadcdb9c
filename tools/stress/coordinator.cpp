// The coordinator (see coordinator.hpp).
#include "stress/coordinator.hpp"

#include "codec/http/url.hpp"
#include "stress/line_channel.hpp"
#include "stress/stats_codec.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <fmt/format.h>
#include <memory>
#include <mutex>
#include <thread>

namespace livehouse::stress {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using clock_type = std::chrono::steady_clock;
using nlohmann::json;

namespace {

constexpr auto connect_timeout = std::chrono::seconds(5);
constexpr auto answer_timeout = std::chrono::seconds(10);
/// After the scenario's length: how long workers have to finish (their requests time out in
/// 10 s, then drain) and send their statistics.
constexpr auto finish_grace = std::chrono::seconds(40);

/// The scenario's length: its longest track (a phase with `start` begins one).
clock_type::duration scenario_length(const scenario& sc) {
    duration longest{0};
    duration track_end{0};
    for (const auto& ph : sc.phases) {
        if (ph.start) {
            track_end = *ph.start;
        }
        track_end += ph.length;
        longest = std::max(longest, track_end);
    }
    return std::chrono::duration_cast<clock_type::duration>(longest);
}

struct remote {
    std::string address;
    std::unique_ptr<line_channel> channel;
    std::thread reader;
    std::optional<run_stats> stats;
    std::string lost;   ///< why it did not deliver its statistics
    live_counters last; ///< its latest progress line
};

/// A worker's progress line says its totals: the live counters get the change since its last.
template <class Atomic>
void add_progress(const json& p, const char* key, Atomic& last, Atomic& total) {
    using value = typename Atomic::value_type;
    const auto it = p.find(key);
    if (it == p.end() || !it->is_number_integer()) {
        return;
    }
    const auto now = it->get<value>();
    total.fetch_add(now - last.load()); // modular for the unsigned counters: exact
    last.store(now);
}

core::result<tcp::socket> connect(asio::io_context& ioc, const std::string& address) {
    auto where = codec::http::parse_host_port(address);
    if (!where) {
        return where.err().wrap(fmt::format("worker {}", address));
    }
    tcp::resolver resolver(ioc);
    boost::system::error_code ec;
    const auto endpoints = resolver.resolve(where->host, fmt::format("{}", where->port), ec);
    if (ec) {
        return core::make_error(fmt::format("worker {}: {}", address, ec.message()));
    }
    tcp::socket socket(ioc);
    boost::system::error_code result = asio::error::timed_out;
    asio::async_connect(socket, endpoints,
                        [&](boost::system::error_code e, const tcp::endpoint&) { result = e; });
    ioc.restart();
    ioc.run_for(connect_timeout);
    if (result) {
        return core::make_error(
            fmt::format("worker {}: cannot connect: {}", address, result.message()));
    }
    return socket;
}

} // namespace

core::result<run_stats> run_on_workers(const scenario& sc, const coordinator_options& options,
                                       const run_options& ro) {
    if (options.workers.empty()) {
        return core::make_error("no workers");
    }
    asio::io_context ioc;
    std::vector<std::unique_ptr<remote>> remotes;
    for (const auto& address : options.workers) {
        auto socket = connect(ioc, address);
        if (!socket) {
            return socket.err();
        }
        auto r = std::make_unique<remote>();
        r->address = address;
        r->channel = std::make_unique<line_channel>(std::move(*socket));
        remotes.push_back(std::move(r));
    }
    // Every worker starts at `start`: each job says how far away that is when it is sent.
    const auto start = ro.start.value_or(clock_type::now() + std::chrono::milliseconds(500));
    json sets = json::array();
    for (const auto& [k, v] : options.sets) {
        sets.push_back(json::array({k, v}));
    }
    for (std::size_t i = 0; i < remotes.size(); ++i) {
        auto& r = *remotes[i];
        const auto in =
            std::chrono::duration_cast<std::chrono::milliseconds>(start - clock_type::now());
        json job = {{"scenario", options.scenario_text},
                    {"file", options.scenario_file},
                    {"sets", sets},
                    {"share_index", i},
                    {"share_count", remotes.size()},
                    {"threads", options.threads},
                    {"start_in_ms", std::max<std::int64_t>(0, in.count())}};
        if (!options.token.empty()) {
            job["token"] = options.token;
        }
        if (auto s = r.channel->send(json{{"job", job}}); !s) {
            return s.err().wrap(fmt::format("worker {}", r.address));
        }
        auto answer = r.channel->receive(answer_timeout);
        if (!answer) {
            return answer.err().wrap(fmt::format("worker {}", r.address));
        }
        if (const auto e = answer->find("error"); e != answer->end() && e->is_string()) {
            return core::make_error(
                fmt::format("worker {} refused the job: {}", r.address, e->get<std::string>()));
        }
        if (answer->value("accepted", false) != true) {
            return core::make_error(fmt::format("worker {}: no acceptance", r.address));
        }
    }
    if (clock_type::now() >= start) {
        // The jobs took longer to hand out than the lead time: the shares did not start
        // together. Said, and the run goes on (each worker started at once).
        fmt::print(stderr, "livehouse stress: the workers' start was late by {} ms\n",
                   std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - start)
                       .count());
    }

    std::mutex mu; // guards each remote's stats / lost, and the live counters' deltas
    live_counters unused;
    auto* live = ro.live != nullptr ? ro.live : &unused;
    for (auto& rp : remotes) {
        auto* r = rp.get();
        r->reader = std::thread([r, &mu, live] {
            for (;;) {
                auto msg = r->channel->receive();
                std::lock_guard lock(mu);
                if (!msg) {
                    r->lost = msg.err().message;
                    return;
                }
                if (const auto p = msg->find("progress"); p != msg->end() && p->is_object()) {
                    add_progress(*p, "requests", r->last.requests, live->requests);
                    add_progress(*p, "failed", r->last.failed, live->failed);
                    add_progress(*p, "dropped", r->last.dropped, live->dropped);
                    add_progress(*p, "connections", r->last.open_connections,
                                 live->open_connections);
                    continue;
                }
                if (const auto s = msg->find("stats"); s != msg->end()) {
                    auto stats = stats_from_json(*s);
                    if (!stats) {
                        r->lost = stats.err().message;
                    } else {
                        r->stats = std::move(*stats);
                    }
                    return;
                }
                const auto e = msg->find("error");
                r->lost = e != msg->end() && e->is_string() ? e->get<std::string>()
                                                            : std::string("unexpected message");
                return;
            }
        });
    }

    // The coordinating thread: the once-a-second tick, and the deadline.
    const auto deadline = start + scenario_length(sc) + finish_grace;
    const auto all_done = [&] {
        std::lock_guard lock(mu);
        for (const auto& r : remotes) {
            if (!r->stats && r->lost.empty()) {
                return false;
            }
        }
        return true;
    };
    auto tick = start + std::chrono::seconds(1);
    while (!all_done()) {
        if (clock_type::now() >= deadline) {
            std::lock_guard lock(mu);
            for (auto& r : remotes) {
                if (!r->stats && r->lost.empty()) {
                    r->lost = "no statistics before the deadline";
                    r->channel->abort();
                }
            }
            break;
        }
        std::this_thread::sleep_until(
            std::min(tick, clock_type::now() + std::chrono::milliseconds(50)));
        if (clock_type::now() >= tick) {
            if (ro.on_second) {
                ro.on_second(std::chrono::duration<double>(clock_type::now() - start).count());
            }
            tick += std::chrono::seconds(1);
        }
    }
    run_stats out;
    for (auto& r : remotes) {
        r->reader.join();
        if (r->stats) {
            out.merge(*r->stats);
        } else {
            // A lost share: the run is not whole, and the verdict must not pass on it.
            fmt::print(stderr, "livehouse stress: worker {} lost: {}\n", r->address, r->lost);
            auto& w = out.steps["worker"];
            ++w.requests;
            ++w.failed;
            ++w.statuses[0];
            ++w.errors[r->lost.starts_with("no statistics") ? "timeout" : "lost"];
        }
    }
    return out;
}

} // namespace livehouse::stress
