// ws_session: the opening handshake checks (RFC 6455 §4.2), the read loop, the batched send
// queue with its limits, pings, and the closing handshake (§5.5.1, §7).
#include "net/ws_session.hpp"

#include "codec/http/field_value.hpp"
#include "codec/http/url.hpp"

#include <algorithm>
#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/uio.h>

namespace livehouse::net {

namespace asio = boost::asio;
namespace ws = codec::websocket;

namespace {

constexpr std::size_t initial_read_buffer = 512;
constexpr std::size_t max_frame_header = 14; // 2 + 8 (64-bit length) + 4 (mask)
constexpr std::size_t max_iov = 64;
constexpr std::size_t max_batch_bytes = 256 * 1024;
// Pongs waiting at once; a peer that pings faster than it reads gets no more (§5.5.3 lets us
// answer only the most recent ping).
constexpr std::size_t max_control_queued = 8;

std::atomic<std::uint64_t> next_session_id{1};

std::string format_remote(const asio::ip::tcp::socket& s) {
    boost::system::error_code ec;
    const auto ep = s.remote_endpoint(ec);
    if (ec) {
        return "unknown";
    }
    return codec::http::authority(ep.address().to_string(), ep.port());
}

response refuse(http::status status, std::string_view why) {
    auto r = json_error(status, why);
    r.cors = true;
    return r;
}

} // namespace

// --- the handshake ---

bool is_websocket_upgrade(const request& req) {
    return codec::http::lists_token(req[http::field::upgrade], "websocket");
}

std::optional<response> ws_handshake_refusal(const request& req) {
    // §4.2.1: "1. An HTTP/1.1 or higher GET request".
    if (req.method() != http::verb::get) {
        return refuse(http::status::bad_request, "websocket handshake must be a GET");
    }
    if (req.version() < 11) {
        return refuse(http::status::bad_request, "websocket handshake needs HTTP/1.1");
    }
    // "2. A |Host| header field"; "3. An |Upgrade| header field containing the value
    // "websocket""; "4. A |Connection| header field that includes the token "Upgrade"".
    if (req[http::field::host].empty()) {
        return refuse(http::status::bad_request, "websocket handshake without Host");
    }
    if (!is_websocket_upgrade(req)) {
        return refuse(http::status::bad_request, "websocket handshake without Upgrade: websocket");
    }
    if (!codec::http::lists_token(req[http::field::connection], "upgrade")) {
        return refuse(http::status::bad_request, "websocket handshake without Connection: Upgrade");
    }
    // "6. A |Sec-WebSocket-Version| header field, with a value of 13." §4.4: otherwise the
    // server "MUST abort the WebSocket handshake described in this section and instead send
    // an appropriate HTTP error code (such as 426 Upgrade Required) and a
    // |Sec-WebSocket-Version| header field indicating the version(s) the server is capable of".
    if (req[http::field::sec_websocket_version] != "13") {
        auto r = refuse(http::status::upgrade_required, "websocket version 13 required");
        r.headers.emplace_back("Sec-WebSocket-Version", "13");
        r.headers.emplace_back("Upgrade", "websocket");
        return r;
    }
    // "5. A |Sec-WebSocket-Key| header field with a base64-encoded value that, when decoded,
    // is 16 bytes in length."
    if (!ws::valid_client_key(req[http::field::sec_websocket_key])) {
        return refuse(http::status::bad_request, "bad Sec-WebSocket-Key");
    }
    return std::nullopt;
}

std::string ws_handshake_response(const request& req, std::string_view server_header) {
    // §4.2.2 item 5: the status line, Upgrade, Connection and Sec-WebSocket-Accept; no
    // Sec-WebSocket-Protocol or -Extensions (none is selected).
    return fmt::format("HTTP/1.1 101 Switching Protocols\r\n"
                       "Upgrade: websocket\r\n"
                       "Connection: Upgrade\r\n"
                       "Sec-WebSocket-Accept: {}\r\n"
                       "Server: {}\r\n\r\n",
                       ws::accept_key(req[http::field::sec_websocket_key]), server_header);
}

// --- shared state ---

ws_shared_state::ws_shared_state(ws_limits l, core::metrics_registry& metrics)
    : limits(l),
      open_gauge(metrics.add_gauge("ws_open_connections", "WebSocket connections currently open.")),
      messages_received(
          metrics.add_counter("ws_messages_received_total", "WebSocket text messages received.")),
      frames_sent(metrics.add_counter("ws_frames_sent_total", "WebSocket frames written.")),
      bytes_sent(metrics.add_counter("ws_bytes_sent_total",
                                     "WebSocket frame bytes written (handshakes excluded).")),
      slow_consumer_drops(metrics.add_counter(
          "ws_slow_consumer_drops_total",
          "WebSocket connections closed because their send queue passed a limit.")),
      protocol_errors(
          metrics.add_counter("ws_protocol_errors_total",
                              "WebSocket connections failed for a peer's protocol error.")) {}

bool ws_shared_state::add(std::uint64_t id, std::weak_ptr<ws_session> s) {
    std::lock_guard lock(mutex_);
    if (stopping_) {
        return false;
    }
    sessions_.emplace(id, std::move(s));
    return true;
}

void ws_shared_state::remove(std::uint64_t id) {
    std::lock_guard lock(mutex_);
    sessions_.erase(id);
}

void ws_shared_state::close_all(std::uint16_t code, const std::string& reason) {
    std::vector<std::shared_ptr<ws_session>> all;
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
        all.reserve(sessions_.size());
        for (const auto& [id, weak] : sessions_) {
            if (auto s = weak.lock()) {
                all.push_back(std::move(s));
            }
        }
    }
    // Outside the lock: close() posts to each session's thread, where it may end and call
    // remove().
    for (const auto& s : all) {
        s->close(code, reason);
    }
}

