// libFuzzer target for the HS256 JWT codec (codec/jwt): base64url, the compact form, the header
// checks and the claims reader.
//
// The first byte selects what the rest is, so that the fuzzer gets past the signature (which it
// could never forge) to the JSON behind it:
//   0  a whole token, verified as it is;
//   1  a payload: MACed here with the right secret under the HS256 header, then verified;
//   2  "header\npayload": both MACed here, then verified (the header checks with a valid MAC);
//   3  base64url text: whatever decodes must encode back to the same text (one spelling each);
//   4  a display name: whatever passes must pass again unchanged (trimming is idempotent).
// Invariants are checked with __builtin_trap so the fuzzer reports logic errors too: a token
// that verifies re-signs and re-verifies to equal claims, and its claims obey the documented
// limits.
#include "codec/jwt/hs256.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string>
#include <string_view>

namespace {

using namespace livehouse::codec;

constexpr std::string_view secret = "fuzz-secret-fuzz-secret-fuzz-secret!";
constexpr std::int64_t now = 1767225600; // 2026-01-01T00:00:00Z

void check(bool ok) {
    if (!ok) {
        __builtin_trap();
    }
}

std::string mac_token(std::string_view header, std::string_view payload) {
    std::string input = jwt::base64url_encode(header) + "." + jwt::base64url_encode(payload);
    std::array<unsigned char, 32> mac{};
    unsigned int len = 0;
    HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
         reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac.data(), &len);
    return input + "." +
           jwt::base64url_encode(std::string_view(reinterpret_cast<const char*>(mac.data()), len));
}

void verify_and_check(std::string_view token) {
    const jwt::limits lim;
    auto c = jwt::verify(token, secret, now, lim);
    if (!c) {
        check(!c.err().message.empty());
        return;
    }
    check(token.size() <= lim.max_token_bytes);
    check(!c->sub.empty() && c->sub.size() <= 4 * jwt::max_sub_length);
    check(!c->name.empty() && c->name.size() <= 4 * jwt::max_name_length);
    check(now - lim.leeway_seconds < c->exp);
    check(!c->nbf || now + lim.leeway_seconds >= *c->nbf);
    check(c->role == "user" || c->role == "admin");
    auto again = jwt::sign(*c, secret);
    check(again.has_value());
    auto back = jwt::verify(*again, secret, now, lim);
    check(back.has_value() && *back == *c);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
    switch (data[0] % 5) {
    case 0:
        verify_and_check(in);
        break;
    case 1:
        verify_and_check(mac_token(R"({"alg":"HS256","typ":"JWT"})", in));
        break;
    case 2: {
        const auto nl = in.find('\n');
        const auto header = in.substr(0, nl);
        const auto payload = nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);
        verify_and_check(mac_token(header, payload));
        break;
    }
    case 3: {
        auto decoded = jwt::base64url_decode(in);
        if (decoded) {
            check(jwt::base64url_encode(*decoded) == in);
        }
        break;
    }
    default: {
        auto name = jwt::check_display_name(in, 32);
        if (name) {
            auto again = jwt::check_display_name(*name, 32);
            check(again.has_value() && *again == *name);
        }
        break;
    }
    }
    return 0;
}
