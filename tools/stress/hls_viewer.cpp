// hls_viewers (see hls_viewer.hpp).
#include "stress/hls_viewer.hpp"

#include "codec/hls/playlist_reader.hpp"

#include <algorithm>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <deque>
#include <optional>

namespace livehouse::stress {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using clock_type = std::chrono::steady_clock;

namespace {
constexpr std::size_t scratch_bytes = 64 * 1024;
constexpr std::size_t read_buffer_bytes = 16 * 1024;
constexpr auto request_timeout = std::chrono::seconds(10);
constexpr auto retry_after = std::chrono::milliseconds(500);
/// hls.js's liveSyncDurationCount: a new viewer starts this many segments from the live edge.
constexpr std::size_t live_sync_segments = 3;

double seconds_between(clock_type::time_point a, clock_type::time_point b) {
    return std::chrono::duration<double>(b - a).count();
}
} // namespace

struct hls_viewers::viewer {
    explicit viewer(asio::io_context& ioc) : stream(ioc), timer(ioc) {
        buffer.reserve(read_buffer_bytes);
    }
    beast::tcp_stream stream;
    beast::flat_buffer buffer;
    asio::steady_timer timer;
    http::request<http::empty_body> req;
    std::optional<http::response_parser<http::string_body>> playlist;
    std::optional<http::response_parser<http::buffer_body>> segment;
    bool connected = false;
    bool stopped = false;
    bool playing = false;
    bool have_edge = false;
    bool ended = false;                               ///< the playlist said EXT-X-ENDLIST
    std::deque<std::pair<std::string, double>> queue; ///< segment URI, duration
    std::uint64_t next_seq = 0;
    int target_s = 2;
    clock_type::time_point joined;
    clock_type::time_point play_start;
    clock_type::time_point next_reload;
    clock_type::time_point due; ///< when the request in flight was due
    double buffered_s = 0;      ///< media seconds downloaded since playback started
    double stalled_s = 0;       ///< seconds spent stalled
    std::uint64_t seg_bytes = 0;
    double seg_duration = 0;
};

hls_viewers::hls_viewers(asio::io_context& ioc, recorder& rec, tcp::endpoint target,
                         hls_viewers_options options)
    : ioc_(ioc), rec_(rec), target_(target), options_(std::move(options)),
      base_(options_.playlist.substr(0, options_.playlist.rfind('/') + 1)),
      scratch_(std::make_unique_for_overwrite<char[]>(scratch_bytes)),
      joins_(ioc, options_.share, [this](std::size_t i) { join(i); }) {}

hls_viewers::~hls_viewers() = default;

void hls_viewers::start() {
    joins_.start();
}

void hls_viewers::join(std::size_t) {
    const auto now = clock_type::now();
    auto v = std::make_shared<viewer>(ioc_);
    v->joined = now;
    v->next_reload = now;
    ++rec_.stats().viewers.joined;
    load_playlist(v);
}

std::string hls_viewers::resolve(std::string_view uri) const {
    if (uri.starts_with("http://") || uri.starts_with("https://")) {
        const auto slash = uri.find('/', uri.find("//") + 2);
        return slash == std::string_view::npos ? std::string("/") : std::string(uri.substr(slash));
    }
    if (uri.starts_with('/')) {
        return std::string(uri);
    }
    return base_ + std::string(uri);
}

void hls_viewers::request(const std::shared_ptr<viewer>& v, const std::string& target,
                          std::function<void()> on_written) {
    if (!v->connected) {
        v->stream.expires_after(request_timeout);
        v->stream.async_connect(target_, [this, v, target, on_written = std::move(on_written)](
                                             beast::error_code ec) mutable {
            if (ec) {
                broken(v, v->playlist ? "playlist" : "segment",
                       ec == beast::error::timeout ? "timeout" : "connect");
                return;
            }
            v->connected = true;
            rec_.connections(1);
            beast::error_code ignored;
            v->stream.socket().set_option(tcp::no_delay(true), ignored);
            request(v, target, std::move(on_written));
        });
        return;
    }
    v->req = {};
    v->req.method(http::verb::get);
    v->req.target(target);
    v->req.version(11);
    v->req.set(http::field::host, options_.host_header);
    v->stream.expires_after(request_timeout);
    http::async_write(
        v->stream, v->req,
        [this, v, on_written = std::move(on_written)](beast::error_code ec, std::size_t) {
            if (ec) {
                broken(v, v->segment ? "segment" : "playlist",
                       ec == beast::error::timeout ? "timeout" : "write");
                return;
            }
            on_written();
        });
}

void hls_viewers::load_playlist(const std::shared_ptr<viewer>& v) {
    v->due = std::max(v->next_reload, v->joined);
    v->segment.reset();
    v->playlist.emplace();
    request(v, options_.playlist, [this, v] {
        v->playlist->body_limit(1024 * 1024);
        http::async_read(
            v->stream, v->buffer, *v->playlist, [this, v](beast::error_code ec, std::size_t) {
                if (ec) {
                    broken(v, "playlist", ec == beast::error::timeout ? "timeout" : "read");
                    return;
                }
                on_playlist(v);
            });
    });
}

void hls_viewers::on_playlist(const std::shared_ptr<viewer>& v) {
    const auto now = clock_type::now();
    const auto& msg = v->playlist->get();
    const int status = static_cast<int>(msg.result_int());
    bool added = false;
    std::string_view error;
    if (status != 200) {
        error = "status";
    } else if (auto p = codec::hls::parse_media_playlist(msg.body())) {
        v->target_s = std::max(1, p->target_duration_s);
        if (!v->have_edge && !p->segments.empty()) {
            const auto n = p->segments.size();
            v->next_seq = p->segments[n > live_sync_segments ? n - live_sync_segments : 0].sequence;
            v->have_edge = true;
        }
        for (const auto& s : p->segments) {
            if (v->have_edge && s.sequence >= v->next_seq) {
                v->queue.emplace_back(s.uri, s.duration_s);
                v->next_seq = s.sequence + 1;
                added = true;
            }
        }
        v->ended = p->ended;
    } else {
        error = "parse";
    }
    rec_.request("playlist", v->due, now, status, error);
    const bool keep = msg.keep_alive();
    v->playlist.reset();
    if (!keep) {
        beast::error_code ignored;
        v->stream.socket().close(ignored);
        v->connected = false;
        rec_.connections(-1);
    }
    // RFC 8216 §6.3.4: reload after the target duration when the playlist changed, after half
    // of it when it did not; after an error, a player retries soon.
    const auto target = std::chrono::milliseconds(1000 * v->target_s);
    v->next_reload = !error.empty() ? now + std::chrono::seconds(1)
                     : v->ended     ? options_.share.end
                     : added        ? now + target
                                    : now + target / 2;
    next(v);
}

void hls_viewers::next(const std::shared_ptr<viewer>& v) {
    const auto now = clock_type::now();
    if (v->stopped || now >= options_.share.end) {
        stop(v);
        return;
    }
    if (now >= v->next_reload && !v->ended) {
        load_playlist(v);
        return;
    }
    if (!v->queue.empty()) {
        load_segment(v);
        return;
    }
    v->timer.expires_at(std::min(v->next_reload, options_.share.end));
    v->timer.async_wait([this, v](beast::error_code) { next(v); });
}

void hls_viewers::load_segment(const std::shared_ptr<viewer>& v) {
    auto [uri, seconds] = std::move(v->queue.front());
    v->queue.pop_front();
    v->due = clock_type::now();
    v->seg_bytes = 0;
    v->seg_duration = seconds;
    v->playlist.reset();
    v->segment.emplace();
    request(v, resolve(uri), [this, v] {
        v->segment->body_limit(256 * 1024 * 1024);
        http::async_read_header(
            v->stream, v->buffer, *v->segment, [this, v](beast::error_code ec, std::size_t) {
                if (ec) {
                    broken(v, "segment", ec == beast::error::timeout ? "timeout" : "read");
                    return;
                }
                read_segment(v);
            });
    });
}

void hls_viewers::read_segment(const std::shared_ptr<viewer>& v) {
    if (v->segment->is_done()) {
        on_segment_done(v);
        return;
    }
    auto& body = v->segment->get().body();
    body.data = scratch_.get(); // one buffer per loop: the bytes are counted, not kept
    body.size = scratch_bytes;
    body.more = true;
    v->stream.expires_after(request_timeout);
    http::async_read_some(
        v->stream, v->buffer, *v->segment, [this, v](beast::error_code ec, std::size_t) {
            if (ec == http::error::need_buffer) {
                ec = {};
            }
            v->seg_bytes += scratch_bytes - v->segment->get().body().size;
            if (ec) {
                broken(v, "segment", ec == beast::error::timeout ? "timeout" : "read");
                return;
            }
            read_segment(v);
        });
}

void hls_viewers::on_segment_done(const std::shared_ptr<viewer>& v) {
    const auto now = clock_type::now();
    const auto& msg = v->segment->get();
    const int status = static_cast<int>(msg.result_int());
    const bool ok = status == 200;
    rec_.request("segment", v->due, now, status, ok ? "" : "status");
    auto& vs = rec_.stats().viewers;
    if (ok) {
        ++vs.segments;
        vs.bytes += v->seg_bytes;
        if (!v->playing) {
            v->playing = true;
            v->play_start = now;
            v->buffered_s = v->seg_duration;
            ++vs.started;
            vs.startup.record(recorder::micros_between(v->joined, now));
        } else {
            const double playhead = seconds_between(v->play_start, now) - v->stalled_s;
            if (playhead > v->buffered_s) {
                // The player ran dry at buffered_s and waited until now.
                const double stall = playhead - v->buffered_s;
                ++vs.stalls;
                vs.stall_time.record(static_cast<std::uint64_t>(stall * 1e6));
                v->stalled_s += stall;
            }
            v->buffered_s += v->seg_duration;
        }
    }
    const bool keep = msg.keep_alive();
    v->segment.reset();
    if (!keep) {
        beast::error_code ignored;
        v->stream.socket().close(ignored);
        v->connected = false;
        rec_.connections(-1);
    }
    next(v);
}

void hls_viewers::broken(const std::shared_ptr<viewer>& v, std::string_view step,
                         std::string_view kind) {
    rec_.request(std::string(step), v->due, clock_type::now(), 0, kind);
    if (v->connected) {
        rec_.connections(-1);
    }
    beast::error_code ignored;
    v->stream.socket().close(ignored);
    v->connected = false;
    v->playlist.reset();
    v->segment.reset();
    v->buffer.consume(v->buffer.size());
    if (v->stopped) {
        return;
    }
    v->timer.expires_after(retry_after);
    v->timer.async_wait([this, v](beast::error_code) { next(v); });
}

void hls_viewers::stop(const std::shared_ptr<viewer>& v) {
    if (v->stopped) {
        return;
    }
    v->stopped = true;
    if (v->playing) {
        // Stalled when the run ended: counted too (with a quarter second of slack for the
        // request that was about to complete).
        const double playhead = seconds_between(v->play_start, options_.share.end) - v->stalled_s;
        if (playhead > v->buffered_s + 0.25) {
            auto& vs = rec_.stats().viewers;
            ++vs.stalls;
            vs.stall_time.record(static_cast<std::uint64_t>((playhead - v->buffered_s) * 1e6));
        }
    }
    if (v->connected) {
        rec_.connections(-1);
        v->connected = false;
    }
    beast::error_code ignored;
    v->stream.socket().close(ignored);
    v->timer.cancel();
}

} // namespace livehouse::stress