// --- the session ---

ws_session::ws_session(asio::ip::tcp::socket socket, std::shared_ptr<ws_shared_state> shared,
                       std::shared_ptr<ws_handler> h)
    : socket_(std::move(socket)), exec_(socket_.get_executor()), shared_(std::move(shared)),
      handler_(std::move(h)),
      reader_(ws::role::server,
              ws::frame_limits{.max_message_bytes = shared_->limits.max_message_bytes,
                               .max_fragments = ws::frame_limits{}.max_fragments}),
      id_(next_session_id.fetch_add(1, std::memory_order_relaxed)), remote_(format_remote(socket_)),
      timer_(exec_) {
    shared_->open.fetch_add(1);
    shared_->open_gauge.inc();
}

ws_session::~ws_session() {
    if (registered_) {
        shared_->remove(id_);
    }
    shared_->open.fetch_sub(1);
    shared_->open_gauge.dec();
}

void ws_session::start(std::string handshake, std::string_view already_read) {
    boost::system::error_code ec;
    // Our own writes use sendmsg(2) directly and must never block the event loop.
    socket_.non_blocking(true, ec);
    if (ec) {
        terminate(1006, "socket: " + ec.message());
        return;
    }
    registered_ = shared_->add(id_, weak_from_this());
    last_rx_ = clock::now();

    auto hs = core::make_shared_bytes(std::move(handshake));
    handshake_ = hs.get();
    queued_bytes_ += hs->size();
    queue_.push_back(std::move(hs));
    flush(); // the 101 goes now, before anything on_open sends is queued behind it
    if (phase_ == phase::closed) {
        return;
    }

    in_cap_ = std::max(initial_read_buffer, already_read.size());
    in_ = std::make_unique<char[]>(in_cap_);
    std::memcpy(in_.get(), already_read.data(), already_read.size());
    in_len_ = already_read.size();

    opened_ = true;
    try {
        handler_->on_open(shared_from_this());
    } catch (const std::exception& e) {
        spdlog::error("ws {} {}: on_open threw: {}", id_, remote_, e.what());
        begin_close(ws::close_code::internal_error, "internal error", true);
    }
    if (!registered_) {
        begin_close(ws::close_code::going_away, "server shutting down", false);
    }
    arm(last_rx_ + shared_->limits.ping_interval);
    if (in_len_ > 0) {
        process();
    }
    if (phase_ != phase::closed) {
        read();
    }
}

// --- reading ---

void ws_session::read() {
    if (in_len_ == in_cap_) {
        // A frame larger than the buffer is arriving: grow, bounded by the largest frame the
        // reader accepts (it fails anything larger on the header, before we get here).
        const std::size_t max_cap = shared_->limits.max_message_bytes + max_frame_header;
        const std::size_t cap = std::min(std::max(in_cap_ * 2, initial_read_buffer), max_cap);
        if (cap <= in_len_) {
            terminate(1006, "read buffer full"); // cannot happen (see above)
            return;
        }
        auto bigger = std::make_unique<char[]>(cap);
        std::memcpy(bigger.get(), in_.get(), in_len_);
        in_ = std::move(bigger);
        in_cap_ = cap;
    }
    socket_.async_read_some(asio::buffer(in_.get() + in_len_, in_cap_ - in_len_),
                            [self = shared_from_this()](const boost::system::error_code& ec,
                                                        std::size_t n) { self->on_read(ec, n); });
}

