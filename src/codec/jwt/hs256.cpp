// HS256 JWTs: base64url, the compact JWS form, HMAC-SHA256 and the claims livehouse reads.
#include "codec/jwt/hs256.hpp"

#include "codec/json/depth.hpp"

#include <array>
#include <fmt/format.h>
#include <limits>
#include <nlohmann/json.hpp>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace livehouse::codec::jwt {

namespace {

using json = nlohmann::json;

constexpr std::size_t digest_size = 32; // SHA-256
constexpr std::string_view alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
// BASE64URL(UTF8({"alg":"HS256","typ":"JWT"})): the only header sign() writes.
constexpr std::string_view header_json = R"({"alg":"HS256","typ":"JWT"})";

constexpr std::array<std::int8_t, 256> make_decode_table() {
    std::array<std::int8_t, 256> t{};
    for (auto& v : t) {
        v = -1;
    }
    for (std::size_t i = 0; i < alphabet.size(); ++i) {
        t[static_cast<unsigned char>(alphabet[i])] = static_cast<std::int8_t>(i);
    }
    return t;
}
constexpr auto decode_table = make_decode_table();

std::array<unsigned char, digest_size> hmac_sha256(std::string_view key, std::string_view data) {
    std::array<unsigned char, digest_size> out{};
    unsigned int len = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
         reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(), &len);
    return out;
}

core::result<void> check_secret(std::string_view secret) {
    if (secret.size() < min_secret_bytes) {
        // RFC 7518 §3.2: the key MUST be at least as long as the hash output.
        return core::make_error(
            fmt::format("secret shorter than {} bytes (RFC 7518 §3.2)", min_secret_bytes));
    }
    return {};
}

core::result<json> parse_object(std::string_view text, const limits& lim) {
    if (!json_depth_within(text, static_cast<int>(lim.max_json_depth))) {
        return core::make_error(fmt::format("nested deeper than {}", lim.max_json_depth));
    }
    // Exceptions off: malformed JSON (or invalid UTF-8 in a string) is a discarded value.
    auto j = json::parse(text, nullptr, false);
    if (j.is_discarded()) {
        return core::make_error("not valid JSON");
    }
    if (!j.is_object()) {
        return core::make_error("not a JSON object");
    }
    return j;
}

/// Decodes one UTF-8 sequence at `s[i]`, advancing i. Returns -1 on an invalid sequence
/// (RFC 3629 §4: no overlong forms, no surrogates, nothing above U+10FFFF).
std::int32_t next_code_point(std::string_view s, std::size_t& i) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    std::int32_t cp = 0;
    std::int32_t min = 0;
    if (b0 < 0x80) {
        ++i;
        return b0;
    }
    if ((b0 & 0xE0U) == 0xC0U) {
        n = 1;
        cp = b0 & 0x1F;
        min = 0x80;
    } else if ((b0 & 0xF0U) == 0xE0U) {
        n = 2;
        cp = b0 & 0x0F;
        min = 0x800;
    } else if ((b0 & 0xF8U) == 0xF0U) {
        n = 3;
        cp = b0 & 0x07;
        min = 0x10000;
    } else {
        return -1;
    }
    if (i + n >= s.size()) { // the sequence runs past the end
        return -1;
    }
    for (std::size_t k = 1; k <= n; ++k) {
        const auto b = static_cast<unsigned char>(s[i + k]);
        if ((b & 0xC0U) != 0x80U) {
            return -1;
        }
        cp = (cp << 6) | (b & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        return -1;
    }
    i += n + 1;
    return cp;
}

bool is_control(std::int32_t cp) {
    return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F);
}

/// Code points in `s`, or an error if it is not valid UTF-8 or holds a control character.
core::result<std::size_t> checked_length(std::string_view s) {
    std::size_t n = 0;
    for (std::size_t i = 0; i < s.size();) {
        const auto cp = next_code_point(s, i);
        if (cp < 0) {
            return core::make_error("not valid UTF-8");
        }
        if (is_control(cp)) {
            return core::make_error("must not contain control characters");
        }
        ++n;
    }
    return n;
}

core::result<std::int64_t> integer_claim(const json& v) {
    if (!v.is_number_integer()) {
        return core::make_error("must be an integer");
    }
    if (v.is_number_unsigned() &&
        v.get<std::uint64_t>() >
            static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        return core::make_error("out of range");
    }
    return v.get<std::int64_t>();
}

/// Reads an optional integer claim; `out` is left unset when the claim is absent.
core::result<void> optional_integer(const json& payload, const char* name,
                                    std::optional<std::int64_t>& out) {
    const auto it = payload.find(name);
    if (it == payload.end()) {
        return {};
    }
    auto v = integer_claim(*it);
    if (!v) {
        return v.err().wrap(name);
    }
    out = *v;
    return {};
}

