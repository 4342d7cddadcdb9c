// Small pieces of HTTP field syntax (RFC 9110 §5.6) that every reader of header fields needs:
// the response reader, the WebSocket handshakes on both sides, the conditional and range rules.
// One definition here instead of one per file.
#pragma once

#include <string_view>
#include <vector>

namespace livehouse::codec::http {

/// ASCII case-insensitive equality: field names and tokens (RFC 9110 §5.1, §5.6.2).
bool iequals(std::string_view a, std::string_view b);

/// `s` without the optional whitespace around it (RFC 9110 §5.6.3: OWS = *( SP / HTAB )).
std::string_view trim_ows(std::string_view s);

/// Calls `f(element)` for each element of the comma-separated list `value`, optional whitespace
/// trimmed and empty elements skipped (RFC 9110 §5.6.1: "a recipient MUST parse and ignore a
/// reasonable number of empty list elements"), until `f` returns false. Returns whether every
/// call returned true.
template <class F> bool for_each_element(std::string_view value, F&& f) {
    for (;;) {
        const auto comma = value.find(',');
        const auto element = trim_ows(value.substr(0, comma));
        if (!element.empty() && !f(element)) {
            return false;
        }
        if (comma == std::string_view::npos) {
            return true;
        }
        value.remove_prefix(comma + 1);
    }
}

/// The elements of a comma-separated list (as for_each_element), as views into `value`.
std::vector<std::string_view> list_elements(std::string_view value);

/// Whether the comma-separated list `value` (RFC 9110 §5.6.1: #token) holds `token`, in any
/// case, with optional whitespace around the elements.
bool lists_token(std::string_view value, std::string_view token);

} // namespace livehouse::codec::http
