// RTMP publisher session. Everything here runs on the session's io_context thread; see the
// header for the flow and the limits.
#include "services/ingest/rtmp_session.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <cstring>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace livehouse::services::ingest {

namespace asio = boost::asio;
namespace rtmp = codec::rtmp;
using tcp = asio::ip::tcp;
using steady = std::chrono::steady_clock;

namespace {

constexpr std::size_t initial_buffer = 64 * 1024;
constexpr std::size_t min_read = 16 * 1024;
/// createStream calls per connection: a publisher needs one.
constexpr std::uint32_t max_streams = 8;
/// How long a refused or finished connection may take to flush its last replies.
constexpr std::chrono::seconds flush_timeout{2};

/// A peer-supplied string made safe for one log line: printable ASCII, at most 64 bytes.
std::string printable(std::string_view s) {
    std::string out;
    for (char c : s.substr(0, 64)) {
        out += (c >= 0x20 && c < 0x7F) ? c : '?';
    }
    if (s.size() > 64) {
        out += "...";
    }
    return out;
}

/// "live?token=x" -> "live", "live/" -> "live": encoders append query strings and slashes.
std::string_view bare_name(std::string_view s) {
    s = s.substr(0, s.find('?'));
    while (!s.empty() && s.back() == '/') {
        s.remove_suffix(1);
    }
    return s;
}

} // namespace

rtmp_session::rtmp_session(tcp::socket socket, std::shared_ptr<ingest_context> ctx)
    : socket_(std::move(socket)), timer_(socket_.get_executor()), ctx_(std::move(ctx)),
      reader_(ctx_->config.limits), writer_(rtmp::default_chunk_size) {}

rtmp_session::~rtmp_session() {
    if (!closed_) {
        // Destroyed with its io_context (server shutdown) without a close: still end the
        // publish so the broadcast is suspended, not left live.
        closed_ = true;
        end_publish();
        ctx_->counters.connections_open.fetch_sub(1, std::memory_order_relaxed);
    }
    std::lock_guard lock(ctx_->mutex);
    ctx_->sessions.erase(id_);
}

void rtmp_session::start() {
    boost::system::error_code ec;
    const auto ep = socket_.remote_endpoint(ec);
    remote_ =
        ec ? std::string("unknown") : fmt::format("{}:{}", ep.address().to_string(), ep.port());
    // Our replies are small and latency-bound (the publisher waits for them).
    socket_.set_option(tcp::no_delay(true), ec);
    {
        std::lock_guard lock(ctx_->mutex);
        id_ = ctx_->next_id++;
        ctx_->sessions.emplace(id_, weak_from_this());
    }
    ctx_->counters.connections_accepted.fetch_add(1, std::memory_order_relaxed);
    ctx_->counters.connections_open.fetch_add(1, std::memory_order_relaxed);
    accepted_at_ = last_read_ = steady::now();
    buf_.resize(initial_buffer);
    spdlog::debug("rtmp {}: connected", remote_);
    schedule_timer();
    do_read();
}

void rtmp_session::close_async(std::string reason) {
    asio::post(socket_.get_executor(), [self = shared_from_this(), reason = std::move(reason)] {
        self->close(reason, close_kind::normal);
    });
}

// ---- input ------------------------------------------------------------------------------------

void rtmp_session::make_room() {
    if (begin_ == end_) {
        begin_ = end_ = 0;
    }
    if (buf_.size() - end_ >= min_read) {
        return;
    }
    if (begin_ > 0) {
        std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
        end_ -= begin_;
        begin_ = 0;
    }
    if (buf_.size() - end_ < min_read) {
        // A partial chunk bigger than the buffer: grow. The chunk reader bounds a chunk by the
        // message length limit, so this stops at about that size.
        buf_.resize(std::max(buf_.size() * 2, end_ + min_read));
    }
}

void rtmp_session::do_read() {
    if (closed_ || closing_) {
        return;
    }
    make_room();
    socket_.async_read_some(asio::buffer(buf_.data() + end_, buf_.size() - end_),
                            [self = shared_from_this()](const boost::system::error_code& ec,
                                                        std::size_t n) { self->on_read(ec, n); });
}