void ws_session::on_read(const boost::system::error_code& ec, std::size_t n) {
    if (phase_ == phase::closed) {
        return;
    }
    if (ec) {
        // EOF after the closing handshake is the normal end; before it, §7.1.5: "If _The
        // WebSocket Connection is Closed_ and no Close control frame was received by the
        // endpoint ... _The WebSocket Connection Close Code_ is considered to be 1006."
        terminate(1006, phase_ == phase::open ? "connection lost: " + ec.message() : "");
        return;
    }
    in_len_ += n;
    // Any byte from the peer shows it is alive (a large frame may take longer than a ping
    // interval to arrive).
    last_rx_ = clock::now();
    ping_outstanding_ = false;
    process();
    if (phase_ == phase::closed) {
        return;
    }
    // Idle again: give back what a large frame made us take.
    if (in_cap_ > initial_read_buffer && in_len_ < initial_read_buffer) {
        auto small = std::make_unique<char[]>(initial_read_buffer);
        std::memcpy(small.get(), in_.get(), in_len_);
        in_ = std::move(small);
        in_cap_ = initial_read_buffer;
    }
    read();
}

void ws_session::process() {
    if (reader_.error_close_code() != 0 || reader_.closed()) {
        in_len_ = 0; // after a close or an error nothing the peer sends is read
        return;
    }
    auto r =
        reader_.feed(core::bytes_view(reinterpret_cast<const std::uint8_t*>(in_.get()), in_len_));
    if (r.state == core::parse_state::error) {
        in_len_ = 0;
    } else if (r.consumed > 0) {
        std::memmove(in_.get(), in_.get() + r.consumed, in_len_ - r.consumed);
        in_len_ -= r.consumed;
    }
    // The frames before an error are good: deliver them first.
    std::size_t messages = 0;
    std::size_t events = 0;
    while (phase_ != phase::closed) {
        auto e = reader_.next();
        if (!e) {
            break;
        }
        ++events;
        on_event(*e, messages);
    }
    if (messages > 0) {
        shared_->messages_received.inc(messages); // once per read, not per message
    }
    if (events > 8 || r.consumed > initial_read_buffer) {
        reader_.shrink(); // a burst or a large message is over: give back its buffers
    }
    if (r.state != core::parse_state::error || phase_ == phase::closed) {
        return;
    }
    shared_->protocol_errors.inc();
    spdlog::debug("ws {} {}: {}", id_, remote_, r.error);
    if (phase_ == phase::open) {
        // §7.1.7: _Fail the WebSocket Connection_: send a close frame with the code, then
        // close without waiting for the peer's.
        begin_close(reader_.error_close_code(), r.error, true);
    } else {
        disconnect_after_close_ = true;
        if (close_written_) {
            shutdown_send();
        }
    }
}

void ws_session::on_event(ws::event& e, std::size_t& messages) {
    switch (e.op) {
    case ws::opcode::text:
        if (phase_ != phase::open) {
            return; // after our close frame, data is not delivered (§7.1.2)
        }
        ++messages;
        try {
            handler_->on_message(e.payload);
        } catch (const std::exception& ex) {
            spdlog::error("ws {} {}: on_message threw: {}", id_, remote_, ex.what());
            begin_close(ws::close_code::internal_error, "internal error", true);
        }
        return;
    case ws::opcode::binary:
        if (phase_ != phase::open) {
            return;
        }
        // §7.4.1: 1003 "indicates that an endpoint is terminating the connection because it
        // has received a type of data it cannot accept". Chat is text only.
        shared_->protocol_errors.inc();
        begin_close(1003, "binary messages are not accepted", true);
        return;
    case ws::opcode::ping:
        // §5.5.2: "Upon receipt of a Ping frame, an endpoint MUST send a Pong frame in
        // response ... The Pong frame MUST have identical Application data".
        if (phase_ == phase::open) {
            queue_control(ws::encode_frame(ws::opcode::pong, e.payload));
        }
        return;
    case ws::opcode::pong:
        return; // liveness is any byte read (on_read)
    case ws::opcode::close:
        on_peer_close(e.code, e.payload);
        return;
    case ws::opcode::continuation:
        return; // never delivered by the reader
    }
}

