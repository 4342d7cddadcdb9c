// One RTMP message as the chunk stream carries it (RTMP spec §5.3: "message type id", "message
// stream id", timestamp, payload), plus the message type ids (RTMP spec §5.4, §6.2, §7.1).
//
// The chunk reader produces these and the chunk writer consumes them. The payload is immutable
// and ref-counted, so handing a message on costs no copy.
#pragma once

#include "core/bytes.hpp"

#include <cstdint>

namespace livehouse::codec::rtmp {

/// Message type ids. The enum has a fixed underlying type, so any byte read off the wire is a
/// valid value: unknown ids are kept, not rejected.
enum class message_type : std::uint8_t {
    set_chunk_size = 1,     ///< RTMP spec §5.4.1
    abort = 2,              ///< §5.4.2
    acknowledgement = 3,    ///< §5.4.3
    user_control = 4,       ///< §6.2 (user control events: Stream Begin, Ping, ...)
    window_ack_size = 5,    ///< §5.4.4
    set_peer_bandwidth = 6, ///< §5.4.5
    audio = 8,              ///< §7.1.4 (FLV audio tag body)
    video = 9,              ///< §7.1.5 (FLV video tag body)
    data_amf3 = 15,         ///< §7.1.2
    shared_object_amf3 = 16,
    command_amf3 = 17, ///< §7.1.1
    data_amf0 = 18,    ///< §7.1.2 (@setDataFrame / onMetaData)
    shared_object_amf0 = 19,
    command_amf0 = 20, ///< §7.1.1 (connect, createStream, publish, ...)
    aggregate = 22,    ///< §7.1.6
};

/// Chunk stream ids the server writes on. RTMP spec §5.4: "Protocol control messages MUST have
/// message stream ID 0 ... and be sent in chunk stream ID 2."
inline constexpr std::uint32_t control_csid = 2;
/// Commands on the NetConnection (connect/_result ...), as nginx-rtmp and ffmpeg do.
inline constexpr std::uint32_t command_csid = 3;
/// onStatus on a NetStream.
inline constexpr std::uint32_t stream_status_csid = 5;

struct message {
    message_type type = message_type::command_amf0;
    std::uint32_t stream_id = 0; ///< message stream id (0: NetConnection)
    /// Milliseconds, widened to 64 bits by the reader (32-bit wrap and extended timestamps
    /// handled); the writer sends it modulo 2^32.
    std::int64_t timestamp_ms = 0;
    std::uint32_t csid = command_csid; ///< chunk stream it arrived on / is to be sent on
    core::shared_bytes payload;        ///< never null for messages out of the reader

    /// The payload bytes (empty when payload is null). Valid while this message (or another
    /// owner of the payload) lives.
    [[nodiscard]] core::bytes_view bytes() const {
        return payload ? core::as_bytes(*payload) : core::bytes_view{};
    }
};

} // namespace livehouse::codec::rtmp
