// services::api http helpers (see http_helpers.hpp).
#include "services/api/http_helpers.hpp"

#include <charconv>

namespace livehouse::services::api {

std::optional<std::string_view> query_param(std::string_view query, std::string_view name) {
    while (!query.empty()) {
        const auto amp = query.find('&');
        const auto part = query.substr(0, amp);
        const auto eq = part.find('=');
        if (part.substr(0, eq) == name) {
            return eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1);
        }
        if (amp == std::string_view::npos) {
            break;
        }
        query.remove_prefix(amp + 1);
    }
    return std::nullopt;
}

std::string_view query_of(const net::request& req) {
    const auto target = req.target();
    const auto q = target.find('?');
    return q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
}

std::optional<std::uint64_t> parse_u64(std::string_view s) {
    std::uint64_t v = 0;
    if (s.empty() || s.size() > 20) {
        return std::nullopt;
    }
    const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || ptr != s.data() + s.size()) {
        return std::nullopt;
    }
    return v;
}

net::response unavailable(std::string_view what) {
    auto r = net::json_error(net::http::status::service_unavailable, what);
    r.headers.emplace_back("Retry-After", "1");
    return r;
}

net::response ok_json(net::http::status st, std::string body, bool cors) {
    auto r = net::json_response(st, std::move(body));
    r.cache_control = "no-store";
    r.cors = cors;
    return r;
}

} // namespace livehouse::services::api
