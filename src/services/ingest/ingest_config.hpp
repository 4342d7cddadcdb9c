// Configuration and counters of the RTMP ingest service (services/ingest).
#pragma once

#include "codec/rtmp/chunk_reader.hpp"

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace livehouse::services::ingest {

struct ingest_config {
    /// The only application name publishers may connect to (rtmp://host/<app>/<stream key>).
    std::string app = "live";
    /// Our outgoing chunk size, announced with Set Chunk Size right after connect.
    std::uint32_t chunk_size = 4096;
    /// Limits on what the publisher sends (chunk size, message length, chunk streams).
    codec::rtmp::chunk_limits limits{};
    /// Closes a connection that sends nothing for this long, and one whose handshake is not
    /// complete this long after accept.
    std::chrono::milliseconds timeout{10'000};
    /// Closes a connection that has not asked to publish this long after accept.
    std::chrono::milliseconds publish_timeout{30'000};
    /// The Window Acknowledgement Size we announce (the publisher acknowledges our bytes, which
    /// are few; the value mostly matters to clients that wait for it).
    std::uint32_t window_ack_size = 5'000'000;
    /// Outgoing bytes queued per session before it is closed. A publisher only receives acks
    /// and status messages, so anything near this means the peer stopped reading.
    std::size_t max_write_queue_bytes = 1024 * 1024;
};

/// Service-wide counters, updated by every session (relaxed atomics) and read by the server's
/// metrics. Lives as long as the longest-lived session (shared ownership).
struct ingest_counters {
    std::atomic<std::uint64_t> connections_accepted{0};
    std::atomic<std::int64_t> connections_open{0};
    std::atomic<std::uint64_t> bytes_received{0};
    std::atomic<std::uint64_t> publishes_accepted{0}; ///< answered NetStream.Publish.Start
    std::atomic<std::uint64_t> publishes_refused{0};  ///< answered NetStream.Publish.BadName
    std::atomic<std::int64_t> publishing{0};          ///< sessions feeding a live broadcast now
    std::atomic<std::uint64_t> frames{0};             ///< media frames handed to broadcasts
    std::atomic<std::uint64_t> media_errors{0};       ///< audio/video tags dropped as malformed
    std::atomic<std::uint64_t> protocol_errors{0};    ///< sessions closed for bad RTMP/AMF
    std::atomic<std::uint64_t> timeouts{0};           ///< sessions closed by a timeout
};

} // namespace livehouse::services::ingest
