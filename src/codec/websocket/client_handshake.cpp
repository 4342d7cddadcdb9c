// The client's opening handshake (see client_handshake.hpp).
#include "codec/websocket/client_handshake.hpp"

#include "codec/http/field_value.hpp"
#include "codec/websocket/frame.hpp"

#include <algorithm>

namespace livehouse::codec::websocket {

namespace {

using http::iequals;
using http::lists_token;
using http::trim_ows;

handshake_answer fail(std::size_t n, int status, std::string why) {
    return {core::feed_result::fail(n, std::move(why)), status};
}

} // namespace

std::string client_handshake_request(std::string_view host, std::string_view target,
                                     std::string_view key, std::string_view extra) {
    std::string out;
    out.reserve(160 + host.size() + target.size() + extra.size());
    out.append("GET ").append(target).append(" HTTP/1.1\r\nHost: ").append(host);
    out.append("\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ");
    out.append(key).append("\r\nSec-WebSocket-Version: 13\r\n").append(extra).append("\r\n");
    return out;
}

handshake_answer check_handshake_answer(std::string_view in, std::string_view key) {
    const auto end = in.find("\r\n\r\n");
    if (end == std::string_view::npos) {
        if (in.size() > max_head_bytes) {
            return fail(0, 0, "handshake answer head over 16 KiB");
        }
        return {core::feed_result::need_more(0), 0};
    }
    const auto n = end + 4;
    if (n > max_head_bytes) {
        return fail(0, 0, "handshake answer head over 16 KiB");
    }
    std::string_view head = in.substr(0, end);
    const auto line_end = std::min(head.find("\r\n"), head.size());
    const auto status_line = head.substr(0, line_end);
    // RFC 9112 §4: status-line = HTTP-version SP status-code SP [ reason-phrase ]
    if (!status_line.starts_with("HTTP/1.1 ") || status_line.size() < 12 ||
        (status_line.size() > 12 && status_line[12] != ' ') ||
        !std::all_of(status_line.begin() + 9, status_line.begin() + 12,
                     [](char c) { return c >= '0' && c <= '9'; })) {
        return fail(n, 0, "handshake answer: malformed status line");
    }
    const int status =
        (status_line[9] - '0') * 100 + (status_line[10] - '0') * 10 + (status_line[11] - '0');
    if (status != 101) {
        return fail(n, status, "handshake answer: status is not 101");
    }
    bool upgrade = false;
    bool connection = false;
    bool accept = false;
    const auto expected = accept_key(key);
    head.remove_prefix(std::min(line_end + 2, head.size()));
    while (!head.empty()) {
        const auto e = std::min(head.find("\r\n"), head.size());
        const auto line = head.substr(0, e);
        head.remove_prefix(std::min(e + 2, head.size()));
        const auto colon = line.find(':');
        if (colon == std::string_view::npos || colon == 0) {
            return fail(n, status, "handshake answer: malformed header field");
        }
        const auto name = line.substr(0, colon);
        const auto value = trim_ows(line.substr(colon + 1));
        if (iequals(name, "upgrade")) {
            upgrade = iequals(value, "websocket");
        } else if (iequals(name, "connection")) {
            connection = lists_token(value, "upgrade");
        } else if (iequals(name, "sec-websocket-accept")) {
            accept = !expected.empty() && value == expected;
        } else if (iequals(name, "sec-websocket-extensions") ||
                   iequals(name, "sec-websocket-protocol")) {
            // §4.1: "If the response includes a |Sec-WebSocket-Extensions| header field and
            // this header field indicates the use of an extension that was not present in the
            // client's handshake ... the client MUST _Fail the WebSocket Connection_" (and the
            // same for a subprotocol). This client offers neither.
            return fail(n, status, "handshake answer: an extension or subprotocol not offered");
        }
    }
    if (!upgrade) {
        return fail(n, status, "handshake answer: no Upgrade: websocket");
    }
    if (!connection) {
        return fail(n, status, "handshake answer: no Connection: Upgrade");
    }
    if (!accept) {
        return fail(n, status, "handshake answer: wrong or missing Sec-WebSocket-Accept");
    }
    return {core::feed_result::ok(n), status};
}

} // namespace livehouse::codec::websocket