core::result<claims> read_claims(const json& payload, std::int64_t now, const limits& lim) {
    claims c;

    const auto exp = payload.find("exp");
    if (exp == payload.end()) {
        return core::make_error("exp: required");
    }
    auto exp_v = integer_claim(*exp);
    if (!exp_v) {
        return exp_v.err().wrap("exp");
    }
    c.exp = *exp_v;
    if (auto r = optional_integer(payload, "nbf", c.nbf); !r) {
        return r.err();
    }
    if (auto r = optional_integer(payload, "iat", c.iat); !r) {
        return r.err();
    }
    // RFC 7519 §4.1.4: "the current date/time MUST be before the expiration date/time"; §4.1.5:
    // "MUST be after or equal to the not-before date/time"; both "MAY provide for some small
    // leeway". Written so that no sum can overflow (exp may be any int64, now is a real time).
    if (now - lim.leeway_seconds >= c.exp) {
        return core::make_error("token expired");
    }
    if (c.nbf && now + lim.leeway_seconds < *c.nbf) {
        return core::make_error("token not yet valid");
    }

    const auto sub = payload.find("sub");
    if (sub == payload.end()) {
        return core::make_error("sub: required");
    }
    if (!sub->is_string()) {
        return core::make_error("sub: must be a string");
    }
    c.sub = sub->get<std::string>();
    auto sub_len = checked_length(c.sub);
    if (!sub_len) {
        return sub_len.err().wrap("sub");
    }
    if (*sub_len == 0 || *sub_len > max_sub_length) {
        return core::make_error(fmt::format("sub: must be 1..{} characters", max_sub_length));
    }

    const auto name = payload.find("name");
    if (name == payload.end()) {
        return core::make_error("name: required");
    }
    if (!name->is_string()) {
        return core::make_error("name: must be a string");
    }
    auto checked = check_display_name(name->get_ref<const std::string&>(), max_name_length);
    if (!checked) {
        return checked.err().wrap("name");
    }
    c.name = std::move(*checked);

    if (const auto role = payload.find("role"); role != payload.end()) {
        if (!role->is_string() || (*role != "user" && *role != "admin")) {
            return core::make_error(R"(role: must be "user" or "admin")");
        }
        c.role = role->get<std::string>();
    }
    return c;
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        auto lower = [](char ch) {
            return ch >= 'A' && ch <= 'Z' ? static_cast<char>(ch + 32) : ch;
        };
        if (lower(a[i]) != lower(b[i])) {
            return false;
        }
    }
    return true;
}

core::result<void> check_header(const json& header) {
    // RFC 8725 §3.1: the verifier fixes the algorithm; "none" and everything else is refused
    // here, before any key is used, so no token can pick how it is checked.
    const auto alg = header.find("alg");
    if (alg == header.end() || !alg->is_string() || *alg != "HS256") {
        return core::make_error("alg must be HS256");
    }
    // RFC 7519 §5.1: typ is optional; when present for a JWT it is "JWT" (compared
    // case-insensitively, as media types are).
    if (const auto typ = header.find("typ"); typ != header.end()) {
        if (!typ->is_string() || !iequals(typ->get_ref<const std::string&>(), "JWT")) {
            return core::make_error("typ must be JWT");
        }
    }
    // RFC 7515 §4.1.11: extensions listed in "crit" that are not understood MUST be rejected;
    // livehouse understands none.
    if (header.contains("crit")) {
        return core::make_error("crit is not supported");
    }
    return {};
}

} // namespace

std::string base64url_encode(std::string_view bytes) {
    std::string out;
    out.reserve((bytes.size() * 4 + 2) / 3);
    std::size_t i = 0;
    auto at = [&](std::size_t k) { return static_cast<unsigned char>(bytes[k]); };
    for (; i + 3 <= bytes.size(); i += 3) {
        const std::uint32_t v = (at(i) << 16U) | (at(i + 1) << 8U) | at(i + 2);
        out += alphabet[(v >> 18U) & 0x3FU];
        out += alphabet[(v >> 12U) & 0x3FU];
        out += alphabet[(v >> 6U) & 0x3FU];
        out += alphabet[v & 0x3FU];
    }
    const auto rest = bytes.size() - i;
    if (rest == 1) {
        const std::uint32_t v = at(i) << 16U;
        out += alphabet[(v >> 18U) & 0x3FU];
        out += alphabet[(v >> 12U) & 0x3FU];
    } else if (rest == 2) {
        const std::uint32_t v = (at(i) << 16U) | (at(i + 1) << 8U);
        out += alphabet[(v >> 18U) & 0x3FU];
        out += alphabet[(v >> 12U) & 0x3FU];
        out += alphabet[(v >> 6U) & 0x3FU];
    }
    return out;
}

