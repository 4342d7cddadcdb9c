// Conditional request and Range evaluation (RFC 9110 §13, §14).
#include "net/http_rules.hpp"

#include "codec/http/field_value.hpp"

#include <charconv>

namespace livehouse::net {

namespace {

using codec::http::trim_ows;

std::string_view strip_weak(std::string_view tag) {
    if (tag.starts_with("W/")) {
        tag.remove_prefix(2);
    }
    return tag;
}

// Digits only (no sign, no spaces): "1*DIGIT" in RFC 9110's grammar.
bool parse_u64(std::string_view s, std::uint64_t& out) {
    if (s.empty()) {
        return false;
    }
    for (char c : s) {
        if (c < '0' || c > '9') {
            return false;
        }
    }
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && p == s.data() + s.size();
}

} // namespace

bool etag_matches(std::string_view if_none_match, std::string_view etag) {
    if_none_match = trim_ows(if_none_match);
    if (if_none_match.empty() || etag.empty()) {
        return false;
    }
    if (if_none_match == "*") {
        return true;
    }
    const auto mine = strip_weak(etag);
    while (!if_none_match.empty()) {
        const auto comma = if_none_match.find(',');
        const auto candidate = trim_ows(if_none_match.substr(0, comma));
        if (!candidate.empty() && strip_weak(candidate) == mine) {
            return true;
        }
        if (comma == std::string_view::npos) {
            break;
        }
        if_none_match.remove_prefix(comma + 1);
    }
    return false;
}

byte_range parse_range(std::string_view range, std::uint64_t size) {
    byte_range r;
    range = trim_ows(range);
    constexpr std::string_view unit = "bytes=";
    if (range.size() < unit.size()) {
        return r;
    }
    // The range unit is case-insensitive (RFC 9110 §14.1).
    for (std::size_t i = 0; i < unit.size(); ++i) {
        const char c = range[i];
        const char lower = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
        if (lower != unit[i]) {
            return r;
        }
    }
    const auto spec = trim_ows(range.substr(unit.size()));
    if (spec.find(',') != std::string_view::npos) {
        return r; // multiple ranges: ignored, the whole body is sent
    }
    const auto dash = spec.find('-');
    if (dash == std::string_view::npos) {
        return r;
    }
    const auto first_s = trim_ows(spec.substr(0, dash));
    const auto last_s = trim_ows(spec.substr(dash + 1));
    if (first_s.empty()) {
        // suffix-range: the last n bytes.
        std::uint64_t n = 0;
        if (!parse_u64(last_s, n)) {
            return r;
        }
        if (n == 0 || size == 0) {
            r.type = byte_range::kind::unsatisfiable;
            return r;
        }
        r.type = byte_range::kind::satisfiable;
        r.first = n >= size ? 0 : size - n;
        r.last = size - 1;
        return r;
    }
    std::uint64_t first = 0;
    if (!parse_u64(first_s, first)) {
        return r;
    }
    std::uint64_t last = 0;
    if (last_s.empty()) {
        last = size == 0 ? 0 : size - 1;
    } else if (!parse_u64(last_s, last) || last < first) {
        return r; // invalid: last-pos < first-pos
    }
    if (first >= size) {
        r.type = byte_range::kind::unsatisfiable;
        return r;
    }
    r.type = byte_range::kind::satisfiable;
    r.first = first;
    r.last = last >= size ? size - 1 : last;
    return r;
}

} // namespace livehouse::net
