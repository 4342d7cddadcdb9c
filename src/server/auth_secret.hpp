// The user-token secret when none is configured: <data_dir>/auth.secret, made on first start
// and reused after, like the admin token (app.hpp) but never printed: nobody needs to type it,
// and a site that mints its own tokens reads it from the file (or sets [auth] token_secret).
//
// The file holds 32 random bytes (OpenSSL's CSPRNG) as 64 lowercase hex characters and a
// newline; the HMAC key is those 64 characters as written (docs/API.md, "Auth"). It is created
// with mode 0600 under a temporary name and linked into place, so it never exists half-written
// and a concurrent start never overwrites the other's file (both then use the one linked).
#pragma once

#include "core/result.hpp"

#include <string>

namespace livehouse::server {

/// Reads <data_dir>/auth.secret (surrounding whitespace trimmed), or creates it when absent;
/// `generated` tells which. Errors: unreadable file, content shorter than 32 bytes,
/// uncreatable file, no randomness. No error message contains the secret.
core::result<std::string> load_or_create_auth_secret(const std::string& data_dir, bool& generated);

} // namespace livehouse::server
