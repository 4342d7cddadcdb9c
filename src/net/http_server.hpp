// The HTTP/1.1 server: a tcp_listener feeding http_sessions (one per connection, on one io_pool
// context for its life), routing through a router and applying the generic rules listed in
// http_types.hpp.
//
// Limits (http_limits): request header and body sizes (431 / 413, then the connection closes),
// a read deadline per request, an idle deadline between keep-alive requests, and a write
// deadline for a response (slow readers are dropped, not waited on). One request is in flight
// per connection; pipelined requests are read after the previous response is written, so they
// are answered in order.
//
// WebSocket routes (router::add_websocket): an accepted upgrade hands the connection to a
// ws_session (ws_types.hpp); it then counts in ws_open_connections / open_websockets(), no
// longer in http_open_connections. stop() closes every WebSocket with 1001 (going away).
//
// Metrics: http_requests_total{route,status}, http_request_duration_seconds{route} (request
// fully read -> response ready to write: handler latency, not the client's download time),
// http_open_connections; ws_open_connections, ws_messages_received_total, ws_frames_sent_total,
// ws_bytes_sent_total, ws_slow_consumer_drops_total, ws_protocol_errors_total.
#pragma once

#include "core/metrics.hpp"
#include "core/result.hpp"
#include "net/io_pool.hpp"
#include "net/router.hpp"
#include "net/tcp_listener.hpp"
#include "net/ws_types.hpp"

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace livehouse::net {

struct http_limits {
    std::size_t max_body_bytes = 1024 * 1024;
    std::size_t max_header_bytes = 16 * 1024;
    /// From the first byte wanted until a request (header and body) is read.
    std::chrono::milliseconds read_timeout{std::chrono::seconds(30)};
    /// Waiting for the next request on a kept-alive connection.
    std::chrono::milliseconds idle_timeout{std::chrono::seconds(60)};
    /// Writing one response.
    std::chrono::milliseconds write_timeout{std::chrono::seconds(60)};
};

struct http_server_options {
    std::string address = "0.0.0.0";
    std::uint16_t port = 8080; ///< 0: the kernel picks; see http_server::port()
    http_limits limits;
    std::string server_header = "livehouse"; ///< the Server header value
    ws_limits websocket{};                   ///< for connections upgraded on websocket routes
};

struct ws_shared_state;

/// State every session of one server shares (read-only but for the counters).
struct http_shared_state {
    std::shared_ptr<const router> routes;
    http_limits limits;
    std::string server_header;
    core::counter_family& requests;
    core::histogram_family& durations;
    core::gauge& open_gauge;
    std::atomic<std::size_t> open{0};
    std::atomic<bool> stopping{false};
    std::shared_ptr<ws_shared_state> ws;
};

class http_server {
  public:
    /// Binds the listener (not accepting yet). `routes` must be complete before start(); the
    /// registry must outlive the server and every session. Sessions live on pool contexts.
    /// Errors: the listener's bind errors, named "http: listen ADDR:PORT: ...".
    static core::result<std::unique_ptr<http_server>> bind(boost::asio::io_context& accept_context,
                                                           io_pool& pool,
                                                           std::shared_ptr<const router> routes,
                                                           core::metrics_registry& metrics,
                                                           http_server_options options);

    ~http_server();
    http_server(const http_server&) = delete;
    http_server& operator=(const http_server&) = delete;

    [[nodiscard]] std::uint16_t port() const { return listener_->port(); }
    /// Starts accepting connections.
    void start();
    /// Stops accepting; sessions close after their current response, WebSocket sessions get a
    /// close frame with 1001 (and their TCP connection ends within close_timeout). New
    /// upgrades are refused with 503. Thread-safe.
    void stop();
    /// HTTP connections (a WebSocket stops counting here once upgraded).
    [[nodiscard]] std::size_t open_connections() const { return shared_->open.load(); }
    [[nodiscard]] std::size_t open_websockets() const;

  private:
    http_server(std::shared_ptr<tcp_listener> listener, std::shared_ptr<http_shared_state> s);

    std::shared_ptr<tcp_listener> listener_;
    std::shared_ptr<http_shared_state> shared_;
};

} // namespace livehouse::net
