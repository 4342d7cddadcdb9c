// verified_tokens (see verified_tokens.hpp).
#include "services/auth/verified_tokens.hpp"

namespace livehouse::services::auth {

std::optional<user> verified_tokens::find(std::string_view token, std::int64_t now) {
    if (per_stripe_ == 0) {
        return std::nullopt;
    }
    auto& s = stripe_of(token);
    std::lock_guard lock(s.mu);
    const auto it = s.map.find(token);
    if (it == s.map.end()) {
        return std::nullopt;
    }
    // The time checks of codec::jwt::verify (RFC 7519 §4.1.4, §4.1.5), in the same form.
    const auto& e = it->second;
    if (now - leeway_ >= e.who.expires_at || (e.nbf && now + leeway_ < *e.nbf)) {
        s.map.erase(it); // expired: verify() says why, from the token itself
        return std::nullopt;
    }
    return e.who;
}

void verified_tokens::add(std::string_view token, const user& who,
                          std::optional<std::int64_t> nbf) {
    if (per_stripe_ == 0) {
        return;
    }
    auto& s = stripe_of(token);
    std::lock_guard lock(s.mu);
    if (s.map.size() >= per_stripe_ && s.map.find(token) == s.map.end()) {
        s.map.erase(s.map.begin());
    }
    s.map.insert_or_assign(std::string(token), entry{who, nbf});
}

std::size_t verified_tokens::size() {
    std::size_t n = 0;
    for (auto& s : stripes_) {
        std::lock_guard lock(s.mu);
        n += s.map.size();
    }
    return n;
}

} // namespace livehouse::services::auth