core::result<std::string> base64url_decode(std::string_view text) {
    // RFC 4648 §5 without the padding RFC 7515 §2 drops: 4k, 4k+2 or 4k+3 characters.
    if (text.size() % 4 == 1) {
        return core::make_error("base64url: impossible length");
    }
    std::string out;
    out.reserve(text.size() * 3 / 4);
    std::uint32_t acc = 0;
    int bits = 0;
    std::int8_t last = 0;
    for (char c : text) {
        const auto v = decode_table[static_cast<unsigned char>(c)];
        if (v < 0) {
            return core::make_error(c == '=' ? "base64url: padding is not allowed"
                                             : "base64url: invalid character");
        }
        last = v;
        acc = (acc << 6U) | static_cast<std::uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((acc >> static_cast<unsigned>(bits)) & 0xFFU);
        }
    }
    // RFC 4648 §3.5: the pad bits of the last character must be zero, or one byte string would
    // have several encodings (and a signature several spellings).
    const auto unused = static_cast<unsigned>(bits); // 0, 2 (4k+3) or 4 (4k+2)
    if (unused != 0 && (static_cast<unsigned>(last) & ((1U << unused) - 1U)) != 0) {
        return core::make_error("base64url: non-zero trailing bits");
    }
    return out;
}

core::result<std::string> check_display_name(std::string_view name, std::size_t max_length) {
    constexpr std::string_view space = " \t\r\n\f\v";
    const auto first = name.find_first_not_of(space);
    if (first == std::string_view::npos) {
        return core::make_error("must not be empty");
    }
    const auto trimmed = name.substr(first, name.find_last_not_of(space) - first + 1);
    auto n = checked_length(trimmed);
    if (!n) {
        return n.err();
    }
    if (*n > max_length) {
        return core::make_error(fmt::format("longer than {} characters", max_length));
    }
    return std::string(trimmed);
}

core::result<std::string> sign(const json& payload, std::string_view secret) {
    if (auto r = check_secret(secret); !r) {
        return r.err();
    }
    if (!payload.is_object()) {
        return core::make_error("payload must be a JSON object");
    }
    std::string token = base64url_encode(header_json);
    token += '.';
    // error_handler replace: a non-UTF-8 string in a caller's object must not throw.
    token += base64url_encode(payload.dump(-1, ' ', false, json::error_handler_t::replace));
    const auto mac = hmac_sha256(secret, token);
    token += '.';
    token +=
        base64url_encode(std::string_view(reinterpret_cast<const char*>(mac.data()), mac.size()));
    return token;
}

core::result<std::string> sign(const claims& c, std::string_view secret) {
    json payload = json::object();
    payload["sub"] = c.sub;
    payload["name"] = c.name;
    payload["exp"] = c.exp;
    if (c.iat) {
        payload["iat"] = *c.iat;
    }
    if (c.nbf) {
        payload["nbf"] = *c.nbf;
    }
    if (c.role != "user") {
        payload["role"] = c.role;
    }
    return sign(payload, secret);
}

core::result<claims> verify(std::string_view token, std::string_view secret,
                            std::int64_t now_seconds, const limits& lim) {
    if (auto r = check_secret(secret); !r) {
        return r.err();
    }
    if (token.size() > lim.max_token_bytes) {
        return core::make_error(fmt::format("token longer than {} bytes", lim.max_token_bytes));
    }
    // RFC 7515 §7.1: exactly three parts. (Five would be JWE, RFC 7516, which is not accepted.)
    const auto dot1 = token.find('.');
    const auto dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
    if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
        return core::make_error("token must have three parts separated by '.'");
    }
    const auto header_b64 = token.substr(0, dot1);
    const auto payload_b64 = token.substr(dot1 + 1, dot2 - dot1 - 1);
    const auto signature_b64 = token.substr(dot2 + 1);

    auto header_text = base64url_decode(header_b64);
    if (!header_text) {
        return header_text.err().wrap("header");
    }
    auto header = parse_object(*header_text, lim);
    if (!header) {
        return header.err().wrap("header");
    }
    if (auto r = check_header(*header); !r) {
        return r.err();
    }

    auto signature = base64url_decode(signature_b64);
    if (!signature) {
        return signature.err().wrap("signature");
    }
    // RFC 7515 §5.2 step 5 and 6: the MAC over the first two parts as they were sent.
    const auto expected = hmac_sha256(secret, token.substr(0, dot2));
    if (signature->size() != expected.size() ||
        CRYPTO_memcmp(signature->data(), expected.data(), expected.size()) != 0) {
        return core::make_error("bad signature");
    }

    // Only now is the payload trusted enough to be parsed.
    auto payload_text = base64url_decode(payload_b64);
    if (!payload_text) {
        return payload_text.err().wrap("payload");
    }
    auto payload = parse_object(*payload_text, lim);
    if (!payload) {
        return payload.err().wrap("payload");
    }
    return read_claims(*payload, now_seconds, lim);
}

} // namespace livehouse::codec::jwt
