// hls_viewers (see hls_viewer.hpp).
#include "stress/hls_viewer.hpp"

#include "codec/hls/playlist_reader.hpp"
#include "codec/http/response_reader.hpp"

#include <algorithm>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <deque>
#include <optional>

namespace livehouse::stress {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
using clock_type = std::chrono::steady_clock;

namespace {
constexpr std::size_t scratch_bytes = 64 * 1024;
constexpr auto request_timeout = std::chrono::seconds(10);
constexpr auto retry_after = std::chrono::milliseconds(500);
/// hls.js's liveSyncDurationCount: a new viewer starts this many segments from the live edge.
constexpr std::size_t live_sync_segments = 3;

double seconds_between(clock_type::time_point a, clock_type::time_point b) {
    return std::chrono::duration<double>(b - a).count();
}
} // namespace

struct hls_viewers::viewer {
    explicit viewer(asio::io_context& ioc) : sock(ioc.get_executor()), timer(ioc) {}
    asio::basic_stream_socket<tcp, asio::io_context::executor_type> sock;
    /// Between requests: the next playlist reload. During one: its deadline.
    asio::steady_timer timer;
    /// The response in flight, read from the loop's scratch buffer: fields looked at, not
    /// kept; a playlist's body captured, a segment's counted.
    codec::http::response_reader reader{{.max_head_bytes = 64 * 1024,
                                         .max_body_bytes = std::uint64_t{256} << 20,
                                         .max_capture_bytes = 1024 * 1024}};
    std::string wire;             ///< the request being written
    bool for_playlist = false;    ///< which request is in flight
    bool timed_out = false;       ///< its deadline closed the socket
    bool leftover = false;        ///< bytes after the response: the connection is not reused
    std::uint32_t request_id = 0; ///< which request a deadline belongs to
    std::uint64_t ordinal = 0;    ///< in the phase: where its connection goes (endpoints)
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
    double seg_duration = 0;
};

hls_viewers::hls_viewers(asio::io_context& ioc, recorder& rec, const endpoints& targets,
                         hls_viewers_options options)
    : ioc_(ioc), rec_(rec), targets_(targets), options_(std::move(options)),
      base_(options_.playlist.substr(0, options_.playlist.rfind('/') + 1)),
      scratch_(std::make_unique_for_overwrite<char[]>(scratch_bytes)),
      joins_(ioc, options_.share, [this](std::size_t i) { join(i); }) {}

hls_viewers::~hls_viewers() = default;

void hls_viewers::start() {
    joins_.start();
}

void hls_viewers::join(std::size_t i) {
    const auto now = clock_type::now();
    auto v = std::make_shared<viewer>(ioc_);
    v->ordinal = options_.share.ordinal(i);
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
                          bool for_playlist) {
    v->for_playlist = for_playlist;
    v->timed_out = false;
    v->reader.reset(false, for_playlist);
    v->leftover = false;
    // The deadline of the whole exchange (connect, write, the whole response).
    v->timer.expires_after(request_timeout);
    const auto id = ++v->request_id;
    v->timer.async_wait([v, id](error_code ec) {
        // A deadline already due when its response completed is queued anyway: only the
        // current request's counts.
        if (!ec && v->request_id == id) {
            v->timed_out = true;
            error_code ignored;
            v->sock.close(ignored);
        }
    });
    v->wire.clear();
    v->wire.append("GET ").append(target).append(" HTTP/1.1\r\nHost: ");
    v->wire.append(options_.host_header).append("\r\n\r\n");
    if (!v->connected) {
        error_code open_error;
        targets_.open(v->sock, v->ordinal, open_error);
        if (open_error) {
            broken(v, step_of(v), "connect");
            return;
        }
        v->sock.async_connect(targets_.of(v->ordinal), [this, v](error_code ec) {
            if (ec) {
                broken(v, step_of(v), v->timed_out ? "timeout" : "connect");
                return;
            }
            v->connected = true;
            rec_.connections(1);
            error_code ignored;
            v->sock.set_option(tcp::no_delay(true), ignored);
            v->sock.non_blocking(true, ignored);
            write(v);
        });
        return;
    }
    write(v);
}

void hls_viewers::write(const std::shared_ptr<viewer>& v) {
    asio::async_write(v->sock, asio::buffer(v->wire), [this, v](error_code ec, std::size_t) {
        if (ec) {
            broken(v, step_of(v), v->timed_out ? "timeout" : "write");
            return;
        }
        wait_read(v);
    });
}

void hls_viewers::wait_read(const std::shared_ptr<viewer>& v) {
    // Waited on, then read into the loop's scratch buffer: a viewer owns no read buffer.
    v->sock.async_wait(tcp::socket::wait_read, [this, v](error_code ec) {
        if (ec) {
            broken(v, step_of(v), v->timed_out ? "timeout" : "read");
            return;
        }
        for (;;) {
            error_code e;
            const auto n = v->sock.read_some(asio::buffer(scratch_.get(), scratch_bytes), e);
            if (e == asio::error::would_block) {
                break;
            }
            if (e == asio::error::eof) {
                v->reader.finish_at_eof();
                if (v->reader.done()) {
                    v->leftover = true; // closed: not reusable
                    on_response(v);
                } else {
                    broken(v, step_of(v), "read");
                }
                return;
            }
            if (e) {
                broken(v, step_of(v), v->timed_out ? "timeout" : "read");
                return;
            }
            const auto used = v->reader.feed({scratch_.get(), n});
            if (v->reader.failed()) {
                broken(v, step_of(v), "protocol");
                return;
            }
            if (v->reader.done()) {
                v->leftover = used < n;
                on_response(v);
                return;
            }
        }
        wait_read(v);
    });
}

void hls_viewers::on_response(const std::shared_ptr<viewer>& v) {
    ++v->request_id; // its deadline, if already queued, no longer applies
    v->timer.cancel();
    if (v->for_playlist) {
        on_playlist(v);
    } else {
        on_segment_done(v);
    }
}

void hls_viewers::close_unless_reusable(const std::shared_ptr<viewer>& v) {
    if (!v->reader.keep_alive() || v->leftover) {
        error_code ignored;
        v->sock.close(ignored);
        v->connected = false;
        rec_.connections(-1);
    }
}

const char* hls_viewers::step_of(const std::shared_ptr<viewer>& v) {
    return v->for_playlist ? "playlist" : "segment";
}

void hls_viewers::load_playlist(const std::shared_ptr<viewer>& v) {
    v->due = std::max(v->next_reload, v->joined);
    request(v, options_.playlist, true);
}

void hls_viewers::on_playlist(const std::shared_ptr<viewer>& v) {
    const auto now = clock_type::now();
    const int status = v->reader.status();
    bool added = false;
    std::string_view error;
    if (status != 200) {
        error = "status";
    } else if (auto p = codec::hls::parse_media_playlist(v->reader.body())) {
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
    close_unless_reusable(v);
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
    v->timer.async_wait([this, v](error_code) { next(v); });
}

void hls_viewers::load_segment(const std::shared_ptr<viewer>& v) {
    auto [uri, seconds] = std::move(v->queue.front());
    v->queue.pop_front();
    v->due = clock_type::now();
    v->seg_duration = seconds;
    request(v, resolve(uri), false);
}

void hls_viewers::on_segment_done(const std::shared_ptr<viewer>& v) {
    const auto now = clock_type::now();
    const int status = v->reader.status();
    const bool ok = status == 200;
    rec_.request("segment", v->due, now, status, ok ? "" : "status");
    auto& vs = rec_.stats().viewers;
    if (ok) {
        ++vs.segments;
        vs.bytes += v->reader.body_bytes();
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
    close_unless_reusable(v);
    next(v);
}

void hls_viewers::broken(const std::shared_ptr<viewer>& v, std::string_view step,
                         std::string_view kind) {
    rec_.request(std::string(step), v->due, clock_type::now(), 0, kind);
    if (v->connected) {
        rec_.connections(-1);
    }
    ++v->request_id; // its deadline no longer applies
    error_code ignored;
    v->sock.close(ignored);
    v->connected = false;
    if (v->stopped) {
        return;
    }
    v->timer.expires_after(retry_after); // also ends the request's deadline
    v->timer.async_wait([this, v](error_code) { next(v); });
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
    error_code ignored;
    v->sock.close(ignored);
    v->timer.cancel();
}

} // namespace livehouse::stress
