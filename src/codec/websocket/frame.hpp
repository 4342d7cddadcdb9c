// WebSocket framing (RFC 6455 §5), sans-I/O: a reader that turns bytes into whole messages and
// control frames, and writers that encode frames.
//
// Why not Boost.Beast's websocket::stream for the frames: a chat message goes to thousands of
// connections. A server-to-client frame is unmasked (§5.1: "A server MUST NOT mask any frames
// that it sends to the client"), so its bytes are the same for every receiver: encode_frame()
// makes them once, and every connection's send queue holds the same shared bytes, written with
// one gather write for everything queued (Beast encodes and writes per connection and per
// message). The upgrade request is still parsed by Beast's HTTP parser in net/.
//
// Reader contract (role::server unless said):
// - §5.1: every client frame MUST be masked; an unmasked one is a protocol error (1002).
//   role::client is the opposite (the load client and tests read server frames).
// - §5.2: RSV1-3 must be 0 (no extension is negotiated); unknown opcodes fail (1002).
// - §5.4: fragmented messages are reassembled; control frames may come between fragments;
//   a continuation with no message started, or a new data frame inside one, fails (1002).
// - §5.5: control frames have payloads <= 125 bytes and are never fragmented (1002).
// - §5.5.1: a close payload is empty or a 2-byte code + UTF-8 reason; 1 byte or an invalid
//   code fails (1002).
// - §8.1: a text message must be valid UTF-8 (1007 otherwise), checked on the whole message.
// - limits: a message (all fragments together) over max_message_bytes fails with 1009 as soon
//   as the header announcing it is read, before its payload arrives; the payload length must
//   use the minimal encoding (§5.2) and fit 63 bits.
// - §5.5.1: after a close frame the peer sends nothing more; bytes after it are consumed and
//   ignored (closed() turns true).
// After an error the reader is dead: later feeds return the same error.
#pragma once

#include "core/bytes.hpp"
#include "core/parse_status.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace livehouse::codec::websocket {

enum class opcode : std::uint8_t {
    continuation = 0x0,
    text = 0x1,
    binary = 0x2,
    close = 0x8,
    ping = 0x9,
    pong = 0xA,
};

enum class role { server, client };

/// Close codes used here (RFC 6455 §7.4.1).
namespace close_code {
inline constexpr std::uint16_t normal = 1000;
inline constexpr std::uint16_t going_away = 1001;
inline constexpr std::uint16_t protocol_error = 1002;
inline constexpr std::uint16_t no_status = 1005; ///< never sent: a close frame without a code
inline constexpr std::uint16_t invalid_payload = 1007;
inline constexpr std::uint16_t policy_violation = 1008;
inline constexpr std::uint16_t too_big = 1009;
inline constexpr std::uint16_t internal_error = 1011;
} // namespace close_code

struct frame_limits {
    /// Largest message, all fragments together. Chat text is far smaller.
    std::size_t max_message_bytes = 16 * 1024;
    /// Most fragments one message may come in (bounds per-frame overhead a peer can cause).
    std::size_t max_fragments = 64;
};

/// One complete message or control frame, in arrival order.
struct event {
    opcode op = opcode::text; ///< text, binary, close, ping or pong (never continuation)
    std::string payload;      ///< the whole message; for close, the reason only
    std::uint16_t code = close_code::no_status; ///< close only
};

class frame_reader {
  public:
    explicit frame_reader(role r = role::server, frame_limits limits = {});

    /// Decodes every whole frame at the front of `in`; whole messages and control frames go
    /// to the output queue (drain with next()). Frames are consumed whole or not at all.
    /// Returns ok(n) / need_more(n) / fail(n, why) as core::feed_result describes (need_more:
    /// a partial frame remains after n bytes; the caller keeps in[n..] and feeds it again with
    /// more appended). On failure error_close_code() says which code to close with. A frame
    /// whose header already breaks a rule or a limit fails before its payload is there.
    /// `in` is not retained.
    core::feed_result feed(core::bytes_view in);
    /// The oldest decoded message or control frame, or nullopt.
    std::optional<event> next();
    [[nodiscard]] std::size_t queued() const { return out_.size() - out_head_; }
    /// A close frame was decoded: the reader consumes and ignores whatever follows.
    [[nodiscard]] bool closed() const { return closed_; }

    /// The close code an error calls for (1002, 1007 or 1009); 0 while healthy.
    [[nodiscard]] std::uint16_t error_close_code() const { return error_code_; }
    [[nodiscard]] const std::string& error() const { return error_; }
    /// Bytes held for a message still arriving (its earlier fragments).
    [[nodiscard]] std::size_t partial_bytes() const { return partial_.size(); }
    /// Gives back the memory of the partial-message buffer and of the drained output queue
    /// once they are idle (idle connections should cost little).
    void shrink();

  private:
    core::feed_result fail(std::size_t consumed, std::uint16_t code, std::string why);
    /// Handles one whole, unmasked frame; false after fail().
    bool deliver(opcode op, bool fin, std::string payload, std::size_t pos);

    role role_;
    frame_limits limits_;
    // A vector and a read index instead of a deque: an empty vector owns no memory, while a
    // libstdc++ deque allocates its first block at construction (about 600 bytes per
    // connection, idle or not).
    std::vector<event> out_;
    std::size_t out_head_ = 0;
    std::string partial_;
    std::optional<opcode> partial_op_;
    std::size_t fragments_ = 0;
    bool closed_ = false;
    std::string error_;
    std::uint16_t error_code_ = 0;
};

/// A whole unfragmented frame. role::server: unmasked. role::client: masked with `mask_key`
/// (callers pass 4 random bytes; RFC 6455 §5.3 wants them unpredictable). The payload length
/// uses the minimal encoding. Precondition: a control frame's payload is <= 125 bytes
/// (asserted).
std::string encode_frame(opcode op, std::string_view payload, role r = role::server,
                         std::uint32_t mask_key = 0);
/// A close frame with `code` and `reason` (truncated to fit 125 bytes).
std::string encode_close(std::uint16_t code, std::string_view reason, role r = role::server,
                         std::uint32_t mask_key = 0);

/// RFC 6455 §4.2.2: base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")).
std::string accept_key(std::string_view sec_websocket_key);

/// True when `s` is valid UTF-8 (RFC 3629: no overlongs, no surrogates, <= U+10FFFF).
bool valid_utf8(std::string_view s);

/// RFC 6455 §4.2.1 item 5: a Sec-WebSocket-Key is "a base64-encoded value that, when decoded,
/// is 16 bytes in length" (24 characters, the last two "==").
bool valid_client_key(std::string_view sec_websocket_key);

/// RFC 6455 §7.4: a code a peer may send in a close frame (1000-1003, 1007-1014, 3000-4999;
/// never 1004-1006 or 1015).
bool valid_close_code(std::uint16_t code);

} // namespace livehouse::codec::websocket