void rtmp_session::on_read(const boost::system::error_code& ec, std::size_t n) {
    if (closed_ || closing_) {
        return;
    }
    read_at_ = std::chrono::steady_clock::now();
    if (ec) {
        if (ec == asio::error::eof || ec == asio::error::connection_reset) {
            close("peer closed the connection", close_kind::normal);
        } else {
            close(fmt::format("read: {}", ec.message()), close_kind::normal);
        }
        return;
    }
    end_ += n;
    last_read_ = steady::now();
    ctx_->counters.bytes_received.fetch_add(n, std::memory_order_relaxed);
    if (process()) {
        do_read();
    }
}

bool rtmp_session::process() {
    while (begin_ < end_ && !closed_ && !closing_) {
        const core::bytes_view in(buf_.data() + begin_, end_ - begin_);
        if (!handshake_.done()) {
            auto r = handshake_.feed(in);
            if (r.state == core::parse_state::error) {
                close(r.error, close_kind::protocol_error);
                return false;
            }
            begin_ += r.consumed;
            if (!handshake_.output().empty()) {
                send_raw(handshake_.output()); // S0+S1+S2
                handshake_.output().clear();
            }
            if (handshake_.done()) {
                // The acknowledged sequence number counts every byte the peer sent.
                reader_.add_bytes_received(1 + 2 * rtmp::handshake_size);
                spdlog::debug("rtmp {}: handshake done ({})", remote_,
                              handshake_.kind() == rtmp::handshake_kind::digest ? "digest"
                                                                                : "plain");
            }
            if (r.consumed == 0) {
                break;
            }
            continue;
        }
        auto r = reader_.feed(in);
        begin_ += r.consumed;
        while (auto m = reader_.next()) {
            if (!handle(*m) || closed_ || closing_) {
                return !closed_ && !closing_;
            }
        }
        if (r.state == core::parse_state::error) {
            close(r.error, close_kind::protocol_error);
            return false;
        }
        if (auto seq = reader_.ack_due()) {
            send(rtmp::make_acknowledgement(*seq));
        }
        break;
    }
    return !closed_ && !closing_;
}

// ---- timers -----------------------------------------------------------------------------------

void rtmp_session::schedule_timer() {
    // Check often enough that a timeout fires within a quarter of its length.
    const auto period = std::clamp<std::chrono::milliseconds>(
        ctx_->config.timeout / 4, std::chrono::milliseconds(20), std::chrono::milliseconds(1000));
    timer_.expires_after(period);
    timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
        if (!ec && !self->closed_) {
            self->on_timer();
        }
    });
}

void rtmp_session::on_timer() {
    const auto now = steady::now();
    const auto& cfg = ctx_->config;
    auto ms = [](steady::duration d) {
        return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
    };
    if (closing_) {
        if (now - closing_since_ > flush_timeout) {
            close(closing_reason_ + " (replies not flushed)", close_kind::normal);
            return;
        }
    } else if (!handshake_.done() && now - accepted_at_ > cfg.timeout) {
        close(fmt::format("handshake not complete after {} ms", ms(now - accepted_at_)),
              close_kind::timeout);
        return;
    } else if (now - last_read_ > cfg.timeout) {
        close(fmt::format("no data for {} ms", ms(now - last_read_)), close_kind::timeout);
        return;
    } else if (!published_once_ && now - accepted_at_ > cfg.publish_timeout) {
        close(fmt::format("no publish after {} ms", ms(now - accepted_at_)), close_kind::timeout);
        return;
    } else if (broadcast_ && broadcast_->snapshot()->status == media::broadcast_status::ended) {
        // Ended by an admin (or shutdown) while we publish: stop taking media for it.
        close("the broadcast was ended", close_kind::normal);
        return;
    }
    schedule_timer();
}

// ---- output -----------------------------------------------------------------------------------

void rtmp_session::send(const rtmp::message& m) {
    if (closed_) {
        return;
    }
    writer_.write(m, queue_);
    check_queue();
}

void rtmp_session::send_raw(std::string_view bytes) {
    if (closed_) {
        return;
    }
    queue_.append(bytes);
    check_queue();
}

void rtmp_session::check_queue() {
    // Policy: a publisher receives only acks and status replies, so a queue this long means it
    // stopped reading; it is cut off rather than buffered without bound.
    if (queue_.size() + inflight_.size() > ctx_->config.max_write_queue_bytes) {
        close(fmt::format("write queue over {} bytes", ctx_->config.max_write_queue_bytes),
              close_kind::protocol_error);
        return;
    }
    if (!writing_) {
        start_write();
    }
}

