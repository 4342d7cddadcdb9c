// http:// URLs and host:port pairs (see url.hpp).
#include "codec/http/url.hpp"

#include <algorithm>
#include <cctype>
#include <fmt/format.h>

namespace livehouse::codec::http {

namespace {

core::result<std::uint16_t> port_of(std::string_view digits, bool allow_zero) {
    // RFC 3986 §3.2.3: port = *DIGIT; here 1..65535, at most 5 digits.
    if (digits.empty() || digits.size() > 5 ||
        !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return core::make_error("bad port");
    }
    unsigned port = 0;
    for (char c : digits) {
        port = port * 10 + static_cast<unsigned>(c - '0');
    }
    if ((port == 0 && !allow_zero) || port > 65535) {
        return core::make_error("bad port");
    }
    return static_cast<std::uint16_t>(port);
}

bool host_char(char c) {
    // reg-name = *( unreserved / pct-encoded / sub-delims ), IPv4 and IPv6 digits and dots:
    // anything but the delimiters and controls, which would end up in a Host header.
    return static_cast<unsigned char>(c) > 0x20 && c != 0x7f && c != '/' && c != '?' && c != '#' &&
           c != '@' && c != '[' && c != ']' && c != ':' && c != '\\';
}

} // namespace

core::result<host_port> parse_host_port(std::string_view text,
                                        std::optional<std::uint16_t> default_port,
                                        bool allow_port_zero) {
    if (text.size() > max_url_bytes) {
        return core::make_error("longer than 2048 bytes");
    }
    host_port out;
    std::string_view port_text;
    bool has_port = false;
    if (text.starts_with('[')) {
        const auto close = text.find(']');
        if (close == std::string_view::npos) {
            return core::make_error("unclosed '[' in the host");
        }
        const auto inner = text.substr(1, close - 1);
        // RFC 3986 §3.2.2: an IP-literal holds an IPv6 address (hex digits, ':' and '.').
        if (inner.empty() || !std::all_of(inner.begin(), inner.end(), [](char c) {
                return std::isxdigit(static_cast<unsigned char>(c)) != 0 || c == ':' || c == '.';
            })) {
            return core::make_error("bad IPv6 literal");
        }
        out.host = std::string(inner);
        const auto rest = text.substr(close + 1);
        if (!rest.empty()) {
            if (rest[0] != ':') {
                return core::make_error("junk after the host");
            }
            port_text = rest.substr(1);
            has_port = true;
        }
    } else {
        const auto colon = text.find(':');
        out.host = std::string(text.substr(0, colon));
        if (colon != std::string_view::npos) {
            port_text = text.substr(colon + 1);
            has_port = true;
        }
        if (!std::all_of(out.host.begin(), out.host.end(), host_char)) {
            return core::make_error("bad character in the host");
        }
    }
    if (out.host.empty()) {
        return core::make_error("no host");
    }
    if (has_port) {
        auto p = port_of(port_text, allow_port_zero);
        if (!p) {
            return p.err();
        }
        out.port = *p;
    } else if (default_port) {
        out.port = *default_port;
    } else {
        return core::make_error("expected host:port");
    }
    return out;
}

core::result<http_url> parse_http_url(std::string_view url) {
    if (url.size() > max_url_bytes) {
        return core::make_error("longer than 2048 bytes");
    }
    constexpr std::string_view scheme = "http://";
    if (!url.starts_with(scheme)) {
        return core::make_error(url.find("://") != std::string_view::npos
                                    ? "expected http://host[:port] (only http:// is supported)"
                                    : "expected http://host[:port]");
    }
    auto rest = url.substr(scheme.size());
    const auto end = std::min(rest.find_first_of("/?#"), rest.size());
    const auto authority = rest.substr(0, end);
    auto target = rest.substr(end);
    if (authority.find('@') != std::string_view::npos) {
        return core::make_error("user info is not supported");
    }
    if (target.find('#') != std::string_view::npos) {
        return core::make_error("a fragment is not supported");
    }
    auto hp = parse_host_port(authority, 80);
    if (!hp) {
        return hp.err();
    }
    http_url out;
    out.host = std::move(hp->host);
    out.port = hp->port;
    out.authority = std::string(authority);
    // An empty target stays http_url's default, "/".
    if (!target.empty() && target.front() == '?') {
        // RFC 9112 §3.2.1: an empty path is "/". (Built char by char: g++ 12 at -O3 warns
        // falsely of overlapping copies, -Wrestrict, for "/" + a string.)
        out.target.reserve(target.size() + 1); // holds "/" already
        for (char c : target) {
            out.target.push_back(c);
        }
    } else if (!target.empty()) {
        out.target = std::string(target);
    }
    if (!std::all_of(out.target.begin(), out.target.end(),
                     [](char c) { return static_cast<unsigned char>(c) > 0x20 && c != 0x7f; })) {
        return core::make_error("a space or control character in the path");
    }
    return out;
}

std::string authority(std::string_view host, std::uint16_t port) {
    return host.find(':') != std::string_view::npos ? fmt::format("[{}]:{}", host, port)
                                                    : fmt::format("{}:{}", host, port);
}

} // namespace livehouse::codec::http
