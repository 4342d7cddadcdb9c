// The composition root of `livehouse serve`: builds every part from the config, binds the
// listeners, wires the services, runs until SIGINT/SIGTERM, and shuts down in order.
//
// Start-up order: data dir (created, checked writable) -> admin token -> SQLite store -> file
// I/O pool -> broadcast registry (+ restore, + observer -> store) -> io_pool -> HTTP and RTMP
// listeners bound (real ports known, even with port 0) -> services register routes -> accept ->
// "livehouse listening ..." + ready file. Any failure returns an error naming its cause; nothing
// is left half-started (the destructor tears down whatever was built).
//
// Shutdown order (shutdown()): stop accepting -> disconnect publishers -> registry.shutdown()
// (every live broadcast's playlist finalized, archive written) -> drain the file I/O pool ->
// stop and join the io threads -> flush and close the store.
#pragma once

#include "core/clock.hpp"
#include "core/metrics.hpp"
#include "core/result.hpp"
#include "media/broadcast.hpp"
#include "net/http_server.hpp"
#include "net/io_pool.hpp"
#include "net/router.hpp"
#include "net/tcp_listener.hpp"
#include "server/config.hpp"
#include "services/chat/chat_service.hpp"
#include "services/edge/edge_service.hpp"
#include "services/ingest/rtmp_server.hpp"
#include "services/love/love_service.hpp"
#include "services/service_context.hpp"
#include "state/backends.hpp"
#include "state/broadcast_store.hpp"

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace livehouse::server {

/// Reads <data_dir>/admin.token, or creates it (32 random bytes as hex, mode 0600) when
/// absent. `generated` tells the caller to print it once. Errors: unreadable, empty, or
/// uncreatable file.
core::result<std::string> load_or_create_admin_token(const std::string& data_dir, bool& generated);

/// Writes `text` to `path` atomically (a temporary file in the same directory, then rename).
core::result<void> write_file_atomically(const std::string& path, const std::string& text);

class app {
  public:
    /// Builds and starts everything; returns once both listeners accept connections.
    /// `ready_file`: where to write {"http_port","rtmp_port","pid"} once listening ("": none).
    static core::result<std::unique_ptr<app>> start(config cfg, std::string ready_file);

    ~app();
    app(const app&) = delete;
    app& operator=(const app&) = delete;

    /// Runs the main thread's loop (signals, the 1 s registry tick) until SIGINT/SIGTERM or
    /// request_stop(), then shuts down. Returns the exit code (0).
    int run();
    /// Makes run() return (thread-safe).
    void request_stop();
    /// The ordered shutdown; idempotent (the destructor calls it).
    void shutdown();

    [[nodiscard]] std::uint16_t http_port() const { return http_port_; }
    [[nodiscard]] std::uint16_t rtmp_port() const { return rtmp_port_; }
    [[nodiscard]] core::metrics_registry& metrics() { return metrics_; }

  private:
    explicit app(config cfg);
    core::result<void> build(const std::string& ready_file);
    /// [server] role = "edge": the HTTP listener, /healthz, /metrics and the edge cache; no
    /// data dir, no state, no RTMP.
    core::result<void> build_edge(const std::string& ready_file);
    [[nodiscard]] net::http_server_options http_options() const;
    /// /healthz, /metrics and livehouse_build_info: every role has them.
    void add_operator_routes();
    [[nodiscard]] core::result<void> write_ready_file(const std::string& ready_file) const;
    void schedule_tick();

    config cfg_;
    core::system_clock clock_;
    core::metrics_registry metrics_;
    std::unique_ptr<state::broadcast_store> store_;
    std::unique_ptr<state::backends> state_; ///< shared state, as [state] configures it
    std::unique_ptr<boost::asio::thread_pool> file_pool_;
    std::unique_ptr<media::broadcast_registry> registry_;
    std::unique_ptr<net::io_pool> pool_;
    boost::asio::io_context main_ctx_{1};
    boost::asio::steady_timer tick_timer_{main_ctx_};
    std::shared_ptr<net::router> router_;
    std::unique_ptr<services::service_context> services_;
    std::shared_ptr<services::chat::chat_service> chat_;
    std::shared_ptr<services::cluster::broadcast_clocks> clocks_;
    std::shared_ptr<services::love::love_service> love_;
    std::shared_ptr<services::edge::edge_service> edge_;
    std::unique_ptr<net::http_server> http_;
    std::shared_ptr<net::tcp_listener> rtmp_;
    std::shared_ptr<services::ingest::rtmp_server> ingest_;
    std::uint16_t http_port_ = 0;
    std::uint16_t rtmp_port_ = 0;
    bool shut_down_ = false;
};

} // namespace livehouse::server