void rtmp_session::start_write() {
    if (queue_.empty() || closed_) {
        return;
    }
    inflight_.swap(queue_);
    queue_.clear();
    writing_ = true;
    asio::async_write(socket_, asio::buffer(inflight_),
                      [self = shared_from_this()](const boost::system::error_code& ec,
                                                  std::size_t) { self->on_write(ec); });
}

void rtmp_session::on_write(const boost::system::error_code& ec) {
    writing_ = false;
    inflight_.clear();
    if (closed_) {
        return;
    }
    if (ec) {
        close(fmt::format("write: {}", ec.message()), close_kind::normal);
        return;
    }
    if (!queue_.empty()) {
        start_write();
    } else if (closing_) {
        close(closing_reason_, close_kind::normal);
    }
}

void rtmp_session::close_after_write(std::string why) {
    if (closed_ || closing_) {
        return;
    }
    closing_ = true;
    closing_since_ = steady::now();
    closing_reason_ = std::move(why);
    if (!writing_ && queue_.empty()) {
        close(closing_reason_, close_kind::normal);
    }
}

void rtmp_session::close(std::string_view why, close_kind kind) {
    if (closed_) {
        return;
    }
    closed_ = true;
    end_publish();
    switch (kind) {
    case close_kind::protocol_error:
        ctx_->counters.protocol_errors.fetch_add(1, std::memory_order_relaxed);
        spdlog::warn("rtmp {}: closing: {}", remote_, why);
        break;
    case close_kind::timeout:
        ctx_->counters.timeouts.fetch_add(1, std::memory_order_relaxed);
        spdlog::info("rtmp {}: closing: {}", remote_, why);
        break;
    case close_kind::normal:
        spdlog::debug("rtmp {}: closed: {}", remote_, why);
        break;
    }
    boost::system::error_code ignored;
    timer_.cancel();
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
    ctx_->counters.connections_open.fetch_sub(1, std::memory_order_relaxed);
}

// ---- messages ---------------------------------------------------------------------------------

bool rtmp_session::handle(const rtmp::message& m) {
    switch (m.type) {
    case rtmp::message_type::command_amf0:
        return on_command(m.bytes(), m);
    case rtmp::message_type::command_amf3:
    case rtmp::message_type::data_amf3: {
        // §7.1.1/§7.1.2 AMF3 variants as Flash sends them with objectEncoding 3: a format byte
        // (0) then AMF0 values, which is all a publisher puts there.
        auto body = m.bytes();
        if (!body.empty()) {
            body = body.subspan(1);
        }
        return m.type == rtmp::message_type::command_amf3 ? on_command(body, m) : on_data(body);
    }
    case rtmp::message_type::data_amf0:
        return on_data(m.bytes());
    case rtmp::message_type::audio:
    case rtmp::message_type::video:
        on_media(m);
        return true;
    case rtmp::message_type::aggregate: {
        auto parts = rtmp::split_aggregate(m);
        if (!parts) {
            close(parts.err().message, close_kind::protocol_error);
            return false;
        }
        for (const auto& part : *parts) {
            if (part.type == rtmp::message_type::audio || part.type == rtmp::message_type::video) {
                on_media(part);
            } else if (part.type == rtmp::message_type::data_amf0 && !on_data(part.bytes())) {
                return false;
            }
        }
        return true;
    }
    case rtmp::message_type::user_control: {
        // §6.2 PingRequest: "The client ... MUST respond with PingResponse". Some encoders
        // ping the server; answering keeps them from timing out.
        auto uc = rtmp::parse_user_control(m.bytes());
        if (uc && uc->event == rtmp::user_control_event::ping_request) {
            send(rtmp::make_ping_response(uc->value));
        }
        return true;
    }
    default:
        // Set Chunk Size, Abort, Window Acknowledgement Size: applied by the chunk reader.
        // Acknowledgement, Set Peer Bandwidth, shared objects: nothing for an ingest to do.
        return true;
    }
}

