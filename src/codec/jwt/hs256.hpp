// User tokens: JSON Web Tokens (RFC 7519) in JWS compact serialization (RFC 7515 §7.1), signed
// with HMAC-SHA256 ("HS256", RFC 7518 §3.2) under one shared secret, so a site's own login can
// mint tokens that livehouse accepts. Sans-I/O and pure: strings in, a token or claims out; the
// caller supplies the time.
//
//   token  = BASE64URL(header) "." BASE64URL(payload) "." BASE64URL(HMAC-SHA256(secret,
//            BASE64URL(header) "." BASE64URL(payload)))
//   header = {"alg":"HS256","typ":"JWT"}
//   payload (the claims livehouse reads):
//            sub   string, 1..64 characters        the user's id
//            name  string, 1..64 characters after trimming, no control characters
//            exp   integer seconds since the epoch (required)
//            iat   integer seconds (optional), nbf integer seconds (optional, honoured)
//            role  "user" (default) or "admin"
//   Other claims are ignored.
//
// verify() refuses, in this order and without looking at the payload before the signature is
// checked: tokens longer than limits.max_token_bytes; anything but three base64url parts
// (unpadded, canonical: RFC 7515 §2 and RFC 4648 §5/§3.5); a header that is not a JSON object
// or whose "alg" is not "HS256" ("none" and every other algorithm, RFC 8725 §3.1: the algorithm
// is fixed by the verifier, never chosen by the token), a "typ" other than "JWT", any "crit"
// (RFC 7515 §4.1.11: unknown extensions MUST be rejected); a signature that does not match
// (compared with CRYPTO_memcmp, constant time); then claims that are missing, of the wrong
// type, expired (RFC 7519 §4.1.4) or not yet valid (§4.1.5), both with limits.leeway_seconds of
// clock skew allowed. JSON is parsed without exceptions, after a depth check. Duplicate member
// names: nlohmann keeps the lexically last, which RFC 7515 §5.2 allows.
//
// Error messages name the problem ("token expired", "bad signature", "alg must be HS256") and
// never contain the secret.
//
// Secrets: RFC 7518 §3.2 "A key of the same size as the hash output (for instance, 256 bits for
// "HS256") or larger MUST be used": sign() and verify() refuse secrets under 32 bytes. The key is
// the secret's bytes as given (the configured string, not a decoding of it).
#pragma once

#include "core/result.hpp"

#include <cstddef>
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace livehouse::codec::jwt {

struct limits {
    std::size_t max_token_bytes = 4096;
    /// Seconds of clock skew tolerated on exp and nbf.
    std::int64_t leeway_seconds = 30;
    /// Deepest nesting of arrays/objects in the header and the payload (the claims are flat;
    /// a site's own claims may nest a little).
    std::size_t max_json_depth = 8;
};

inline constexpr std::size_t min_secret_bytes = 32;
inline constexpr std::size_t max_sub_length = 64;  ///< code points
inline constexpr std::size_t max_name_length = 64; ///< code points, after trimming

struct claims {
    std::string sub;
    std::string name; ///< trimmed
    std::int64_t exp = 0;
    std::optional<std::int64_t> iat;
    std::optional<std::int64_t> nbf;
    std::string role = "user"; ///< "user" or "admin"

    bool operator==(const claims&) const = default;
};

/// RFC 4648 §5 base64url without padding (RFC 7515 §2).
std::string base64url_encode(std::string_view bytes);
/// Decodes unpadded base64url. Refuses '=' padding, characters outside [A-Za-z0-9_-], a length
/// of 1 mod 4, and non-zero trailing bits (RFC 4648 §3.5: a canonical encoding has them zero),
/// so every byte string has exactly one accepted encoding.
core::result<std::string> base64url_decode(std::string_view text);

/// Signs an arbitrary JSON object as the payload, with the header {"alg":"HS256","typ":"JWT"}.
/// Errors: `payload` is not an object, or the secret is shorter than min_secret_bytes.
core::result<std::string> sign(const nlohmann::json& payload, std::string_view secret);
/// Signs `c` (sub, name, exp, and iat / nbf when set, role when not "user"). Errors as above.
core::result<std::string> sign(const claims& c, std::string_view secret);

/// Checks `token` as described above at `now_seconds` (seconds since the Unix epoch).
core::result<claims> verify(std::string_view token, std::string_view secret,
                            std::int64_t now_seconds, const limits& lim = {});

/// Checks a display name as the "name" claim must be, returning it trimmed of surrounding
/// whitespace: valid UTF-8, 1..max_length code points, no control characters (C0, DEL, C1).
/// Shared with the guest endpoint, which applies its own, shorter maximum.
core::result<std::string> check_display_name(std::string_view name, std::size_t max_length);

} // namespace livehouse::codec::jwt
