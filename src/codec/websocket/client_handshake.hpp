// The client's side of the WebSocket opening handshake (RFC 6455 §4.1), sans-I/O: the upgrade
// request a client sends, and the check of the server's answer. The load tester's chat clients
// use it; the server's side is in net/ws_session.
//
// The answer is checked as §4.1 says a client MUST ("If the status code received from the
// server is not 101 ... If the response lacks an |Upgrade| header field or the |Upgrade| header
// field contains a value that is not an ASCII case-insensitive match for the value "websocket"
// ... If the response lacks a |Connection| header field or the |Connection| header field doesn't
// contain a token that is an ASCII case-insensitive match for the value "Upgrade" ... If the
// response lacks a |Sec-WebSocket-Accept| header field or the |Sec-WebSocket-Accept| contains a
// value other than the base64-encoded SHA-1 of the concatenation of the |Sec-WebSocket-Key| (as
// a string, not base64-decoded) with the string "258EAFA5-E914-47DA-95CA-C5AB0DC85B11" ... the
// client MUST _Fail the WebSocket Connection_"), and an extension or subprotocol the client did
// not offer fails it too (it offers none).
//
// Limits: the head is at most max_head_bytes (16 KiB); a longer one fails.
#pragma once

#include "core/parse_status.hpp"

#include <cstddef>
#include <string>
#include <string_view>

namespace livehouse::codec::websocket {

inline constexpr std::size_t max_head_bytes = 16 * 1024;

/// `GET target HTTP/1.1` with Host, Upgrade, Connection, Sec-WebSocket-Key (`key`: 16 random
/// bytes, base64) and Sec-WebSocket-Version 13, and `extra` header lines ("Name: value\r\n"...).
std::string client_handshake_request(std::string_view host, std::string_view target,
                                     std::string_view key, std::string_view extra = {});

struct handshake_answer {
    core::feed_result result; ///< ok(n): the head was n bytes; what follows is WebSocket frames
    int status = 0;           ///< the status code, once the status line is read (0 before)
};

/// Checks the server's answer at the front of `in` against the `key` the request sent.
/// need_more while the head is incomplete (and under the limit).
handshake_answer check_handshake_answer(std::string_view in, std::string_view key);

} // namespace livehouse::codec::websocket
