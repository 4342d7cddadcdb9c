// Builders for the messages an RTMP server sends, and parsers for the commands and data
// messages it receives (RTMP spec §5.4 protocol control, §6.2 user control, §7.2 commands).
//
// Builders are pure: they return a message (payload in a fresh shared buffer) on the chunk
// stream and message stream the spec or common practice puts it; the session serializes it with
// its chunk_writer. Parsers decode AMF0 with the given limits and never throw.
#pragma once

#include "codec/rtmp/amf0.hpp"
#include "codec/rtmp/message.hpp"
#include "core/bytes.hpp"
#include "core/result.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace livehouse::codec::rtmp {

/// §5.4.5 Set Peer Bandwidth limit type.
enum class peer_bandwidth_limit : std::uint8_t { hard = 0, soft = 1, dynamic = 2 };

/// §6.2 user control event types.
enum class user_control_event : std::uint16_t {
    stream_begin = 0,
    stream_eof = 1,
    stream_dry = 2,
    set_buffer_length = 3,
    stream_is_recorded = 4,
    ping_request = 6,
    ping_response = 7,
};

// NetConnection / NetStream status codes (§7.2.1.1, §7.2.2.6 and what clients match on).
inline constexpr std::string_view code_connect_success = "NetConnection.Connect.Success";
inline constexpr std::string_view code_connect_rejected = "NetConnection.Connect.Rejected";
inline constexpr std::string_view code_publish_start = "NetStream.Publish.Start";
inline constexpr std::string_view code_publish_bad_name = "NetStream.Publish.BadName";
inline constexpr std::string_view code_unpublish_success = "NetStream.Unpublish.Success";

// --- protocol control (§5.4): message stream 0, chunk stream 2 ---

/// §5.4.1 Set Chunk Size. Precondition: 1 <= size <= 0x7FFFFFFF.
message make_set_chunk_size(std::uint32_t size);
/// §5.4.3 Acknowledgement: the bytes received so far (modulo 2^32).
message make_acknowledgement(std::uint32_t sequence);
/// §5.4.4 Window Acknowledgement Size.
message make_window_ack_size(std::uint32_t size);
/// §5.4.5 Set Peer Bandwidth.
message make_set_peer_bandwidth(std::uint32_t size, peer_bandwidth_limit limit);
/// §6.2 User Control "Stream Begin" for `stream_id`, sent before replying on a new stream.
message make_stream_begin(std::uint32_t stream_id);
/// §6.2 User Control "PingResponse" echoing the client's PingRequest timestamp.
message make_ping_response(std::uint32_t timestamp);

// --- AMF0 commands (§7.2), type 20 ---

/// A command message from already-built values, on `stream_id` / `csid`.
message make_command(std::uint32_t stream_id, std::uint32_t csid,
                     std::span<const amf0_value> values);
/// §7.2.1.1 connect response: "_result", transaction id, properties {fmsVer, capabilities},
/// information {level "status", code NetConnection.Connect.Success, description,
/// objectEncoding}.
message make_connect_result(double transaction_id, double object_encoding = 0);
/// §7.2.1.3 createStream response: "_result", transaction id, null, stream id.
message make_create_stream_result(double transaction_id, std::uint32_t stream_id);
/// A bare "_result", transaction id, null: the answer clients expect to releaseStream and
/// FCPublish (not in the spec; FMS answers them and some encoders wait for it).
message make_result(double transaction_id);
/// "_error", transaction id, null, {level "error", code, description}: a refused call.
message make_error_result(double transaction_id, std::string_view code,
                          std::string_view description);
/// §7.2.2 "onStatus", 0, null, {level, code, description} on NetStream `stream_id`.
message make_on_status(std::uint32_t stream_id, std::string_view level, std::string_view code,
                       std::string_view description);
/// "onFCPublish", 0, null, {code, description}: the FMS reply to FCPublish that FMLE-style
/// encoders wait for (on the NetConnection).
message make_on_fc_publish(std::string_view code, std::string_view description);

// --- parsing what the client sends ---

/// A decoded command: §7.1.1 "command name, transaction ID, and command object that contains
/// related parameters", then optional arguments.
struct command {
    std::string name;
    double transaction_id = 0;
    amf0_value object; ///< null when the client sent null (all commands but connect)
    std::vector<amf0_value> args;
};

/// Decodes an AMF0 command payload. Errors: malformed AMF0, or a first value that is not a
/// string (the name). A missing transaction id or object defaults to 0 / null.
core::result<command> parse_command(core::bytes_view payload, const amf0_limits& limits = {});

/// The metadata object of an AMF0 data message: ["@setDataFrame", "onMetaData", {..}] (what
/// encoders send) or ["onMetaData", {..}] (what servers forward); the value is an object or
/// ECMA array. nullopt for any other data message (onCuePoint, onTextData, ...) or an
/// onMetaData without an object. Errors: malformed AMF0 only.
core::result<std::optional<amf0_value>> parse_metadata(core::bytes_view payload,
                                                       const amf0_limits& limits = {});

/// A §6.2 user control message: event type and its first 4-byte field (stream id or timestamp).
struct user_control {
    user_control_event event = user_control_event::stream_begin;
    std::uint32_t value = 0;
};
core::result<user_control> parse_user_control(core::bytes_view payload);

/// §7.1.6 Aggregate message: the FLV-tag-framed sub-messages it carries (each "Header" of 11
/// bytes, "Message Data", "Back Pointer" of 4), as messages of their own on `agg`'s chunk
/// stream and message stream ("The message stream ID of the aggregate message overrides the
/// message stream IDs of the sub-messages"), with timestamps renormalized: "The difference
/// between the timestamps of the aggregate message and the first sub-message is the offset used
/// to renormalize the timestamps of the sub-messages". Payloads are copied out.
/// Errors: a sub-message header or body that overruns the payload.
core::result<std::vector<message>> split_aggregate(const message& agg);

} // namespace livehouse::codec::rtmp
