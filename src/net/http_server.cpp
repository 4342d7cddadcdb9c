// http_server: binds the listener, registers the HTTP metrics, spawns a session per connection.
#include "net/http_server.hpp"

#include "net/http_session.hpp"
#include "net/ws_session.hpp"

namespace livehouse::net {

http_server::http_server(std::shared_ptr<tcp_listener> listener,
                         std::shared_ptr<http_shared_state> s)
    : listener_(std::move(listener)), shared_(std::move(s)) {}

http_server::~http_server() {
    stop();
}

core::result<std::unique_ptr<http_server>>
http_server::bind(boost::asio::io_context& accept_context, io_pool& pool,
                  std::shared_ptr<const router> routes, core::metrics_registry& metrics,
                  http_server_options options) {
    auto listener = tcp_listener::bind(accept_context, pool, "http", options.address, options.port);
    if (!listener) {
        return listener.err();
    }
    auto& requests = metrics.add_counter_family(
        "http_requests_total", "HTTP responses written, by route and status.", {"route", "status"});
    auto& durations = metrics.add_histogram_family(
        "http_request_duration_seconds",
        "Time from a request fully read to its response ready to write, by route.", {"route"},
        core::default_latency_buckets());
    auto& open_gauge =
        metrics.add_gauge("http_open_connections", "HTTP connections currently open.");
    auto shared =
        std::shared_ptr<http_shared_state>(new http_shared_state{std::move(routes),
                                                                 options.limits,
                                                                 std::move(options.server_header),
                                                                 requests,
                                                                 durations,
                                                                 open_gauge,
                                                                 {},
                                                                 {},
                                                                 nullptr});
    shared->ws = std::make_shared<ws_shared_state>(options.websocket, metrics);
    return std::unique_ptr<http_server>(new http_server(std::move(*listener), std::move(shared)));
}

void http_server::start() {
    listener_->start([s = shared_](boost::asio::ip::tcp::socket socket) {
        std::make_shared<http_session>(std::move(socket), s)->start();
    });
}

void http_server::stop() {
    shared_->stopping.store(true);
    listener_->stop();
    shared_->ws->close_all(codec::websocket::close_code::going_away, "server shutting down");
}

std::size_t http_server::open_websockets() const {
    return shared_->ws->open.load();
}

} // namespace livehouse::net
