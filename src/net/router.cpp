// router: pattern parsing, path decoding and most-specific matching.
#include "net/router.hpp"

#include <algorithm>
#include <array>
#include <fmt/format.h>
#include <stdexcept>

namespace livehouse::net {

namespace {

int hex_value(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

// The order methods are listed in an Allow header.
constexpr std::array<http::verb, 7> allow_order = {
    http::verb::get,   http::verb::head,    http::verb::post,   http::verb::put,
    http::verb::patch, http::verb::delete_, http::verb::options};

} // namespace

core::result<std::vector<std::string>> router::decode_path(std::string_view path) {
    if (path.empty() || path.front() != '/') {
        return core::make_error("path must start with '/'");
    }
    std::vector<std::string> out;
    if (path.size() == 1) {
        return out;
    }
    std::size_t pos = 1;
    for (;;) {
        const auto slash = path.find('/', pos);
        const auto raw =
            path.substr(pos, slash == std::string_view::npos ? path.size() - pos : slash - pos);
        if (out.size() == max_segments) {
            return core::make_error(fmt::format("more than {} path segments", max_segments));
        }
        std::string seg;
        seg.reserve(raw.size());
        for (std::size_t i = 0; i < raw.size(); ++i) {
            if (raw[i] != '%') {
                seg += raw[i];
                continue;
            }
            // RFC 3986 §2.1: pct-encoded = "%" HEXDIG HEXDIG
            if (i + 2 >= raw.size()) {
                return core::make_error("malformed percent-escape in path");
            }
            const int hi = hex_value(raw[i + 1]);
            const int lo = hex_value(raw[i + 2]);
            if (hi < 0 || lo < 0) {
                return core::make_error("malformed percent-escape in path");
            }
            seg += static_cast<char>(hi * 16 + lo);
            i += 2;
        }
        if (seg.find('\0') != std::string::npos) {
            return core::make_error("NUL in path");
        }
        if (seg.find('/') != std::string::npos) {
            return core::make_error("encoded '/' in path segment");
        }
        // RFC 3986 §3.3 dot-segments: we never resolve them, so refuse them (no traversal).
        if (seg == "." || seg == "..") {
            return core::make_error("dot-segment in path");
        }
        out.push_back(std::move(seg));
        if (slash == std::string_view::npos) {
            break;
        }
        pos = slash + 1;
    }
    return out;
}

void router::add(http::verb method, std::string pattern, handler h, std::string route_name) {
    if (pattern.empty() || pattern.front() != '/') {
        throw std::invalid_argument("router: pattern must start with '/': " + pattern);
    }
    std::vector<segment> segs;
    if (pattern.size() > 1) {
        std::string_view rest(pattern);
        rest.remove_prefix(1);
        for (;;) {
            const auto slash = rest.find('/');
            const auto part = rest.substr(0, slash);
            segment s;
            if (part.size() >= 2 && part.front() == '{' && part.back() == '}') {
                auto name = part.substr(1, part.size() - 2);
                s.type = segment::kind::capture;
                if (!name.empty() && name.back() == '*') {
                    if (slash != std::string_view::npos) {
                        throw std::invalid_argument("router: {name*} must be last: " + pattern);
                    }
                    s.type = segment::kind::tail;
                    name.remove_suffix(1);
                }
                if (name.empty()) {
                    throw std::invalid_argument("router: empty capture name: " + pattern);
                }
                s.text = std::string(name);
            } else if (part.find_first_of("{}") != std::string_view::npos) {
                throw std::invalid_argument("router: capture must be a whole segment: " + pattern);
            } else {
                s.text = std::string(part);
            }
            segs.push_back(std::move(s));
            if (slash == std::string_view::npos) {
                break;
            }
            rest.remove_prefix(slash + 1);
        }
    }
    auto it = std::find_if(routes_.begin(), routes_.end(),
                           [&](const route& r) { return r.pattern == pattern; });
    if (it == routes_.end()) {
        routes_.push_back(route{pattern, std::move(segs), {}});
        it = std::prev(routes_.end());
    }
    for (const auto& m : it->methods) {
        if (m.method == method) {
            throw std::invalid_argument(fmt::format("router: {} {} registered twice",
                                                    std::string_view(http::to_string(method)),
                                                    pattern));
        }
    }
    it->methods.push_back(method_entry{method, std::move(h), std::move(route_name), {}});
}

void router::add_websocket(std::string pattern, ws_route_handler h, std::string route_name) {
    if (!h) {
        throw std::invalid_argument("router: empty websocket handler: " + pattern);
    }
    const std::string key = pattern;
    // A request without "Upgrade: websocket" reaches this ordinary handler. RFC 9110 §15.5.22:
    // "The server MUST send an Upgrade header field in a 426 response".
    add(
        http::verb::get, std::move(pattern),
        [](const request&, const route_params&, responder reply) {
            auto r = json_error(http::status::upgrade_required, "websocket upgrade required");
            r.headers.emplace_back("Upgrade", "websocket");
            r.headers.emplace_back("Sec-WebSocket-Version", "13");
            reply(std::move(r));
        },
        std::move(route_name));
    for (auto& r : routes_) {
        if (r.pattern == key) {
            for (auto& e : r.methods) {
                if (e.method == http::verb::get) {
                    e.ws = std::move(h);
                }
            }
        }
    }
}

bool router::matches(const route& r, const std::vector<std::string>& path, route_params* params) {
    const auto& segs = r.segments;
    const bool has_tail = !segs.empty() && segs.back().type == segment::kind::tail;
    if (has_tail ? path.size() < segs.size() : path.size() != segs.size()) {
        return false;
    }
    for (std::size_t i = 0; i < segs.size(); ++i) {
        switch (segs[i].type) {
        case segment::kind::literal:
            if (segs[i].text != path[i]) {
                return false;
            }
            break;
        case segment::kind::capture:
            if (path[i].empty()) {
                return false;
            }
            if (params != nullptr) {
                (*params)[segs[i].text] = path[i];
            }
            break;
        case segment::kind::tail: {
            std::string joined;
            for (std::size_t j = i; j < path.size(); ++j) {
                if (path[j].empty()) {
                    return false;
                }
                if (j > i) {
                    joined += '/';
                }
                joined += path[j];
            }
            if (params != nullptr) {
                (*params)[segs[i].text] = std::move(joined);
            }
            break;
        }
        }
    }
    return true;
}

bool router::more_specific(const route& a, const route& b) {
    // Segment by segment: literal > capture > tail; then the longer pattern.
    const auto rank = [](segment::kind k) {
        return k == segment::kind::literal ? 2 : k == segment::kind::capture ? 1 : 0;
    };
    const auto n = std::min(a.segments.size(), b.segments.size());
    for (std::size_t i = 0; i < n; ++i) {
        const int ra = rank(a.segments[i].type);
        const int rb = rank(b.segments[i].type);
        if (ra != rb) {
            return ra > rb;
        }
    }
    return a.segments.size() > b.segments.size();
}

route_match router::match(http::verb method, std::string_view target) const {
    route_match m;
    // RFC 9112 §3.2.2: a server MUST accept the absolute-form; keep only its path and query.
    if (target.starts_with("http://") || target.starts_with("https://")) {
        const auto authority = target.find("//") + 2;
        const auto path_start = target.find_first_of("/?", authority);
        target = path_start == std::string_view::npos ? std::string_view("/")
                                                      : target.substr(path_start);
    }
    const auto q = target.find('?');
    std::string_view path = target.substr(0, q);
    if (q != std::string_view::npos) {
        m.query = target.substr(q + 1);
    }
    if (path.empty()) {
        path = "/";
    }
    auto segs = decode_path(path);
    if (!segs) {
        m.result = route_match::outcome::bad_request;
        m.error = segs.err().message;
        return m;
    }

    // Few routes (tens): a linear scan is cheaper than any index at this size.
    const route* best = nullptr;
    const method_entry* best_entry = nullptr;
    std::array<bool, allow_order.size()> allowed{};
    bool any = false;
    // HEAD falls back to GET (RFC 9110 §9.3.2: HEAD is identical to GET without content).
    const auto find_entry = [&](const route& r) -> const method_entry* {
        const method_entry* fallback = nullptr;
        for (const auto& e : r.methods) {
            if (e.method == method) {
                return &e;
            }
            if (method == http::verb::head && e.method == http::verb::get) {
                fallback = &e;
            }
        }
        return fallback;
    };
    for (const auto& r : routes_) {
        if (!matches(r, *segs, nullptr)) {
            continue;
        }
        any = true;
        for (const auto& e : r.methods) {
            if (e.ws) {
                m.websocket_route = true;
            }
            for (std::size_t i = 0; i < allow_order.size(); ++i) {
                if (allow_order[i] == e.method ||
                    (allow_order[i] == http::verb::head && e.method == http::verb::get)) {
                    allowed[i] = true;
                }
            }
        }
        if (const auto* e = find_entry(r); e != nullptr) {
            if (best == nullptr || more_specific(r, *best)) {
                best = &r;
                best_entry = e;
            }
        }
    }
    if (!any) {
        m.result = route_match::outcome::not_found;
        return m;
    }
    allowed.back() = true; // OPTIONS is always answered
    for (std::size_t i = 0; i < allow_order.size(); ++i) {
        if (allowed[i]) {
            if (!m.allow.empty()) {
                m.allow += ", ";
            }
            m.allow += std::string_view(http::to_string(allow_order[i]));
        }
    }
    if (best == nullptr) {
        m.result = route_match::outcome::method_not_allowed;
        return m;
    }
    matches(*best, *segs, &m.params);
    m.result = route_match::outcome::found;
    m.target = &best_entry->h;
    m.route_name = best_entry->route_name;
    if (best_entry->ws && method == http::verb::get) {
        m.websocket = &best_entry->ws;
    }
    return m;
}

} // namespace livehouse::net
