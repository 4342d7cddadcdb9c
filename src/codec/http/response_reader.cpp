// HTTP/1.1 response reader (see response_reader.hpp).
#include "codec/http/response_reader.hpp"

#include "codec/http/field_value.hpp"

#include <algorithm>
#include <charconv>
#include <fmt/format.h>

namespace livehouse::codec::http {

namespace {

constexpr std::size_t max_line_bytes = 1024;

} // namespace

void response_reader::reset(bool head_request, bool capture) {
    state_ = state::head;
    head_request_ = head_request;
    capture_ = capture;
    head_.clear();
    line_.clear();
    body_.clear();
    error_.clear();
    status_ = 0;
    keep_alive_ = true;
    remaining_ = 0;
    body_bytes_ = 0;
}

void response_reader::fail(std::string_view why) {
    state_ = state::failed;
    error_ = std::string(why);
    keep_alive_ = false;
}

void response_reader::take_body(std::string_view bytes) {
    body_bytes_ += bytes.size();
    if (body_bytes_ > limits_.max_body_bytes) {
        fail("response body over the limit");
        return;
    }
    if (capture_) {
        if (body_.size() + bytes.size() > limits_.max_capture_bytes) {
            fail("captured body over the limit");
            return;
        }
        body_.append(bytes);
    }
}

std::size_t response_reader::feed_head(std::string_view data) {
    // Look for the blank line from 3 bytes before the new data (it may straddle two reads).
    const std::size_t before = head_.size();
    const std::size_t room = limits_.max_head_bytes - std::min(before, limits_.max_head_bytes);
    // Copy no more than the head: up to where its blank line ends in `data`, so the body read
    // along with it (a whole segment, often) is not copied into head_ — whose capacity stays
    // with the connection for its life. The blank line may begin in the bytes kept already.
    std::size_t take = std::min(data.size(), room + 4);
    constexpr std::string_view blank = "\r\n\r\n";
    bool straddles = false;
    for (std::size_t k = std::min<std::size_t>(before, 3); k > 0 && !straddles; --k) {
        if (std::string_view(head_).substr(before - k) == blank.substr(0, k) &&
            data.substr(0, 4 - k) == blank.substr(k)) {
            take = std::min(take, 4 - k);
            straddles = true;
        }
    }
    if (!straddles) {
        if (const auto pos = data.find(blank); pos != std::string_view::npos) {
            take = std::min(take, pos + 4);
        }
    }
    head_.append(data.substr(0, take));
    const auto from = before >= 3 ? before - 3 : 0;
    const auto end = head_.find("\r\n\r\n", from);
    if (end == std::string::npos) {
        if (head_.size() > limits_.max_head_bytes) {
            fail("response head over the limit");
        }
        return data.size();
    }
    const std::size_t used = end + 4 - before; // bytes of `data` that were head
    head_.resize(end + 2);                     // keep the last field's CRLF
    if (!parse_head()) {
        return used;
    }
    return used;
}

bool response_reader::parse_head() {
    std::string_view h(head_);
    // Status line (RFC 9112 §4): HTTP-version SP status-code SP [reason-phrase]
    const auto eol = h.find("\r\n");
    const auto status_line = h.substr(0, eol);
    if (!status_line.starts_with("HTTP/1.") || status_line.size() < 12 || status_line[8] != ' ') {
        fail("malformed status line");
        return false;
    }
    const bool http10 = status_line[7] == '0';
    int code = 0;
    const auto digits = status_line.substr(9, 3);
    const auto [p, ec] = std::from_chars(digits.data(), digits.data() + 3, code);
    if (ec != std::errc{} || p != digits.data() + 3 || code < 100 ||
        (status_line.size() > 12 && status_line[12] != ' ')) {
        fail("malformed status code");
        return false;
    }
    status_ = code;
    bool chunked = false;
    bool have_length = false;
    std::uint64_t length = 0;
    bool close = false;
    bool keep_alive_token = false;
    h.remove_prefix(eol + 2);
    while (!h.empty()) {
        const auto line_end = h.find("\r\n");
        const auto field = h.substr(0, line_end);
        h.remove_prefix(line_end + 2);
        const auto colon = field.find(':');
        if (colon == std::string_view::npos || colon == 0) {
            fail("malformed header field");
            return false;
        }
        const auto name = field.substr(0, colon);
        const auto value = trim_ows(field.substr(colon + 1));
        if (iequals(name, "content-length")) {
            std::uint64_t n = 0;
            const auto [q, e] = std::from_chars(value.data(), value.data() + value.size(), n);
            // RFC 9112 §6.3 (5): differing or invalid lengths are an unrecoverable error.
            if (e != std::errc{} || q != value.data() + value.size() ||
                (have_length && n != length)) {
                fail("bad Content-Length");
                return false;
            }
            have_length = true;
            length = n;
        } else if (iequals(name, "transfer-encoding")) {
            chunked = lists_token(value, "chunked");
        } else if (iequals(name, "connection")) {
            close = close || lists_token(value, "close");
            keep_alive_token = keep_alive_token || lists_token(value, "keep-alive");
        }
    }
    keep_alive_ = http10 ? keep_alive_token && !close : !close;
    if (head_request_ || code < 200 || code == 204 || code == 304) {
        body_complete();
        return true;
    }
    if (chunked) {
        state_ = state::chunk_size;
        return true;
    }
    if (have_length) {
        remaining_ = length;
        if (length > limits_.max_body_bytes) {
            fail("response body over the limit");
            return false;
        }
        state_ = length == 0 ? state::done : state::body_length;
        return true;
    }
    state_ = state::body_until_close;
    keep_alive_ = false;
    return true;
}

std::size_t response_reader::feed(std::string_view data) {
    std::size_t used = 0;
    while (used < data.size() && state_ != state::done && state_ != state::failed) {
        auto rest = data.substr(used);
        switch (state_) {
        case state::head:
            used += feed_head(rest);
            break;
        case state::body_length: {
            const auto n =
                static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, rest.size()));
            take_body(rest.substr(0, n));
            remaining_ -= n;
            used += n;
            if (remaining_ == 0 && state_ != state::failed) {
                body_complete();
            }
            break;
        }
        case state::body_until_close:
            take_body(rest);
            used += rest.size();
            break;
        case state::chunk_size:
        case state::trailer: {
            const auto nl = rest.find('\n');
            const auto piece = rest.substr(0, nl == std::string_view::npos ? rest.size() : nl + 1);
            line_.append(piece);
            used += piece.size();
            if (line_.size() > max_line_bytes) {
                fail("chunk line over the limit");
                break;
            }
            if (nl == std::string_view::npos) {
                break;
            }
            std::string_view line(line_);
            if (!line.ends_with("\r\n")) {
                fail("chunk line without CRLF");
                break;
            }
            line.remove_suffix(2);
            if (state_ == state::trailer) {
                // §7.1.2: trailer fields until an empty line.
                if (line.empty()) {
                    body_complete();
                }
                line_.clear();
                break;
            }
            // §7.1: chunk-size [ chunk-ext ] CRLF
            const auto hex = trim_ows(line.substr(0, line.find(';')));
            std::uint64_t size = 0;
            const auto [q, e] = std::from_chars(hex.data(), hex.data() + hex.size(), size, 16);
            if (hex.empty() || e != std::errc{} || q != hex.data() + hex.size()) {
                fail("bad chunk size");
                break;
            }
            line_.clear();
            if (size == 0) {
                state_ = state::trailer;
            } else {
                remaining_ = size;
                state_ = state::chunk_data;
            }
            break;
        }
        case state::chunk_data: {
            const auto n =
                static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, rest.size()));
            take_body(rest.substr(0, n));
            remaining_ -= n;
            used += n;
            if (remaining_ == 0 && state_ != state::failed) {
                state_ = state::chunk_crlf;
                line_.clear();
            }
            break;
        }
        case state::chunk_crlf: {
            // The CRLF after a chunk's data, possibly split across reads.
            while (used < data.size() && line_.size() < 2) {
                line_.push_back(data[used++]);
            }
            if (line_.size() == 2) {
                if (line_ != "\r\n") {
                    fail("chunk data not followed by CRLF");
                    break;
                }
                line_.clear();
                state_ = state::chunk_size;
            }
            break;
        }
        case state::done:
        case state::failed:
            break;
        }
    }
    return used;
}

void response_reader::finish_at_eof() {
    if (state_ == state::body_until_close) {
        body_complete();
        return;
    }
    if (state_ != state::done && state_ != state::failed) {
        fail("connection closed before the response was complete");
    }
}

} // namespace livehouse::codec::http
