// `livehouse stress --worker` (see worker.hpp).
#include "stress/worker.hpp"

#include "codec/http/url.hpp"
#include "stress/line_channel.hpp"
#include "stress/load_run.hpp"
#include "stress/scenario.hpp"
#include "stress/stats_codec.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <fmt/format.h>
#include <openssl/crypto.h>

namespace livehouse::stress {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using nlohmann::json;

namespace {

constexpr std::size_t max_threads = 256;

bool same_token(const std::string& a, const std::string& b) {
    return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

/// One job from `ch`: checked, run, reported. Errors go back to the coordinator.
void serve_job(line_channel& ch, const worker_options& options) {
    const auto refuse = [&](const std::string& why) {
        fmt::print(stderr, "livehouse stress --worker: job refused: {}\n", why);
        (void)ch.send(json{{"error", why}});
    };
    // A connection that sends no job in 10 s is not a coordinator: the worker moves on.
    auto msg = ch.receive(std::chrono::seconds(10));
    if (!msg) {
        return;
    }
    const auto jit = msg->find("job");
    if (!msg->is_object() || jit == msg->end() || !jit->is_object()) {
        refuse("expected {\"job\": {...}}");
        return;
    }
    const json& job = *jit;
    const auto text = [&](const char* k) {
        const auto it = job.find(k);
        return it != job.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    const auto count = [&](const char* k) -> std::optional<std::uint64_t> {
        const auto it = job.find(k);
        return it != job.end() && it->is_number_unsigned() ? std::optional(it->get<std::uint64_t>())
                                                           : std::nullopt;
    };
    if (!options.token.empty() && !same_token(text("token"), options.token)) {
        refuse("wrong or missing token");
        return;
    }
    const auto index = count("share_index");
    const auto shares = count("share_count");
    const auto threads = count("threads");
    const auto start_in = count("start_in_ms");
    if (!index || !shares || !threads || !start_in || *shares == 0 || *index >= *shares ||
        *shares > 4096 || *threads == 0 || *threads > max_threads || *start_in > 60000) {
        refuse("job: share_index < share_count <= 4096, threads 1..256, start_in_ms <= 60000");
        return;
    }
    std::vector<std::pair<std::string, std::string>> sets;
    if (const auto it = job.find("sets"); it != job.end()) {
        if (!it->is_array()) {
            refuse("job.sets: expected [[name, value], ...]");
            return;
        }
        for (const auto& p : *it) {
            if (!p.is_array() || p.size() != 2 || !p[0].is_string() || !p[1].is_string()) {
                refuse("job.sets: expected [[name, value], ...]");
                return;
            }
            sets.emplace_back(p[0].get<std::string>(), p[1].get<std::string>());
        }
    }
    auto sc = parse_scenario(text("scenario"), text("file"), sets);
    if (!sc) {
        refuse(sc.err().message);
        return;
    }
    if (auto r = ch.send(json{{"accepted", true}}); !r) {
        return;
    }
    fmt::print(stderr,
               "livehouse stress --worker: running \"{}\" (share {} of {}, {} thread(s)) -> "
               "{}:{}\n",
               sc->name, *index + 1, *shares, *threads, sc->target_host, sc->target_port);
    live_counters live;
    run_options ro;
    ro.threads = *threads;
    ro.share_index = *index;
    ro.share_count = *shares;
    ro.live = &live;
    ro.start = std::chrono::steady_clock::now() + std::chrono::milliseconds(*start_in);
    bool connected = true;
    ro.on_second = [&](double) {
        if (connected) {
            connected = ch.send(json{{"progress",
                                      {{"requests", live.requests.load()},
                                       {"failed", live.failed.load()},
                                       {"dropped", live.dropped.load()},
                                       {"connections", live.open_connections.load()}}}})
                            .has_value();
        }
    };
    const auto stats = run_scenario(*sc, ro);
    if (connected) {
        (void)ch.send(json{{"stats", stats_to_json(stats)}});
    }
    fmt::print(stderr, "livehouse stress --worker: done ({} requests)\n", stats.total().requests);
}

} // namespace

int run_stress_worker(const worker_options& options) {
    auto where = codec::http::parse_host_port(options.listen, std::nullopt, true);
    asio::io_context ioc;
    boost::system::error_code ec;
    const auto address = where ? asio::ip::make_address(where->host, ec) : asio::ip::address{};
    if (!where || ec) {
        fmt::print(stderr, "livehouse stress --worker: --listen {}: expected IP:PORT{}\n",
                   options.listen, where ? "" : fmt::format(" ({})", where.err().message));
        return 2;
    }
    const unsigned port = where->port;
    tcp::acceptor acceptor(ioc);
    const tcp::endpoint ep(address, static_cast<std::uint16_t>(port));
    acceptor.open(ep.protocol(), ec);
    if (!ec) {
        acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
        acceptor.bind(ep, ec);
    }
    if (!ec) {
        acceptor.listen(asio::socket_base::max_listen_connections, ec);
    }
    if (ec) {
        fmt::print(stderr, "livehouse stress --worker: cannot listen on {}: {}\n", options.listen,
                   ec.message());
        return 2;
    }
    const auto bound = acceptor.local_endpoint();
    // The line tests and scripts wait for (the port, when --listen asked for port 0).
    fmt::print(stderr, "livehouse stress --worker: listening on {}:{}{}\n",
               bound.address().to_string(), bound.port(),
               options.token.empty() ? "" : " (jobs need the token)");
    for (;;) {
        tcp::socket socket(ioc);
        acceptor.accept(socket, ec);
        if (ec) {
            continue;
        }
        line_channel ch(std::move(socket));
        serve_job(ch, options);
    }
}

} // namespace livehouse::stress
