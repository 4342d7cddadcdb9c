// RTMP ingest service: session factory, shutdown and metrics.
#include "services/ingest/rtmp_server.hpp"

#include "services/ingest/rtmp_session.hpp"

#include <mutex>
#include <vector>

namespace livehouse::services::ingest {

rtmp_server::rtmp_server(media::broadcast_registry& registry, ingest_config config)
    : ctx_(std::make_shared<ingest_context>(registry, std::move(config))) {}

rtmp_server::~rtmp_server() = default;

void rtmp_server::accept(boost::asio::ip::tcp::socket socket) {
    std::make_shared<rtmp_session>(std::move(socket), ctx_)->start();
}

void rtmp_server::close_all() {
    std::vector<std::shared_ptr<rtmp_session>> open;
    {
        std::lock_guard lock(ctx_->mutex);
        for (auto& [id, weak] : ctx_->sessions) {
            if (auto s = weak.lock()) {
                open.push_back(std::move(s));
            }
        }
    }
    // Outside the lock: a session's destructor takes it.
    for (auto& s : open) {
        s->close_async("server shutting down");
    }
}

std::size_t rtmp_server::session_count() const {
    std::lock_guard lock(ctx_->mutex);
    return ctx_->sessions.size();
}

const ingest_counters& rtmp_server::counters() const {
    return ctx_->counters;
}
const ingest_config& rtmp_server::config() const {
    return ctx_->config;
}

void rtmp_server::register_metrics(core::metrics_registry& metrics) const {
    struct metric_def {
        const char* name;
        const char* help;
        double (*read)(const ingest_counters&);
        bool counter = true; ///< false: a level that goes up and down
    };
    static constexpr metric_def defs[] = {
        {"rtmp_connections_accepted_total", "RTMP connections accepted since start.",
         [](const ingest_counters& c) {
             return static_cast<double>(c.connections_accepted.load());
         }},
        {"rtmp_connections_open", "RTMP connections open now.",
         [](const ingest_counters& c) { return static_cast<double>(c.connections_open.load()); },
         false},
        {"rtmp_received_bytes_total", "Bytes received from RTMP publishers since start.",
         [](const ingest_counters& c) { return static_cast<double>(c.bytes_received.load()); }},
        {"rtmp_publishes_accepted_total", "Publish requests answered NetStream.Publish.Start.",
         [](const ingest_counters& c) { return static_cast<double>(c.publishes_accepted.load()); }},
        {"rtmp_publishes_refused_total",
         "Publish requests refused (unknown key, already live, ...).",
         [](const ingest_counters& c) { return static_cast<double>(c.publishes_refused.load()); }},
        {"rtmp_publishing", "RTMP sessions feeding a live broadcast now.",
         [](const ingest_counters& c) { return static_cast<double>(c.publishing.load()); }, false},
        {"rtmp_frames_total", "Media frames handed to broadcasts since start.",
         [](const ingest_counters& c) { return static_cast<double>(c.frames.load()); }},
        {"rtmp_media_errors_total", "Audio/video tags dropped as malformed or unsupported.",
         [](const ingest_counters& c) { return static_cast<double>(c.media_errors.load()); }},
        {"rtmp_protocol_errors_total", "RTMP sessions closed for a protocol violation.",
         [](const ingest_counters& c) { return static_cast<double>(c.protocol_errors.load()); }},
        {"rtmp_timeouts_total", "RTMP sessions closed by a handshake, idle or publish timeout.",
         [](const ingest_counters& c) { return static_cast<double>(c.timeouts.load()); }},
    };
    for (const auto& d : defs) {
        auto read = [ctx = ctx_, r = d.read] { return r(ctx->counters); };
        if (d.counter) {
            metrics.add_callback_counter(d.name, d.help, std::move(read));
        } else {
            metrics.add_callback_gauge(d.name, d.help, std::move(read));
        }
    }
}

} // namespace livehouse::services::ingest