bool rtmp_session::on_command(core::bytes_view payload, const rtmp::message& m) {
    auto parsed = rtmp::parse_command(payload);
    if (!parsed) {
        close(parsed.err().message, close_kind::protocol_error);
        return false;
    }
    const auto& c = *parsed;
    const auto txn = c.transaction_id;
    if (c.name == "connect") {
        on_connect(c);
        return true;
    }
    if (!connected_) {
        close(fmt::format("command '{}' before connect", printable(c.name)),
              close_kind::protocol_error);
        return false;
    }
    if (c.name == "releaseStream" || c.name == "FCPublish") {
        // Not in the spec: FMS answered these and FMLE-style encoders expect it.
        if (c.name == "FCPublish") {
            const auto* key = c.args.empty() ? nullptr : c.args[0].as_string();
            send(rtmp::make_on_fc_publish(rtmp::code_publish_start,
                                          key != nullptr ? std::string_view(*key) : ""));
        }
        if (txn != 0) {
            send(rtmp::make_result(txn));
        }
    } else if (c.name == "createStream") {
        if (streams_created_ >= max_streams) {
            close(fmt::format("more than {} createStream calls", max_streams),
                  close_kind::protocol_error);
            return false;
        }
        ++streams_created_;
        send(rtmp::make_create_stream_result(txn, streams_created_));
    } else if (c.name == "publish") {
        on_publish(c, m.stream_id);
    } else if (c.name == "FCUnpublish" || c.name == "deleteStream" || c.name == "closeStream") {
        on_unpublish();
    } else if (c.name == "play" || c.name == "play2") {
        send(rtmp::make_on_status(m.stream_id, "error", "NetStream.Play.Failed",
                                  "this server takes publishers only; watch over HLS"));
        close_after_write("client tried to play");
    } else if (c.name == "_result" || c.name == "_error" || c.name == "onBWDone" ||
               c.name == "_checkbw" || c.name == "getStreamLength") {
        // Replies to nothing we sent, or bandwidth probes: nothing to do.
    } else {
        spdlog::debug("rtmp {}: ignoring command '{}'", remote_, printable(c.name));
        if (txn != 0) {
            send(rtmp::make_error_result(txn, "NetConnection.Call.Failed", "unsupported command"));
        }
    }
    return true;
}

void rtmp_session::on_connect(const rtmp::command& c) {
    if (connected_) {
        close("second connect on one connection", close_kind::protocol_error);
        return;
    }
    const auto app = bare_name(c.object.get_string("app"));
    if (app != ctx_->config.app) {
        send(rtmp::make_error_result(c.transaction_id, rtmp::code_connect_rejected,
                                     "unknown application"));
        spdlog::info("rtmp {}: connect refused: unknown application '{}'", remote_, printable(app));
        close_after_write("unknown application");
        return;
    }
    connected_ = true;
    // The usual server preamble (what FMS, nginx-rtmp and SRS send before _result):
    // §5.4.4 Window Acknowledgement Size, §5.4.5 Set Peer Bandwidth, §5.4.1 Set Chunk Size.
    send(rtmp::make_window_ack_size(ctx_->config.window_ack_size));
    send(rtmp::make_set_peer_bandwidth(ctx_->config.window_ack_size,
                                       rtmp::peer_bandwidth_limit::dynamic));
    send(rtmp::make_set_chunk_size(ctx_->config.chunk_size));
    writer_.set_chunk_size(ctx_->config.chunk_size);
    send(rtmp::make_connect_result(c.transaction_id, c.object.get_number("objectEncoding", 0)));
}

void rtmp_session::on_publish(const rtmp::command& c, std::uint32_t stream_id) {
    if (publish_requested_) {
        close("second publish on one connection", close_kind::protocol_error);
        return;
    }
    publish_requested_ = true;
    published_once_ = true;
    if (stream_id == 0 || stream_id > streams_created_) {
        close(fmt::format("publish on message stream {} that was not created", stream_id),
              close_kind::protocol_error);
        return;
    }
    // §7.2.2.6 publish: "Publishing Name: Name with which the stream is published" - for us
    // the broadcast's stream key. Never logged: it is a secret.
    const auto* name = c.args.empty() ? nullptr : c.args[0].as_string();
    const auto key = bare_name(name != nullptr ? std::string_view(*name) : std::string_view());
    auto b = key.empty() ? nullptr : ctx_->registry.find_by_stream_key(key);
    if (!b) {
        refuse_publish(stream_id, "unknown stream key");
        return;
    }
    // Checked again by begin_publish() at the first frame; refusing here answers the encoder
    // before it starts sending media.
    const auto status = b->snapshot()->status;
    if (status == media::broadcast_status::live) {
        refuse_publish(stream_id, "already publishing");
        return;
    }
    if (status == media::broadcast_status::ended) {
        refuse_publish(stream_id, "broadcast has ended");
        return;
    }
    broadcast_ = std::move(b);
    publish_stream_ = stream_id;
    demux_ = codec::flv::tag_demuxer{};
    send(rtmp::make_stream_begin(stream_id));
    send(rtmp::make_on_status(stream_id, "status", rtmp::code_publish_start, "Start publishing"));
    ctx_->counters.publishes_accepted.fetch_add(1, std::memory_order_relaxed);
    spdlog::info("rtmp {}: publishing to broadcast {}", remote_, broadcast_->id());
}

