// One WebSocket connection (RFC 6455), server side: takes over the socket of an http_session
// whose upgrade request a websocket route accepted, writes the 101, then reads frames with
// codec::websocket::frame_reader and writes from a bounded queue of shared, pre-encoded frames.
//
// Memory (an idle connection should cost little; the goal is <= 10 KB each, all included): a
// 512-byte read buffer that grows (doubling) only while a frame larger than it is arriving, up
// to max_message_bytes + 14, and shrinks back once it has been consumed; the reader's buffers
// released the same way; one steady_timer multiplexing every deadline (ping, dead peer, soft
// limit, write progress, closing), re-armed only when a deadline moves earlier.
//
// Writes: everything queued leaves in ONE sendmsg(2) (up to 64 buffers or 256 KiB per call),
// flushed once per turn of the event loop (send() queues, a posted flush writes), so a burst of
// messages to a connection costs one syscall, and a frame fanned out to thousands of
// connections is the same bytes everywhere. Control frames (pongs, our pings) jump ahead of the
// data frames that have not started writing; the close frame goes after what is queued.
//
// Lives on its socket's context; every member is touched only there (close() posts). Kept
// alive by the shared_ptr its pending operations capture. Internal to net.
#pragma once

#include "codec/websocket/frame.hpp"
#include "core/bytes.hpp"
#include "core/metrics.hpp"
#include "net/http_types.hpp"
#include "net/ws_types.hpp"

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace livehouse::net {

class ws_session;

/// What every WebSocket session of one http_server shares: limits, metrics and the list of open
/// sessions (so stop() can close them). The mutex is taken when a session opens or ends, never
/// per frame.
struct ws_shared_state {
    ws_shared_state(ws_limits l, core::metrics_registry& metrics);

    /// Registers a session; false once close_all() ran (the server is stopping).
    bool add(std::uint64_t id, std::weak_ptr<ws_session> s);
    void remove(std::uint64_t id);
    /// Starts the closing handshake on every open session and refuses new ones. Any thread.
    void close_all(std::uint16_t code, const std::string& reason);

    ws_limits limits;
    core::gauge& open_gauge;
    core::counter& messages_received;
    core::counter& frames_sent;
    core::counter& bytes_sent;
    core::counter& slow_consumer_drops;
    core::counter& protocol_errors;
    std::atomic<std::size_t> open{0};

  private:
    std::mutex mutex_;
    bool stopping_ = false;
    std::unordered_map<std::uint64_t, std::weak_ptr<ws_session>> sessions_;
};

/// RFC 6455 §4.2.1: checks an upgrade request. nullopt when it is a valid opening handshake;
/// else the refusal: 426 with "Sec-WebSocket-Version: 13" for another version (§4.4), 400 for
/// anything else (not GET, not HTTP/1.1, no Host, Upgrade or Connection wrong, a bad key).
std::optional<response> ws_handshake_refusal(const request& req);
/// The 101 response (§4.2.2) to a request ws_handshake_refusal() accepted. No extension and
/// no subprotocol is ever selected.
std::string ws_handshake_response(const request& req, std::string_view server_header);
/// True when the request asks for a WebSocket upgrade ("Upgrade: websocket", any case).
bool is_websocket_upgrade(const request& req);

class ws_session final : public ws_connection, public std::enable_shared_from_this<ws_session> {
  public:
    ws_session(boost::asio::ip::tcp::socket socket, std::shared_ptr<ws_shared_state> shared,
               std::shared_ptr<ws_handler> h);
    ~ws_session() override;
    ws_session(const ws_session&) = delete;
    ws_session& operator=(const ws_session&) = delete;

    /// Writes `handshake` (the 101), calls on_open, then reads; `already_read` are bytes the
    /// HTTP session read past the request (frames a client sent right away). Call once, on
    /// the socket's context.
    void start(std::string handshake, std::string_view already_read);

    // ws_connection
    [[nodiscard]] boost::asio::any_io_executor executor() const override { return exec_; }
    send_result send(core::shared_bytes frame) override;
    void cork() override { corked_ = true; }
    void uncork() override;
    void close(std::uint16_t code, std::string reason) override;
    [[nodiscard]] std::size_t queued_bytes() const override { return queued_bytes_; }
    [[nodiscard]] std::uint64_t id() const override { return id_; }
    [[nodiscard]] const std::string& remote() const override { return remote_; }

  private:
    using clock = std::chrono::steady_clock;
    enum class phase {
        open,    // messages flow
        closing, // a close frame is queued or sent (ours or the echo of theirs)
        closed,  // the socket is closed
    };

    void read();
    void on_read(const boost::system::error_code& ec, std::size_t n);
    void process();
    void on_event(codec::websocket::event& e, std::size_t& messages);
    void on_peer_close(std::uint16_t code, const std::string& reason);

    void queue_control(std::string frame);
    void schedule_flush();
    void flush();
    void wait_writable();
    void consume(std::size_t n, std::size_t& frames, std::size_t& bytes);
    void on_close_written();

    /// Starts the closing handshake with our close frame after what is queued.
    /// `then_disconnect`: do not wait for the peer's close (the connection failed, §7.1.7).
    void begin_close(std::uint16_t code, std::string reason, bool then_disconnect);
    void slow_consumer(std::string_view which);
    /// Drops every queued frame that has not started writing (the 101 excepted).
    void drop_unstarted();
    void shutdown_send();
    /// Closes the socket now; on_close(code) if the handler has not had it yet.
    void terminate(std::uint16_t code, std::string_view reason);
    void notify_close(std::uint16_t code, std::string_view reason);

    void arm(clock::time_point at);
    void on_timer();
    [[nodiscard]] std::optional<clock::time_point> next_deadline() const;

    boost::asio::ip::tcp::socket socket_;
    boost::asio::any_io_executor exec_;
    std::shared_ptr<ws_shared_state> shared_;
    std::shared_ptr<ws_handler> handler_; // reset once on_close ran
    codec::websocket::frame_reader reader_;
    std::uint64_t id_;
    std::string remote_;
    phase phase_ = phase::open;
    bool opened_ = false;     // on_open called
    bool notified_ = false;   // on_close called
    bool registered_ = false; // in shared_'s list

    // Read buffer: [0, in_len_) holds bytes not yet consumed by the reader.
    std::unique_ptr<char[]> in_;
    std::size_t in_cap_ = 0;
    std::size_t in_len_ = 0;

    // Send queue: current_ (a frame partly written, from current_offset_), then control_,
    // then queue_. queued_bytes_ counts every byte not yet written.
    core::shared_bytes current_;
    std::size_t current_offset_ = 0;
    std::vector<core::shared_bytes> control_; // usually empty: owns no memory then
    std::deque<core::shared_bytes> queue_;
    std::size_t queued_bytes_ = 0;
    const std::string* handshake_ = nullptr; // the 101 while queued: not counted as a frame
    bool flush_posted_ = false;
    bool corked_ = false;        // cork(): sends queue, uncork() writes
    bool write_waiting_ = false; // waiting for the socket to become writable

    // Closing.
    bool close_queued_ = false;
    bool close_written_ = false;
    bool peer_closed_ = false;
    bool disconnect_after_close_ = false;
    bool fin_sent_ = false;

    // Deadlines, all served by timer_.
    boost::asio::steady_timer timer_;
    std::uint64_t timer_seq_ = 0; // identifies the current wait; stale completions are ignored
    bool timer_pending_ = false;
    clock::time_point timer_at_;
    clock::time_point last_rx_;
    bool ping_outstanding_ = false;
    clock::time_point ping_sent_at_;
    std::optional<clock::time_point> soft_since_; // queued_bytes_ above the soft limit since
    clock::time_point write_wait_since_;
    clock::time_point closing_deadline_;
};

} // namespace livehouse::net
