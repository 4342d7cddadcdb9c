// What a chat client sends over the WebSocket (docs/API.md, "Chat protocol"), parsed with
// explicit limits. Sans-I/O: text in, a command or a refusal out; the caller turns a refusal
// into {"type":"error","code":...,"message":...} for the sender and keeps the connection.
//
//   {"type":"send","text":"hello","ref":"c-17"}   ref: optional, echoed in the ack or error
//
// Limits: the whole message <= max_message_bytes, nesting <= 4, text 1..max_text_chars code
// points after trimming, no control characters but newline; ref <= 64 printable ASCII bytes.
// Unknown fields are ignored (newer clients), an unknown type is refused.
#pragma once

#include "core/result.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>

namespace livehouse::codec::chat {

struct client_limits {
    std::size_t max_message_bytes = 4096;
    std::size_t max_text_chars = 500;
    std::size_t max_ref_bytes = 64;
};

enum class command_kind { send };

struct client_command {
    command_kind kind = command_kind::send;
    std::string text; ///< trimmed, validated UTF-8
    std::string ref;  ///< client's own id for this command; may be empty
};

/// A refusal: `code` is a stable machine-readable word, `message` says why for people.
struct refusal {
    std::string code; ///< bad_json, bad_message, unknown_type, text_empty, text_too_long, ...
    std::string message;
    std::string ref; ///< the ref of the command, when it could be read
};

/// Parses one client message. Never throws.
std::variant<client_command, refusal> parse_client_message(std::string_view text,
                                                           const client_limits& limits = {});

/// Code points in valid UTF-8 `s` (counts lead bytes).
std::size_t utf8_length(std::string_view s);

} // namespace livehouse::codec::chat
