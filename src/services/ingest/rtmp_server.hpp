// The RTMP ingest service: takes the connections the RTMP listener accepts and runs one
// rtmp_session per connection on the io_context the listener handed it to.
//
// Wiring (src/server/app.cpp):
//     auto ingest = std::make_shared<services::ingest::rtmp_server>(*registry_, ingest_cfg);
//     ingest->register_metrics(metrics_);
//     rtmp_->start([ingest](tcp::socket s) { ingest->accept(std::move(s)); });
//     ...shutdown: rtmp_->stop(); ingest->close_all(); registry_->shutdown(); ...
//
// Threading: accept() runs on the socket's own io_context (as tcp_listener calls it);
// counters(), close_all() and session_count() are thread-safe.
#pragma once

#include "core/metrics.hpp"
#include "media/broadcast.hpp"
#include "services/ingest/ingest_config.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <cstddef>
#include <memory>

namespace livehouse::services::ingest {

struct ingest_context;

class rtmp_server {
  public:
    /// `registry` must outlive this service and every session it starts (sessions end with
    /// their io_context at the latest).
    rtmp_server(media::broadcast_registry& registry, ingest_config config);
    ~rtmp_server();
    rtmp_server(const rtmp_server&) = delete;
    rtmp_server& operator=(const rtmp_server&) = delete;

    /// Starts a session on `socket`. Call on the socket's executor thread.
    void accept(boost::asio::ip::tcp::socket socket);

    /// Closes every open session (each ends its publish: the broadcast goes suspended).
    /// Asynchronous: each close runs on its session's thread.
    void close_all();

    /// Sessions currently open.
    [[nodiscard]] std::size_t session_count() const;

    [[nodiscard]] const ingest_counters& counters() const;
    [[nodiscard]] const ingest_config& config() const;

    /// Registers the counters as gauges named rtmp_* (read at scrape time). The metrics
    /// registry may outlive this service: the callbacks keep the counters alive.
    void register_metrics(core::metrics_registry& metrics) const;

  private:
    std::shared_ptr<ingest_context> ctx_;
};

} // namespace livehouse::services::ingest
