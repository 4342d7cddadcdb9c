// User identities for the live features (chat first): HS256 JWTs (codec/jwt/hs256.hpp) under
// one configured secret. livehouse mints short-lived guest tokens itself (POST
// /api/v1/auth/guest, auth_service.hpp); a site with its own login mints tokens with the same
// secret and the same claims (docs/API.md, "Auth"), and livehouse accepts both alike.
//
// Anonymous viewers need no token to read; services that accept writes (sending a chat
// message) ask user_from_request() and refuse without a user.
//
// Where a token comes from, in order: `Authorization: Bearer <token>` (RFC 6750 §2.1), else a
// `token=<token>` query parameter (RFC 6750 §2.3), for the clients that cannot set headers:
// browsers opening a WebSocket. Query tokens end up in access logs; that is why guest tokens
// are short-lived (ttl, default 24 h) and carry no privilege beyond a name.
//
// Guest ids are "g-" + 24 hex characters (96 bits from OpenSSL's CSPRNG): a site's own ids
// should not start with "g-" so the two never collide.
//
// Threading: every method is const and safe from any thread (the cache of verified tokens
// locks itself).
// The secret is never logged nor put into an error message.
#pragma once

#include "codec/jwt/hs256.hpp"
#include "core/clock.hpp"
#include "core/result.hpp"
#include "net/http_types.hpp"
#include "services/auth/user.hpp"
#include "services/auth/verified_tokens.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace livehouse::services::auth {

/// Longest guest name, in code points after trimming (a token minted by a site may carry up to
/// codec::jwt::max_name_length).
inline constexpr std::size_t max_guest_name_length = 32;
struct minted_token {
    std::string token;
    user who;
};

struct user_tokens_options {
    std::string secret; ///< at least codec::jwt::min_secret_bytes bytes
    std::chrono::seconds ttl{std::chrono::hours(24)};
    codec::jwt::limits limits;
    /// Tokens remembered once verified (verified_tokens.hpp); 0: verify every time.
    std::size_t cache_entries = 65536;
};

class user_tokens {
  public:
    /// Errors: a secret shorter than 32 bytes (RFC 7518 §3.2), a ttl under one second.
    static core::result<std::shared_ptr<user_tokens>> create(user_tokens_options options,
                                                             const core::clock& clock);

    /// A new guest: a fresh random id, `name` checked (1..max_guest_name_length code points
    /// after trimming, no control characters; the error names the field, "name: ..."), exp =
    /// now + ttl. Errors also when the CSPRNG fails.
    [[nodiscard]] core::result<minted_token> mint_guest(std::string_view name) const;

    /// Verifies a token (codec::jwt::verify at the clock's wall time), or finds it among the
    /// tokens that verified before (verified_tokens.hpp: same result, a fraction of the cost).
    [[nodiscard]] core::result<user> verify(std::string_view token) const;

    /// The user of an Authorization header value ("Bearer <token>"), if it verifies.
    [[nodiscard]] std::optional<user> from_authorization(std::string_view value) const;
    /// The user of a request: the Authorization header when it is a Bearer credential, else
    /// the `token` query parameter. nullopt when neither verifies (anonymous).
    [[nodiscard]] std::optional<user> user_from_request(const net::request& req) const;

    [[nodiscard]] std::chrono::seconds ttl() const { return ttl_; }
    [[nodiscard]] std::int64_t now_seconds() const;

  private:
    user_tokens(user_tokens_options options, const core::clock& clock);

    std::string secret_;
    std::chrono::seconds ttl_;
    codec::jwt::limits limits_;
    mutable verified_tokens verified_; ///< internally locked
    const core::clock& clock_;
};

/// The value of the first `token=` parameter in a raw query string ("a=1&token=xyz"), without
/// percent-decoding (base64url and '.' need none); empty when absent. Any input is safe.
[[nodiscard]] std::string_view query_token(std::string_view query);

} // namespace livehouse::services::auth
