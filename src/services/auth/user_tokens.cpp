#include "services/auth/user_tokens.hpp"

#include "services/api/admin_auth.hpp"

#include <array>
#include <fmt/format.h>
#include <openssl/rand.h>

namespace livehouse::services::auth {

namespace {

constexpr std::size_t guest_id_bytes = 12; // 96 bits: unguessable, short in a chat line

user user_of(codec::jwt::claims&& c) {
    user u;
    u.id = std::move(c.sub);
    u.name = std::move(c.name);
    u.role = std::move(c.role);
    u.expires_at = c.exp;
    return u;
}

} // namespace

core::result<std::shared_ptr<user_tokens>> user_tokens::create(user_tokens_options options,
                                                               const core::clock& clock) {
    if (options.secret.size() < codec::jwt::min_secret_bytes) {
        return core::make_error(
            fmt::format("user tokens: secret shorter than {} bytes", codec::jwt::min_secret_bytes));
    }
    if (options.ttl < std::chrono::seconds(1)) {
        return core::make_error("user tokens: ttl must be at least 1 second");
    }
    return std::shared_ptr<user_tokens>(new user_tokens(std::move(options), clock));
}

user_tokens::user_tokens(user_tokens_options options, const core::clock& clock)
    : secret_(std::move(options.secret)), ttl_(options.ttl), limits_(options.limits),
      verified_(options.cache_entries, options.limits.leeway_seconds), clock_(clock) {}

std::int64_t user_tokens::now_seconds() const {
    return std::chrono::duration_cast<std::chrono::seconds>(clock_.wall().time_since_epoch())
        .count();
}

core::result<minted_token> user_tokens::mint_guest(std::string_view name) const {
    auto checked = codec::jwt::check_display_name(name, max_guest_name_length);
    if (!checked) {
        return checked.err().wrap("name");
    }
    std::array<unsigned char, guest_id_bytes> raw{};
    if (RAND_bytes(raw.data(), static_cast<int>(raw.size())) != 1) {
        return core::make_error("no randomness available");
    }
    codec::jwt::claims c;
    c.sub = std::string(guest_id_prefix);
    for (auto b : raw) {
        c.sub += fmt::format("{:02x}", b);
    }
    c.name = std::move(*checked);
    const auto now = now_seconds();
    c.iat = now;
    c.exp = now + ttl_.count();
    auto token = codec::jwt::sign(c, secret_);
    if (!token) {
        return token.err();
    }
    return minted_token{std::move(*token), user_of(std::move(c))};
}

core::result<user> user_tokens::verify(std::string_view token) const {
    const auto now = now_seconds();
    if (auto hit = verified_.find(token, now)) {
        return std::move(*hit);
    }
    auto c = codec::jwt::verify(token, secret_, now, limits_);
    if (!c) {
        return c.err();
    }
    const auto nbf = c->nbf;
    auto who = user_of(std::move(*c));
    verified_.add(token, who, nbf);
    return who;
}

std::optional<user> user_tokens::from_authorization(std::string_view value) const {
    const auto token = api::bearer_token(value);
    if (token.empty()) {
        return std::nullopt;
    }
    auto u = verify(token);
    if (!u) {
        return std::nullopt;
    }
    return std::move(*u);
}

std::optional<user> user_tokens::user_from_request(const net::request& req) const {
    if (const auto it = req.find(net::http::field::authorization); it != req.end()) {
        const auto value = std::string_view(it->value().data(), it->value().size());
        if (!api::bearer_token(value).empty()) {
            // A Bearer credential decides alone: a bad one is not rescued by the query.
            return from_authorization(value);
        }
    }
    const auto target = std::string_view(req.target().data(), req.target().size());
    const auto q = target.find('?');
    if (q == std::string_view::npos) {
        return std::nullopt;
    }
    const auto token = query_token(target.substr(q + 1));
    if (token.empty()) {
        return std::nullopt;
    }
    auto u = verify(token);
    if (!u) {
        return std::nullopt;
    }
    return std::move(*u);
}

std::string_view query_token(std::string_view query) {
    // RFC 3986 §3.4: the query ends at '#' (clients do not send fragments, but a raw string may
    // hold one). Parameters are '&'-separated "name=value" pairs.
    query = query.substr(0, query.find('#'));
    while (!query.empty()) {
        const auto amp = query.find('&');
        const auto pair = query.substr(0, amp);
        constexpr std::string_view key = "token=";
        if (pair.starts_with(key)) {
            return pair.substr(key.size());
        }
        if (amp == std::string_view::npos) {
            break;
        }
        query.remove_prefix(amp + 1);
    }
    return {};
}

} // namespace livehouse::services::auth
