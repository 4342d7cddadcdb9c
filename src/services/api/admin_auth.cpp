#include "services/api/admin_auth.hpp"

#include "media/ids.hpp"

namespace livehouse::services::api {

namespace {

constexpr std::size_t max_authorization_length = 4096;

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; };
        if (lower(a[i]) != lower(b[i])) {
            return false;
        }
    }
    return true;
}

} // namespace

std::string_view bearer_token(std::string_view authorization) {
    constexpr std::string_view scheme = "bearer";
    if (authorization.size() > max_authorization_length || authorization.size() <= scheme.size() ||
        !iequals(authorization.substr(0, scheme.size()), scheme) ||
        authorization[scheme.size()] != ' ') {
        return {};
    }
    auto token = authorization.substr(scheme.size());
    while (!token.empty() && token.front() == ' ') {
        token.remove_prefix(1);
    }
    while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) {
        token.remove_suffix(1);
    }
    return token;
}

bool is_admin(const net::request& req, std::string_view admin_token) {
    if (admin_token.empty()) {
        return false;
    }
    const auto it = req.find(net::http::field::authorization);
    if (it == req.end()) {
        return false;
    }
    const auto token = bearer_token(it->value());
    if (token.empty()) {
        return false;
    }
    return media::constant_time_equal(token, admin_token);
}

net::response unauthorized(std::string_view message) {
    auto r = net::json_error(net::http::status::unauthorized, message);
    r.cache_control = "no-store";
    r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"livehouse\"");
    return r;
}

} // namespace livehouse::services::api
