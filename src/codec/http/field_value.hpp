// Small pieces of HTTP field syntax (RFC 9110 §5.6) that every reader of header fields needs:
// the response reader, the WebSocket handshakes on both sides, the conditional and range rules.
// One definition here instead of one per file.
#pragma once

#include <string_view>

namespace livehouse::codec::http {

/// ASCII case-insensitive equality: field names and tokens (RFC 9110 §5.1, §5.6.2).
bool iequals(std::string_view a, std::string_view b);

/// `s` without the optional whitespace around it (RFC 9110 §5.6.3: OWS = *( SP / HTAB )).
std::string_view trim_ows(std::string_view s);

/// Whether the comma-separated list `value` (RFC 9110 §5.6.1: #token) holds `token`, in any
/// case, with optional whitespace around the elements.
bool lists_token(std::string_view value, std::string_view token);

} // namespace livehouse::codec::http
