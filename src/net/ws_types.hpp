// The contract between the WebSocket server side (net) and the services that own connections
// (chat). A route registered with router::add_websocket gets the upgrade request; it answers
// with a handler for the new connection (accept) or an HTTP response (refuse: 401, 404, ...).
// The session then does the RFC 6455 §4.2.2 handshake, reads frames with
// codec::websocket::frame_reader and writes from a bounded send queue.
//
// Threading: a connection lives on one event-loop thread for its life. Every ws_handler call
// runs there, and send() must be called there too (post to executor() from elsewhere): the
// chat service fans a message out per thread, so one post reaches every connection of a room
// on that thread, and a send is a push onto a queue, with no lock and no copy.
//
// Slow consumers (Redis's client-output-buffer-limit, "hard soft seconds"): the send queue
// holds shared, pre-encoded frames. Past `send_hard_limit_bytes` queued, or past
// `send_soft_limit_bytes` for longer than `send_soft_limit_time`, the connection is closed
// (1008, "too slow"), its queue freed: memory stays bounded whatever a client does.
#pragma once

#include "core/bytes.hpp"
#include "net/http_types.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <variant>

namespace livehouse::net {

struct ws_limits {
    std::size_t max_message_bytes = 16 * 1024; ///< inbound; more closes with 1009
    std::size_t send_soft_limit_bytes = 256 * 1024;
    std::chrono::milliseconds send_soft_limit_time{std::chrono::seconds(10)};
    std::size_t send_hard_limit_bytes = 1024 * 1024;
    /// A ping after this long without any frame from the client; closed if the next interval
    /// passes without one either (a dead peer is noticed, idle sockets are not kept forever).
    std::chrono::milliseconds ping_interval{std::chrono::seconds(30)};
    /// Waiting for the client's close frame after ours, and for each write to progress.
    std::chrono::milliseconds close_timeout{std::chrono::seconds(5)};
};

enum class send_result {
    queued,  ///< on its way
    dropped, ///< the queue passed a limit: the connection is closing, the frame was not queued
    closed,  ///< the connection is already closing or closed
};

/// One accepted connection as a service sees it.
class ws_connection {
  public:
    virtual ~ws_connection() = default;
    /// The connection's thread. send() and queued_bytes() are called on it only.
    [[nodiscard]] virtual boost::asio::any_io_executor executor() const = 0;
    /// Queues one pre-encoded frame (codec::websocket::encode_frame, role::server): shared
    /// bytes, written as they are, never copied. Checks the limits above.
    virtual send_result send(core::shared_bytes frame) = 0;
    /// Between cork() and uncork() sends are only queued; uncork() writes them at once, in
    /// one write, instead of at the end of the event loop's turn (a fan-out of a batch to
    /// thousands of connections then costs no posted handler per connection). uncork() may
    /// end the connection (a write error): the handler's on_close runs inside it.
    virtual void cork() {}
    virtual void uncork() {}
    /// Starts the closing handshake (RFC 6455 §7.1.2) after what is queued. Any thread.
    virtual void close(std::uint16_t code, std::string reason) = 0;
    [[nodiscard]] virtual std::size_t queued_bytes() const = 0;
    /// Unique within the process (log lines, metrics).
    [[nodiscard]] virtual std::uint64_t id() const = 0;
    /// The peer's address ("127.0.0.1:54321"), for rate limits and logs.
    [[nodiscard]] virtual const std::string& remote() const = 0;
};

/// What a service gives for one connection. Calls come on the connection's thread, in order:
/// on_open once, on_message for each text message, on_close once (whatever ended it).
class ws_handler {
  public:
    virtual ~ws_handler() = default;
    /// The handshake is written. Keep `c` to send; drop it in on_close (no cycle remains).
    virtual void on_open(std::shared_ptr<ws_connection> c) = 0;
    /// A whole text message (valid UTF-8, within max_message_bytes). Binary messages are
    /// refused by the session (1003) without reaching the handler.
    virtual void on_message(std::string_view text) = 0;
    /// `code` as sent by the peer or chosen by the session (1006 when the TCP connection
    /// ended without a close frame).
    virtual void on_close(std::uint16_t code, std::string_view reason) = 0;
};

/// Accept (a handler) or refuse (an HTTP response, sent instead of 101).
using ws_decision = std::variant<std::shared_ptr<ws_handler>, response>;

/// Decides on an upgrade request synchronously, on the session's thread (no blocking calls:
/// token checks are CPU only). `exec` is the thread the connection will live on.
using ws_route_handler =
    std::function<ws_decision(const request&, const route_params&, std::string_view query,
                              boost::asio::any_io_executor exec)>;

} // namespace livehouse::net