void ws_session::on_peer_close(std::uint16_t code, const std::string& reason) {
    peer_closed_ = true;
    if (phase_ == phase::open) {
        // §5.5.1: "If an endpoint receives a Close frame and did not previously send a Close
        // frame, the endpoint MUST send a Close frame in response. (When sending a Close frame
        // in response, the endpoint typically echos the status code it received.) It SHOULD
        // do so as soon as practical." So the echo goes before queued data (dropped: the peer
        // is leaving); only a frame already partly written is finished first.
        drop_unstarted();
        soft_since_.reset();
        phase_ = phase::closing;
        notify_close(code, reason);
        close_queued_ = true;
        disconnect_after_close_ = true;
        closing_deadline_ = clock::now() + shared_->limits.close_timeout;
        arm(closing_deadline_);
        auto f = core::make_shared_bytes(ws::encode_close(code, ""));
        queued_bytes_ += f->size();
        queue_.push_back(std::move(f));
        schedule_flush();
        return;
    }
    // Our close went first: this completes the handshake. §7.1.1: the server closes the TCP
    // connection first, once its close frame is out.
    if (close_written_) {
        shutdown_send();
    }
}

// --- writing ---

send_result ws_session::send(core::shared_bytes frame) {
    if (phase_ != phase::open) {
        return send_result::closed;
    }
    if (!frame || frame->empty()) {
        return send_result::queued; // nothing to write
    }
    const std::size_t size = frame->size();
    if (queued_bytes_ + size > shared_->limits.send_hard_limit_bytes) {
        slow_consumer("hard");
        return send_result::dropped;
    }
    queue_.push_back(std::move(frame));
    queued_bytes_ += size;
    if (!soft_since_ && queued_bytes_ > shared_->limits.send_soft_limit_bytes) {
        soft_since_ = clock::now();
        arm(*soft_since_ + shared_->limits.send_soft_limit_time);
    }
    schedule_flush();
    return send_result::queued;
}

void ws_session::queue_control(std::string frame) {
    if (control_.size() >= max_control_queued || close_queued_) {
        return;
    }
    auto f = core::make_shared_bytes(std::move(frame));
    queued_bytes_ += f->size();
    control_.push_back(std::move(f));
    schedule_flush();
}

void ws_session::uncork() {
    corked_ = false;
    if (!flush_posted_ && queued_bytes_ > 0) {
        flush(); // returns at once while waiting for the socket to become writable
    }
}

void ws_session::schedule_flush() {
    if (flush_posted_ || write_waiting_ || corked_ || phase_ == phase::closed) {
        return;
    }
    // One flush per turn of the loop: every send() of the current handler (a fan-out of many
    // messages, a pong and a reply) leaves in the same sendmsg.
    flush_posted_ = true;
    asio::post(exec_, [self = shared_from_this()] {
        self->flush_posted_ = false;
        self->flush();
    });
}

void ws_session::flush() {
    if (phase_ == phase::closed || write_waiting_) {
        return;
    }
    std::size_t frames = 0;
    std::size_t bytes = 0;
    for (;;) {
        // The batch, in write order: the frame already started, control frames, data frames.
        std::array<iovec, max_iov> iov{};
        std::size_t n = 0;
        std::size_t total = 0;
        bool full = false;
        const auto add = [&](const std::string& f, std::size_t offset) {
            if (full || n == max_iov || total >= max_batch_bytes) {
                full = true;
                return;
            }
            // sendmsg takes non-const pointers; it never writes through them.
            iov[n].iov_base = const_cast<char*>(f.data() + offset); // NOLINT
            iov[n].iov_len = f.size() - offset;
            total += iov[n].iov_len;
            ++n;
        };
        if (current_) {
            add(*current_, current_offset_);
        }
        for (const auto& f : control_) {
            add(*f, 0);
        }
        for (const auto& f : queue_) {
            add(*f, 0);
            if (full) {
                break;
            }
        }
        if (n == 0) {
            break;
        }
        msghdr msg{};
        msg.msg_iov = iov.data();
        msg.msg_iovlen = n;
        const ssize_t w = ::sendmsg(socket_.native_handle(), &msg, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                wait_writable();
                break;
            }
            const int err = errno;
            shared_->frames_sent.inc(frames);
            shared_->bytes_sent.inc(bytes);
            terminate(1006, fmt::format("write: {}", std::strerror(err)));
            return;
        }
        consume(static_cast<std::size_t>(w), frames, bytes);
        if (static_cast<std::size_t>(w) < total) {
            // The kernel took less than offered: its buffer is full. Wait instead of spinning.
            wait_writable();
            break;
        }
    }
    if (frames > 0) {
        shared_->frames_sent.inc(frames);
    }
    if (bytes > 0) {
        shared_->bytes_sent.inc(bytes);
    }
    if (soft_since_ && queued_bytes_ <= shared_->limits.send_soft_limit_bytes) {
        soft_since_.reset();
    }
    if (queued_bytes_ == 0 && close_queued_ && !close_written_) {
        // Nothing is queued after a close frame, so an empty queue means it is out.
        close_written_ = true;
        on_close_written();
    }
}

