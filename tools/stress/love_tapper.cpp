// love_tappers (see love_tapper.hpp).
#include "stress/love_tapper.hpp"

#include "stress/user_token.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <optional>

namespace livehouse::stress {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using clock_type = std::chrono::steady_clock;

namespace {
constexpr auto batch_every = std::chrono::seconds(2); // the watch page: every 2 s (or 50 taps)
constexpr auto request_timeout = std::chrono::seconds(10);
/// How far behind the live position a player is (hls.js: about three segments).
constexpr double behind_live_s = 3;
} // namespace

struct love_tappers::tapper {
    explicit tapper(asio::io_context& ioc) : stream(ioc), timer(ioc) {}
    beast::tcp_stream stream;
    beast::flat_buffer buffer;
    asio::steady_timer timer;
    http::request<http::string_body> req;
    std::optional<http::response_parser<http::string_body>> parser;
    bool connected = false;
    bool stopped = false;
    std::uint64_t id = 0;
    std::uint64_t batches = 0;
    std::string token;
    double position_s = 0; ///< the broadcast's media position at `position_at`
    clock_type::time_point position_at;
    clock_type::time_point last_batch;
    clock_type::time_point due;
};

love_tappers::love_tappers(asio::io_context& ioc, recorder& rec, const endpoints& targets,
                           love_tappers_options options)
    : ioc_(ioc), rec_(rec), targets_(targets), options_(std::move(options)),
      joins_(ioc, options_.share, [this](std::size_t i) { join(i); }) {}

love_tappers::~love_tappers() = default;

void love_tappers::start() {
    joins_.start();
}

void love_tappers::join(std::size_t i) {
    auto t = std::make_shared<tapper>(ioc_);
    t->id = options_.share.id(i);
    ++rec_.stats().love.tappers;
    get_token(t);
}

void love_tappers::send(const std::shared_ptr<tapper>& t, std::string step, std::string method,
                        std::string target, std::string body,
                        std::function<void(int, const std::string&)> done) {
    if (t->stopped || clock_type::now() >= options_.share.end) {
        stop(t);
        return;
    }
    if (!t->connected) {
        beast::error_code open_error;
        targets_.open(t->stream.socket(), t->id - 1, open_error);
        if (open_error) {
            rec_.request(step, t->due, clock_type::now(), 0, "connect");
            stop(t);
            return;
        }
        t->stream.expires_after(request_timeout);
        t->stream.async_connect(targets_.of(t->id - 1),
                                [this, t, step = std::move(step), method = std::move(method),
                                 target = std::move(target), body = std::move(body),
                                 done = std::move(done)](beast::error_code ec) mutable {
                                    if (ec) {
                                        rec_.request(step, t->due, clock_type::now(), 0, "connect");
                                        stop(t);
                                        return;
                                    }
                                    t->connected = true;
                                    rec_.connections(1);
                                    send(t, std::move(step), std::move(method), std::move(target),
                                         std::move(body), std::move(done));
                                });
        return;
    }
    t->req = {};
    t->req.method_string(method);
    t->req.target(target);
    t->req.version(11);
    t->req.set(http::field::host, options_.host_header);
    if (!t->token.empty()) {
        t->req.set(http::field::authorization, fmt::format("Bearer {}", t->token));
    }
    if (!body.empty()) {
        t->req.set(http::field::content_type, "application/json");
        t->req.body() = std::move(body);
    }
    t->req.prepare_payload();
    t->stream.expires_after(request_timeout);
    http::async_write(
        t->stream, t->req,
        [this, t, step, done = std::move(done)](beast::error_code ec, std::size_t) mutable {
            if (ec) {
                rec_.request(step, t->due, clock_type::now(), 0, "write");
                stop(t);
                return;
            }
            t->parser.emplace();
            t->parser->body_limit(1024 * 1024);
            http::async_read(
                t->stream, t->buffer, *t->parser,
                [this, t, step, done = std::move(done)](beast::error_code e, std::size_t) {
                    if (e) {
                        rec_.request(step, t->due, clock_type::now(), 0,
                                     e == beast::error::timeout ? "timeout" : "read");
                        stop(t);
                        return;
                    }
                    const int status = static_cast<int>(t->parser->get().result_int());
                    const auto answer = std::move(t->parser->get().body());
                    t->parser.reset();
                    done(status, answer);
                });
        });
}

void love_tappers::get_token(const std::shared_ptr<tapper>& t) {
    t->due = clock_type::now();
    if (!options_.token_secret.empty()) {
        auto token = mint_user_token(options_.token_secret, fmt::format("stress-{}", t->id),
                                     fmt::format("tapper {}", t->id));
        if (!token) {
            rec_.request("token", t->due, clock_type::now(), 0, "token");
            stop(t);
            return;
        }
        t->token = std::move(*token);
        get_status(t);
        return;
    }
    send(t, "guest", "POST", "/api/v1/auth/guest",
         nlohmann::json{{"name", fmt::format("tapper {}", t->id)}}.dump(),
         [this, t](int status, const std::string& body) {
             const auto j = nlohmann::json::parse(body, nullptr, false);
             const bool ok =
                 status == 201 && j.is_object() && j.contains("token") && j["token"].is_string();
             rec_.request("guest", t->due, clock_type::now(), status, ok ? "" : "status");
             if (!ok) {
                 stop(t);
                 return;
             }
             t->token = j["token"].get<std::string>();
             get_status(t);
         });
}

void love_tappers::get_status(const std::shared_ptr<tapper>& t) {
    t->due = clock_type::now();
    send(t, "status", "GET", fmt::format("/api/v1/broadcasts/{}/status", options_.broadcast), "",
         [this, t](int status, const std::string& body) {
             const auto j = nlohmann::json::parse(body, nullptr, false);
             const bool ok = status == 200 && j.is_object() && j.contains("position") &&
                             j["position"].is_number();
             rec_.request("status", t->due, clock_type::now(), status, ok ? "" : "status");
             if (!ok) {
                 stop(t);
                 return;
             }
             t->position_s = j["position"].get<double>();
             t->position_at = clock_type::now();
             t->last_batch = t->position_at;
             schedule_batch(t);
         });
}

void love_tappers::schedule_batch(const std::shared_ptr<tapper>& t) {
    const auto next = t->last_batch + batch_every;
    if (next >= options_.share.end) {
        stop(t);
        return;
    }
    t->timer.expires_at(next);
    t->timer.async_wait([this, t](beast::error_code ec) {
        if (!ec) {
            send_batch(t);
        }
    });
}

void love_tappers::send_batch(const std::shared_ptr<tapper>& t) {
    const auto now = clock_type::now();
    const double window = std::chrono::duration<double>(now - t->last_batch).count();
    const auto taps = std::max<std::size_t>(
        1, static_cast<std::size_t>(std::llround(options_.taps_per_second * window)));
    // The video time the viewer watched during the window, evenly spread.
    const double until =
        t->position_s + std::chrono::duration<double>(now - t->position_at).count() - behind_live_s;
    nlohmann::json list = nlohmann::json::array();
    for (std::size_t i = 0; i < taps; ++i) {
        const double at =
            until - window + window * (static_cast<double>(i) + 0.5) / static_cast<double>(taps);
        list.push_back(std::max(0.0, std::round(at * 1000) / 1000));
    }
    t->last_batch = now;
    t->due = now;
    const auto body = nlohmann::json{
        {"batch_id", fmt::format("s{}-{}", t->id, t->batches++)},
        {"taps", list}}.dump();
    send(t, "love", "POST", fmt::format("/api/v1/broadcasts/{}/love", options_.broadcast), body,
         [this, t, taps](int status, const std::string& answer) {
             const auto j = nlohmann::json::parse(answer, nullptr, false);
             const bool ok = status == 200 && j.is_object() && j.contains("accepted") &&
                             j["accepted"].is_number_unsigned();
             rec_.request("love", t->due, clock_type::now(), status, ok ? "" : "status");
             if (ok) {
                 auto& ls = rec_.stats().love;
                 ++ls.batches;
                 ls.sent += taps;
                 ls.accepted += j["accepted"].get<std::uint64_t>();
             }
             schedule_batch(t);
         });
}

void love_tappers::stop(const std::shared_ptr<tapper>& t) {
    if (t->stopped) {
        return;
    }
    t->stopped = true;
    if (t->connected) {
        rec_.connections(-1);
        t->connected = false;
    }
    beast::error_code ignored;
    t->stream.socket().close(ignored);
    t->timer.cancel();
}

} // namespace livehouse::stress