void rtmp_session::refuse_publish(std::uint32_t stream_id, std::string_view why) {
    ctx_->counters.publishes_refused.fetch_add(1, std::memory_order_relaxed);
    spdlog::info("rtmp {}: publish refused: {}", remote_, why);
    send(rtmp::make_on_status(stream_id, "error", rtmp::code_publish_bad_name, why));
    end_publish();
    close_after_write(fmt::format("publish refused: {}", why));
}

void rtmp_session::on_unpublish() {
    if (publish_stream_ == 0) {
        return; // deleteStream after FCUnpublish, or without a publish
    }
    const auto stream = publish_stream_;
    end_publish();
    send(rtmp::make_on_status(stream, "status", rtmp::code_unpublish_success, "Stop publishing"));
    // The connection may publish again (some encoders reuse it after a stop).
    publish_requested_ = false;
}

void rtmp_session::end_publish() {
    if (began_) {
        broadcast_->end_publish();
        began_ = false;
        ctx_->counters.publishing.fetch_sub(1, std::memory_order_relaxed);
        spdlog::info("rtmp {}: publish to broadcast {} ended after {} frames", remote_,
                     broadcast_->id(), frames_);
    }
    broadcast_.reset();
    publish_stream_ = 0;
    meta_video_ = meta_audio_ = false;
    frames_ = 0;
}

bool rtmp_session::on_data(core::bytes_view payload) {
    auto md = rtmp::parse_metadata(payload);
    if (!md) {
        close(md.err().message, close_kind::protocol_error);
        return false;
    }
    if (md->has_value()) {
        // Track hints: an encoder declares the codecs it will send before any sequence header.
        const auto& meta = **md;
        meta_video_ = meta_video_ || meta.get("videocodecid") != nullptr;
        meta_audio_ = meta_audio_ || meta.get("audiocodecid") != nullptr;
    }
    return true;
}

void rtmp_session::on_media(const rtmp::message& m) {
    if (!broadcast_ || m.stream_id != publish_stream_) {
        return; // media outside a publish: ignored
    }
    const bool video = m.type == rtmp::message_type::video;
    auto r = video ? demux_.on_video(m.timestamp_ms, m.bytes())
                   : demux_.on_audio(m.timestamp_ms, m.bytes());
    if (!r) {
        ctx_->counters.media_errors.fetch_add(1, std::memory_order_relaxed);
        if (!media_error_logged_) {
            media_error_logged_ = true; // once per session: a broken encoder repeats itself
            spdlog::warn("rtmp {}: dropping {} tags: {}", remote_, video ? "video" : "audio",
                         r.err().message);
        }
        return;
    }
    if (!r->has_value()) {
        return; // a sequence header (kept by the demuxer), or nothing to show
    }
    auto& f = **r;
    if (!began_) {
        // The first frame: the tracks are what onMetaData declared or the sequence headers
        // so far (encoders send both headers before the first frame).
        media::track_set tracks;
        tracks.video = meta_video_ || demux_.video_config().has_value();
        tracks.audio = meta_audio_ || demux_.audio_config().has_value();
        if (auto ok = broadcast_->begin_publish(tracks); !ok) {
            refuse_publish(publish_stream_, ok.err().message);
            return;
        }
        began_ = true;
        tracks_ = tracks;
        ctx_->counters.publishing.fetch_add(1, std::memory_order_relaxed);
        spdlog::info("rtmp {}: broadcast {} is live (video={} audio={})", remote_, broadcast_->id(),
                     tracks.video, tracks.audio);
    }
    const bool is_video = f.kind == codec::flv::es_kind::video;
    if (is_video ? !tracks_.video : !tracks_.audio) {
        return; // a track the publish did not declare
    }
    media::frame out;
    out.kind = is_video ? media::track::video : media::track::audio;
    out.dts_ms = f.dts_ms;
    out.cts_ms = f.cts_ms;
    out.keyframe = f.keyframe;
    out.payload = core::make_shared_bytes(std::move(f.payload));
    out.received_at = read_at_;
    broadcast_->on_frame(out);
    ++frames_;
    ctx_->counters.frames.fetch_add(1, std::memory_order_relaxed);
}

} // namespace livehouse::services::ingest