void ws_session::consume(std::size_t n, std::size_t& frames, std::size_t& bytes) {
    queued_bytes_ -= n;
    while (n > 0) {
        if (!current_) {
            if (!control_.empty()) {
                current_ = std::move(control_.front());
                control_.erase(control_.begin());
            } else {
                current_ = std::move(queue_.front());
                queue_.pop_front();
            }
            current_offset_ = 0;
        }
        const std::size_t left = current_->size() - current_offset_;
        const std::size_t k = std::min(n, left);
        const bool handshake = current_.get() == handshake_;
        n -= k;
        current_offset_ += k;
        if (!handshake) {
            bytes += k;
        }
        if (k == left) {
            if (handshake) {
                handshake_ = nullptr;
            } else {
                ++frames;
            }
            current_.reset();
            current_offset_ = 0;
        }
    }
}

void ws_session::wait_writable() {
    write_waiting_ = true;
    write_wait_since_ = clock::now();
    arm(write_wait_since_ + shared_->limits.close_timeout);
    socket_.async_wait(asio::ip::tcp::socket::wait_write,
                       [self = shared_from_this()](const boost::system::error_code& ec) {
                           self->write_waiting_ = false;
                           if (ec || self->phase_ == phase::closed) {
                               return;
                           }
                           self->flush();
                       });
}

void ws_session::on_close_written() {
    if (peer_closed_ || disconnect_after_close_) {
        shutdown_send();
        return;
    }
    // §7.1.2 / our close: now wait (bounded) for the peer's close frame.
    closing_deadline_ = clock::now() + shared_->limits.close_timeout;
    arm(closing_deadline_);
}

// --- closing ---

void ws_session::close(std::uint16_t code, std::string reason) {
    auto* io = exec_.target<asio::io_context::executor_type>();
    if (io != nullptr && io->running_in_this_thread()) {
        begin_close(code, std::move(reason), false);
        return;
    }
    asio::post(exec_, [self = shared_from_this(), code, reason = std::move(reason)]() mutable {
        self->begin_close(code, std::move(reason), false);
    });
}

void ws_session::begin_close(std::uint16_t code, std::string reason, bool then_disconnect) {
    if (phase_ != phase::open) {
        return;
    }
    phase_ = phase::closing;
    close_queued_ = true;
    disconnect_after_close_ = then_disconnect;
    soft_since_.reset();
    closing_deadline_ = clock::now() + shared_->limits.close_timeout;
    arm(closing_deadline_);
    notify_close(code, reason);
    // §5.5.1: the close frame goes after what is queued ("after sending a Close frame, the
    // endpoint MUST NOT send any more data frames").
    auto f = core::make_shared_bytes(ws::encode_close(code, reason));
    queued_bytes_ += f->size();
    queue_.push_back(std::move(f));
    schedule_flush();
}

void ws_session::slow_consumer(std::string_view which) {
    // Redis's client-output-buffer-limit policy: free the queue now (memory stays bounded),
    // keep only the frame partly written (the stream must stay parseable), then our close.
    shared_->slow_consumer_drops.inc();
    spdlog::info("ws {} {}: send queue over the {} limit ({} bytes); closing", id_, remote_, which,
                 queued_bytes_);
    drop_unstarted();
    begin_close(ws::close_code::policy_violation, "too slow", true);
}

void ws_session::drop_unstarted() {
    core::shared_bytes handshake;
    if (!queue_.empty() && queue_.front().get() == handshake_) {
        handshake = std::move(queue_.front()); // the 101 itself cannot be dropped
    }
    queue_.clear();
    control_.clear();
    queued_bytes_ = current_ ? current_->size() - current_offset_ : 0;
    if (handshake) {
        queued_bytes_ += handshake->size();
        queue_.push_back(std::move(handshake));
    }
}

