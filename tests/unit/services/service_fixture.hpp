// Test support for the HTTP services: a broadcast registry in a temp dir with a manual clock,
// a service_context over it, a router the services register on, and a way to call a route
// with a request and capture the response the handler gives its responder. No sockets.
//
// The io runner runs tasks inline unless `defer_io` is set, in which case they queue until
// run_io() (to check that file reads go through ctx.io and not the calling thread).
#pragma once

#include "core/clock.hpp"
#include "livehouse_test/temp_dir.hpp"
#include "media/broadcast.hpp"
#include "net/http_types.hpp"
#include "net/router.hpp"
#include "services/service_context.hpp"

#include <deque>
#include <filesystem>
#include <functional>
#include <gtest/gtest.h>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace livehouse::services::testing {

namespace http = net::http;

using livehouse::test::temp_dir;

/// What a call produced: the router's outcome, and the response if a handler answered.
struct call_result {
    net::route_match::outcome outcome = net::route_match::outcome::not_found;
    std::optional<net::response> response;
    int responses = 0; ///< times the responder was called (must be exactly 1)

    [[nodiscard]] const net::response& r() const { return response.value(); }
    [[nodiscard]] std::string body() const {
        if (response && response->blob) {
            return std::string(response->blob->view());
        }
        return response && response->body ? *response->body : std::string();
    }
    [[nodiscard]] std::string header(std::string_view name) const {
        for (const auto& [k, v] : r().headers) {
            if (k == name) {
                return v;
            }
        }
        return {};
    }
};

inline media::packager_config test_packager_config(const std::filesystem::path& data_dir) {
    media::packager_config c;
    c.target_segment = std::chrono::milliseconds(1000);
    c.window_segments = 3;
    c.grace_period = std::chrono::seconds(30);
    c.data_dir = data_dir.string();
    return c;
}

inline constexpr std::string_view admin_token = "s3cret-admin-token";

class service_fixture {
  public:
    service_fixture()
        : registry(test_packager_config(dir.path()), clock, runner()),
          ctx{.registry = registry,
              .clock = clock,
              .admin_token = std::string(admin_token),
              .host = "127.0.0.1",
              .http_port = 8080,
              .rtmp_port = 1935,
              .data_dir = dir.path().string(),
              .web_dir = {},
              .io = runner(),
              .user_tokens = nullptr} {}

    /// Calls the route for (method, target) as the server would: match, then the handler.
    call_result call(http::verb method, std::string_view target, std::string body = {},
                     std::vector<std::pair<http::field, std::string>> headers = {}) {
        net::request req{method, target, 11};
        for (auto& [f, v] : headers) {
            req.set(f, v);
        }
        req.body() = std::move(body);
        req.prepare_payload();
        call_result out;
        auto m = router.match(method, target);
        out.outcome = m.result;
        if (m.result != net::route_match::outcome::found) {
            return out;
        }
        // The responder may run later (deferred io): it writes into `pending_`, which
        // collect() moves into the result.
        pending_ = std::make_shared<call_result>();
        pending_->outcome = m.result;
        auto sink = pending_;
        (*m.target)(req, m.params, [sink](net::response r) {
            ++sink->responses;
            sink->response = std::move(r);
        });
        return *pending_;
    }

    call_result get(std::string_view target,
                    std::vector<std::pair<http::field, std::string>> headers = {}) {
        return call(http::verb::get, target, {}, std::move(headers));
    }
    static std::vector<std::pair<http::field, std::string>> bearer(std::string_view token) {
        return {{http::field::authorization, "Bearer " + std::string(token)}};
    }
    static std::vector<std::pair<http::field, std::string>> admin() { return bearer(admin_token); }

    /// The latest call's result as it is now (after run_io() for deferred responses).
    [[nodiscard]] call_result last() const { return pending_ ? *pending_ : call_result{}; }

    /// Runs every queued io task (and any they queue). Returns how many ran.
    int run_io() {
        int n = 0;
        while (!io_queue.empty()) {
            auto task = std::move(io_queue.front());
            io_queue.pop_front();
            task();
            ++n;
        }
        return n;
    }

    /// Feeds `b` video frames (25 fps, keyframe every second) with dts in [from_ms, to_ms],
    /// so with the 1 s target a segment closes at every whole second after the first.
    static void feed_video(media::broadcast& b, std::int64_t from_ms, std::int64_t to_ms) {
        for (std::int64_t t = from_ms; t <= to_ms; t += 40) {
            media::frame f;
            f.kind = media::track::video;
            f.dts_ms = t;
            f.keyframe = t % 1000 == 0;
            // A tiny Annex B access unit: AUD + an IDR or non-IDR slice header byte.
            f.payload = core::make_shared_bytes(
                std::string("\x00\x00\x00\x01\x09\xf0\x00\x00\x00\x01", 10) +
                (f.keyframe ? std::string("\x65\x88\x84", 3) : std::string("\x41\x9a\x02", 3)));
            b.on_frame(f);
        }
    }

    /// begin_publish (video only) and `seconds` of frames: `seconds` segments close.
    static void publish(media::broadcast& b, int seconds, std::int64_t start_ms = 0) {
        ASSERT_TRUE(b.begin_publish(media::track_set{.video = true, .audio = false}));
        feed_video(b, start_ms, start_ms + seconds * 1000LL);
    }

    temp_dir dir;
    core::manual_clock clock;
    std::deque<std::function<void()>> io_queue;
    bool defer_io = false;
    media::broadcast_registry registry;
    service_context ctx;
    net::router router;

  private:
    media::task_runner runner() {
        return [this](std::function<void()> task) {
            if (defer_io) {
                io_queue.push_back(std::move(task));
            } else {
                task();
            }
        };
    }

    std::shared_ptr<call_result> pending_;
};

} // namespace livehouse::services::testing