void ws_session::shutdown_send() {
    if (fin_sent_ || phase_ == phase::closed) {
        return;
    }
    fin_sent_ = true;
    // Half-close and keep reading until the peer's FIN (bounded by the closing deadline):
    // closing with unread bytes would send RST, which can destroy our close frame in flight.
    boost::system::error_code ec;
    socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
    if (ec) {
        terminate(1006, "");
        return;
    }
    closing_deadline_ = clock::now() + shared_->limits.close_timeout;
    arm(closing_deadline_);
}

void ws_session::terminate(std::uint16_t code, std::string_view reason) {
    if (phase_ == phase::closed) {
        return;
    }
    notify_close(code, reason);
    phase_ = phase::closed;
    boost::system::error_code ec;
    timer_.cancel();
    socket_.close(ec); // ends the pending read and wait: their handlers see phase_ closed
    queue_.clear();
    control_.clear();
    current_.reset();
    queued_bytes_ = 0;
    in_.reset();
    in_cap_ = 0;
    in_len_ = 0;
    if (registered_) {
        shared_->remove(id_);
        registered_ = false;
    }
}

void ws_session::notify_close(std::uint16_t code, std::string_view reason) {
    if (notified_) {
        return;
    }
    notified_ = true;
    // The handler goes with its last call: whatever it holds of us is its to drop.
    auto h = std::move(handler_);
    if (!h || !opened_) {
        return; // no on_open (the 101 could not be written): no on_close either
    }
    try {
        h->on_close(code, reason);
    } catch (const std::exception& e) {
        spdlog::error("ws {} {}: on_close threw: {}", id_, remote_, e.what());
    }
}

// --- deadlines ---

std::optional<ws_session::clock::time_point> ws_session::next_deadline() const {
    std::optional<clock::time_point> t;
    const auto consider = [&](clock::time_point at) {
        if (!t || at < *t) {
            t = at;
        }
    };
    const auto& l = shared_->limits;
    if (phase_ == phase::closing) {
        consider(closing_deadline_);
    }
    if (write_waiting_) {
        consider(write_wait_since_ + l.close_timeout);
    }
    if (phase_ == phase::open) {
        if (soft_since_) {
            consider(*soft_since_ + l.send_soft_limit_time);
        }
        consider((ping_outstanding_ ? ping_sent_at_ : last_rx_) + l.ping_interval);
    }
    return t;
}

void ws_session::arm(clock::time_point at) {
    if (phase_ == phase::closed || (timer_pending_ && timer_at_ <= at)) {
        return; // the pending wait fires first; on_timer then re-arms for what is left
    }
    timer_pending_ = true;
    timer_at_ = at;
    const auto seq = ++timer_seq_;
    timer_.expires_at(at); // cancels the previous wait, if any
    timer_.async_wait([self = shared_from_this(), seq](const boost::system::error_code& ec) {
        if (seq != self->timer_seq_) {
            return; // replaced by a newer wait
        }
        self->timer_pending_ = false;
        if (ec) {
            return;
        }
        self->on_timer();
    });
}

void ws_session::on_timer() {
    if (phase_ == phase::closed) {
        return;
    }
    const auto now = clock::now();
    const auto& l = shared_->limits;
    if (phase_ == phase::closing && now >= closing_deadline_) {
        terminate(1006, ""); // on_close already had the code that started the closing
        return;
    }
    if (write_waiting_ && now >= write_wait_since_ + l.close_timeout) {
        terminate(1006, "write made no progress");
        return;
    }
    if (phase_ == phase::open) {
        if (soft_since_ && now >= *soft_since_ + l.send_soft_limit_time) {
            slow_consumer("soft");
        } else if (ping_outstanding_) {
            if (now >= ping_sent_at_ + l.ping_interval) {
                spdlog::debug("ws {} {}: no answer to a ping; closing", id_, remote_);
                terminate(1006, "no answer to ping");
                return;
            }
        } else if (now >= last_rx_ + l.ping_interval) {
            ping_outstanding_ = true;
            ping_sent_at_ = now;
            queue_control(ws::encode_frame(ws::opcode::ping, ""));
        }
    }
    if (auto t = next_deadline()) {
        arm(*t);
    }
}

} // namespace livehouse::net
