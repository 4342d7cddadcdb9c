// HS256 JWTs: base64url edge cases (RFC 4648 §10 vectors, padding, alphabet, canonical trailing
// bits), known answers computed with the openssl command line, round trips, and every refusal
// (alg, parts, signature, claims, limits), with no error message ever carrying the secret.
#include "codec/jwt/hs256.hpp"

#include <array>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <random>
#include <string>

namespace livehouse::codec::jwt {
namespace {

using json = nlohmann::json;
using ::testing::HasSubstr;

constexpr std::string_view secret = "livehouse-test-secret-0123456789abcdef";
constexpr std::int64_t iat = 1767225600; // 2026-01-01T00:00:00Z
constexpr std::int64_t exp = 1767229200; // one hour later

// Computed once, independently of this code, with the openssl command line:
//   b64u() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
//   H=$(printf '%s' '{"alg":"HS256","typ":"JWT"}' | b64u)
//   P=$(printf '%s' '{"sub":"u-42","name":"Ada Lovelace","exp":1767229200,"iat":1767225600}' |
//       b64u)
//   S=$(printf '%s' "$H.$P" |
//       openssl dgst -sha256 -hmac 'livehouse-test-secret-0123456789abcdef' -binary | b64u)
//   echo "$H.$P.$S"
constexpr std::string_view openssl_token =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
    "eyJzdWIiOiJ1LTQyIiwibmFtZSI6IkFkYSBMb3ZlbGFjZSIsImV4cCI6MTc2NzIyOTIwMCwiaWF0IjoxNzY3MjI1"
    "NjAwfQ.sD_3ckeqKPIGloEJLOJie-gsDrHAv7b9k0YO_oeqy1s";
// The same commands with
//   P = '{"exp":1767229200,"name":"  Grace  ","nbf":1767225000,"role":"admin","sub":"site-7"}'
constexpr std::string_view openssl_admin_token =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
    "eyJleHAiOjE3NjcyMjkyMDAsIm5hbWUiOiIgIEdyYWNlICAiLCJuYmYiOjE3NjcyMjUwMDAsInJvbGUiOiJhZG1p"
    "biIsInN1YiI6InNpdGUtNyJ9.8MHQgwJFbmxZxhwBpZD6HL4AKjYYnD9E6GO1qy9r62E";
// And with the payload as sign() writes it (nlohmann orders members by name):
//   P = '{"exp":1767229200,"iat":1767225600,"name":"Ada Lovelace","sub":"u-42"}'
constexpr std::string_view openssl_sorted_token =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
    "eyJleHAiOjE3NjcyMjkyMDAsImlhdCI6MTc2NzIyNTYwMCwibmFtZSI6IkFkYSBMb3ZlbGFjZSIsInN1YiI6InUt"
    "NDIifQ.SjhpdqkMJ-TcZ-dRuNzs3s7_6FnzHYAWeTPvEvFpu3E";

/// A token from raw header and payload text, MACed here (not through sign()), so malformed
/// headers and payloads can carry a valid signature.
std::string raw_token(std::string_view header, std::string_view payload,
                      std::string_view key = secret) {
    std::string input = base64url_encode(header) + "." + base64url_encode(payload);
    std::array<unsigned char, 32> mac{};
    unsigned int len = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
         reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac.data(), &len);
    return input + "." +
           base64url_encode(std::string_view(reinterpret_cast<const char*>(mac.data()), len));
}

constexpr std::string_view hs256_header = R"({"alg":"HS256","typ":"JWT"})";

std::string payload_with(const json& changes, const std::vector<std::string>& remove = {}) {
    json p = {{"sub", "u-1"}, {"name", "Ann"}, {"exp", exp}, {"iat", iat}};
    for (const auto& [k, v] : changes.items()) {
        p[k] = v;
    }
    for (const auto& k : remove) {
        p.erase(k);
    }
    return p.dump();
}

/// Verifies at iat + 10 s and returns the error message ("(ok)" when it verified).
std::string refusal(std::string_view token, std::int64_t now = iat + 10,
                    std::string_view key = secret) {
    auto r = verify(token, key, now);
    if (r) {
        return "(ok)";
    }
    // Whatever went wrong, the message never shows the secret.
    EXPECT_THAT(r.err().message, ::testing::Not(HasSubstr(std::string(secret))));
    return r.err().message;
}

// --- base64url --------------------------------------------------------------------------------

TEST(Base64url, Rfc4648TestVectorsWithoutPadding) {
    // RFC 4648 §10, padding dropped as RFC 7515 §2 requires.
    const std::pair<std::string_view, std::string_view> vectors[] = {
        {"", ""},           {"f", "Zg"},          {"fo", "Zm8"},          {"foo", "Zm9v"},
        {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"},
    };
    for (const auto& [plain, encoded] : vectors) {
        EXPECT_EQ(base64url_encode(plain), encoded);
        auto d = base64url_decode(encoded);
        ASSERT_TRUE(d) << encoded << ": " << d.err().message;
        EXPECT_EQ(*d, plain);
    }
}

TEST(Base64url, UsesTheUrlSafeAlphabet) {
    // 0xFB 0xFF is "+/8" in base64 and "-_8" in base64url (RFC 4648 §5).
    EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
    auto d = base64url_decode("-_8");
    ASSERT_TRUE(d);
    EXPECT_EQ(*d, "\xfb\xff");
}

TEST(Base64url, RoundTripsEveryLengthAndByte) {
    std::mt19937 gen(7);
    for (std::size_t n = 0; n < 100; ++n) {
        std::string bytes(n, '\0');
        for (auto& c : bytes) {
            c = static_cast<char>(gen());
        }
        const auto e = base64url_encode(bytes);
        EXPECT_EQ(e.find_first_of("+/="), std::string::npos);
        auto d = base64url_decode(e);
        ASSERT_TRUE(d) << n;
        EXPECT_EQ(*d, bytes);
    }
}

TEST(Base64url, RefusesPaddingBadCharactersAndImpossibleLengths) {
    EXPECT_THAT(base64url_decode("Zg==").err().message, HasSubstr("padding"));
    EXPECT_THAT(base64url_decode("Zm8=").err().message, HasSubstr("padding"));
    const std::string_view bad_characters[] = {
        "Zm9+", "Zm9/", " Zg", "Zg ", "Zm\n9", "Zm.9", std::string_view("Z\0g", 3)};
    for (std::string_view bad : bad_characters) {
        auto r = base64url_decode(bad);
        ASSERT_FALSE(r) << bad;
        EXPECT_THAT(r.err().message, HasSubstr("invalid character")) << bad;
    }
    for (std::string_view bad : {"Z", "Zm9vY", "Zm9vYmFyZ"}) {
        auto r = base64url_decode(bad);
        ASSERT_FALSE(r) << bad;
        EXPECT_THAT(r.err().message, HasSubstr("length")) << bad;
    }
}

TEST(Base64url, RefusesNonCanonicalTrailingBits) {
    // "f" is Zg: 'g' = 100000, its low 4 bits are padding. 'h' = 100001 sets one.
    EXPECT_THAT(base64url_decode("Zh").err().message, HasSubstr("trailing bits"));
    // "fo" is Zm8: '8' = 111100, low 2 bits padding; '9' = 111101.
    EXPECT_THAT(base64url_decode("Zm9").err().message, HasSubstr("trailing bits"));
    EXPECT_TRUE(base64url_decode("Zm8"));
    EXPECT_TRUE(base64url_decode("Zg"));
}

// --- known answers and round trips -------------------------------------------------------------

TEST(Hs256, VerifiesATokenMadeWithOpensslCommandLine) {
    auto c = verify(openssl_token, secret, iat + 10);
    ASSERT_TRUE(c) << c.err().message;
    EXPECT_EQ(c->sub, "u-42");
    EXPECT_EQ(c->name, "Ada Lovelace");
    EXPECT_EQ(c->exp, exp);
    EXPECT_EQ(c->iat, iat);
    EXPECT_EQ(c->nbf, std::nullopt);
    EXPECT_EQ(c->role, "user");
}

TEST(Hs256, ReadsRoleAndNbfAndTrimsTheName) {
    auto c = verify(openssl_admin_token, secret, iat + 10);
    ASSERT_TRUE(c) << c.err().message;
    EXPECT_EQ(c->sub, "site-7");
    EXPECT_EQ(c->name, "Grace");
    EXPECT_EQ(c->role, "admin");
    EXPECT_EQ(c->nbf, 1767225000);
    EXPECT_EQ(c->iat, std::nullopt);
}

TEST(Hs256, SignMatchesTheOpensslCommandLine) {
    claims c;
    c.sub = "u-42";
    c.name = "Ada Lovelace";
    c.exp = exp;
    c.iat = iat;
    auto t = sign(c, secret);
    ASSERT_TRUE(t) << t.err().message;
    EXPECT_EQ(*t, openssl_sorted_token);
}

TEST(Hs256, RoundTripsClaims) {
    claims c;
    c.sub = "g-0123456789abcdef";
    c.name = "Zoë 🎸";
    c.exp = exp;
    c.iat = iat;
    c.nbf = iat - 5;
    c.role = "admin";
    auto t = sign(c, secret);
    ASSERT_TRUE(t) << t.err().message;
    auto back = verify(*t, secret, iat);
    ASSERT_TRUE(back) << back.err().message;
    EXPECT_EQ(*back, c);
}

TEST(Hs256, SignsAnyJsonObjectAndIgnoresUnknownClaims) {
    const json payload = {{"sub", "u-1"},
                          {"name", "Ann"},
                          {"exp", exp},
                          {"aud", "example.com"},
                          {"site", {{"plan", "pro"}, {"groups", {1, 2, 3}}}}};
    auto t = sign(payload, secret);
    ASSERT_TRUE(t) << t.err().message;
    auto c = verify(*t, secret, iat);
    ASSERT_TRUE(c) << c.err().message;
    EXPECT_EQ(c->sub, "u-1");
    EXPECT_FALSE(sign(json::array({1}), secret));
    EXPECT_FALSE(sign(json("x"), secret));
}

// --- refusals: secret, shape, header ------------------------------------------------------------

TEST(Hs256, RefusesSecretsShorterThan32Bytes) {
    const std::string short_secret(31, 'k');
    EXPECT_THAT(sign(json::object(), short_secret).err().message, HasSubstr("32 bytes"));
    EXPECT_THAT(verify(openssl_token, short_secret, iat).err().message, HasSubstr("32 bytes"));
    EXPECT_FALSE(verify(openssl_token, "", iat));
    // 32 bytes is enough.
    EXPECT_TRUE(sign(json::object(), std::string(32, 'k')));
}

TEST(Hs256, RefusesAWrongSecret) {
    EXPECT_EQ(refusal(openssl_token, iat + 10, "livehouse-test-secret-0123456789abcdeF"),
              "bad signature");
}

TEST(Hs256, NeedsExactlyThreeParts) {
    const std::string t(openssl_token);
    for (const std::string& bad :
         {std::string(), std::string("abc"), std::string("a.b"), t.substr(0, t.rfind('.')), t + ".",
          t + ".x", std::string("...."), std::string("a.b.c.d.e")}) {
        EXPECT_THAT(refusal(bad), HasSubstr("three parts")) << bad;
    }
}

TEST(Hs256, RefusesTokensOverTheLengthLimit) {
    const auto big = raw_token(hs256_header, payload_with({{"pad", std::string(4000, 'x')}}));
    ASSERT_GT(big.size(), 4096U);
    EXPECT_THAT(refusal(big), HasSubstr("longer than 4096 bytes"));
    limits roomy;
    roomy.max_token_bytes = 8192;
    EXPECT_TRUE(verify(big, secret, iat, roomy));
}

TEST(Hs256, RefusesAlgNoneAndEveryOtherAlg) {
    // The classic forgery: alg "none" and an empty signature (RFC 8725 §2.1).
    const std::string none = base64url_encode(R"({"alg":"none","typ":"JWT"})") + "." +
                             base64url_encode(payload_with({})) + ".";
    EXPECT_EQ(refusal(none), "alg must be HS256");
    for (std::string_view header :
         {R"({"alg":"none"})", R"({"alg":"None"})", R"({"alg":"hs256"})", R"({"alg":"HS512"})",
          R"({"alg":"HS384"})", R"({"alg":"RS256"})", R"({"alg":"ES256"})", R"({"typ":"JWT"})",
          R"({"alg":null})", R"({"alg":256})", R"({"alg":["HS256"]})", R"({"alg":"HS256 "})"}) {
        // Even correctly MACed with the secret: the algorithm is ours to choose, not the token's.
        EXPECT_EQ(refusal(raw_token(header, payload_with({}))), "alg must be HS256") << header;
    }
}

TEST(Hs256, ChecksTypAndCritAndIgnoresOtherHeaderParameters) {
    EXPECT_EQ(refusal(raw_token(R"({"alg":"HS256","typ":"JWS"})", payload_with({}))),
              "typ must be JWT");
    EXPECT_EQ(refusal(raw_token(R"({"alg":"HS256","typ":1})", payload_with({}))),
              "typ must be JWT");
    EXPECT_EQ(refusal(raw_token(R"({"alg":"HS256","crit":["exp"],"exp":1})", payload_with({}))),
              "crit is not supported");
    // typ is optional and compared case-insensitively; kid is ignored.
    EXPECT_EQ(refusal(raw_token(R"({"alg":"HS256"})", payload_with({}))), "(ok)");
    EXPECT_EQ(refusal(raw_token(R"({"alg":"HS256","typ":"jwt","kid":"k1"})", payload_with({}))),
              "(ok)");
}

TEST(Hs256, RefusesHeadersThatAreNotJsonObjects) {
    EXPECT_THAT(refusal(raw_token("not json", payload_with({}))),
                HasSubstr("header: not valid JSON"));
    EXPECT_THAT(refusal(raw_token("", payload_with({}))), HasSubstr("header: not valid JSON"));
    EXPECT_THAT(refusal(raw_token(R"(["HS256"])", payload_with({}))),
                HasSubstr("header: not a JSON object"));
    EXPECT_THAT(refusal(raw_token("{\"alg\":\"HS256\",\"x\":\"\xff\"}", payload_with({}))),
                HasSubstr("header: not valid JSON"));
    const std::string deep =
        R"({"alg":"HS256","x":)" + std::string(9, '[') + std::string(9, ']') + "}";
    EXPECT_THAT(refusal(raw_token(deep, payload_with({}))), HasSubstr("header: nested deeper"));
    // The part itself must be base64url.
    const std::string t(openssl_token);
    EXPECT_THAT(refusal("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9==" + t.substr(t.find('.'))),
                HasSubstr("header: base64url"));
}

// --- refusals: signature and tampering ----------------------------------------------------------

TEST(Hs256, RefusesATamperedPayload) {
    // Re-encode the payload with a different sub, keep header and signature.
    const std::string t(openssl_token);
    const auto dot1 = t.find('.');
    const auto dot2 = t.rfind('.');
    const auto forged_payload = base64url_encode(
        R"({"sub":"u-43","name":"Ada Lovelace","exp":1767229200,"iat":1767225600})");
    EXPECT_EQ(refusal(t.substr(0, dot1 + 1) + forged_payload + t.substr(dot2)), "bad signature");
    // One character changed in place.
    auto flipped = t;
    flipped[dot1 + 5] = flipped[dot1 + 5] == 'A' ? 'B' : 'A';
    EXPECT_EQ(refusal(flipped), "bad signature");
    // A longer exp, the attack tokens are tampered for.
    const auto later = base64url_encode(
        R"({"sub":"u-42","name":"Ada Lovelace","exp":9767229200,"iat":1767225600})");
    EXPECT_EQ(refusal(t.substr(0, dot1 + 1) + later + t.substr(dot2)), "bad signature");
}

TEST(Hs256, RefusesATamperedHeader) {
    const std::string t(openssl_token);
    const auto header = base64url_encode(R"({"alg":"HS256","typ":"JWT","kid":"x"})");
    EXPECT_EQ(refusal(header + t.substr(t.find('.'))), "bad signature");
    // Same JSON, different spelling (whitespace): the MAC is over the bytes sent.
    const auto spaced = base64url_encode(R"({"alg": "HS256", "typ": "JWT"})");
    EXPECT_EQ(refusal(spaced + t.substr(t.find('.'))), "bad signature");
}

TEST(Hs256, RefusesATamperedOrMalformedSignature) {
    const std::string t(openssl_token);
    const auto dot2 = t.rfind('.');
    auto flipped = t;
    flipped[dot2 + 1] = flipped[dot2 + 1] == 's' ? 't' : 's';
    EXPECT_EQ(refusal(flipped), "bad signature");
    EXPECT_EQ(refusal(t.substr(0, dot2 + 1)), "bad signature"); // empty signature
    // A truncated MAC: 40 characters decode to 30 bytes.
    EXPECT_EQ(refusal(t.substr(0, t.size() - 3)), "bad signature");
    // A MAC with a byte appended: 44 characters decode to 33 bytes.
    EXPECT_EQ(refusal(t + "A"), "bad signature");
    // The last character 's' (101100) carries 2 pad bits; 't' (101101) sets one: the same MAC
    // spelled non-canonically is refused too.
    ASSERT_EQ(t.back(), 's');
    EXPECT_THAT(refusal(t.substr(0, t.size() - 1) + "t"),
                HasSubstr("signature: base64url: non-zero trailing bits"));
    EXPECT_THAT(refusal(t + "="), HasSubstr("signature: base64url: padding"));
    EXPECT_THAT(refusal(t.substr(0, dot2 + 1) + "!!!!"), HasSubstr("signature: base64url"));
}

// --- refusals: claims ---------------------------------------------------------------------------

TEST(Hs256, RefusesExpiredTokensWithLeeway) {
    const auto t = raw_token(hs256_header, payload_with({}));
    // RFC 7519 §4.1.4: valid strictly before exp; 30 s of leeway by default.
    EXPECT_EQ(refusal(t, exp - 1), "(ok)");
    EXPECT_EQ(refusal(t, exp), "(ok)");
    EXPECT_EQ(refusal(t, exp + 29), "(ok)");
    EXPECT_EQ(refusal(t, exp + 30), "token expired");
    EXPECT_EQ(refusal(t, exp + 86400), "token expired");
    limits strict;
    strict.leeway_seconds = 0;
    EXPECT_EQ(verify(t, secret, exp - 1, strict).has_value(), true);
    EXPECT_EQ(verify(t, secret, exp, strict).err().message, "token expired");
}

TEST(Hs256, HonoursNotBefore) {
    const auto t = raw_token(hs256_header, payload_with({{"nbf", iat + 100}}));
    EXPECT_EQ(refusal(t, iat), "token not yet valid");
    EXPECT_EQ(refusal(t, iat + 69), "token not yet valid");
    EXPECT_EQ(refusal(t, iat + 70), "(ok)"); // nbf - 30 s leeway
    EXPECT_EQ(refusal(t, iat + 100), "(ok)");
}

TEST(Hs256, RefusesMissingOrMistypedTimes) {
    EXPECT_EQ(refusal(raw_token(hs256_header, payload_with({}, {"exp"}))), "exp: required");
    EXPECT_EQ(refusal(raw_token(hs256_header, payload_with({{"exp", "1767229200"}}))),
              "exp: must be an integer");
    EXPECT_EQ(refusal(raw_token(hs256_header, payload_with({{"exp", 1767229200.5}}))),
              "exp: must be an integer");
    EXPECT_EQ(refusal(raw_token(hs256_header, payload_with({{"exp", nullptr}}))),
              "exp: must be an integer");
    EXPECT_EQ(
        refusal(raw_token(hs256_header, R"({"sub":"u","name":"n","exp":18446744073709551615})")),
        "exp: out of range");
    EXPECT_EQ(refusal(raw_token(hs256_header, R"({"sub":"u","name":"n","exp":1e300})")),
              "exp: must be an integer");
    EXPECT_EQ(refusal(raw_token(hs256_header, payload_with({{"iat", "now"}}))),
              "iat: must be an integer");
    EXPECT_EQ(refusal(raw_token(hs256_header, payload_with({{"nbf", 1.5}}))),
              "nbf: must be an integer");
    // A far-future exp is fine (and no arithmetic overflows on it).
    EXPECT_EQ(refusal(raw_token(hs256_header, payload_with({{"exp", INT64_MAX}}))), "(ok)");
    EXPECT_EQ(refusal(raw_token(hs256_header, payload_with({{"exp", INT64_MIN}}))),
              "token expired");
}

TEST(Hs256, ChecksSub) {
    EXPECT_EQ(refusal(raw_token(hs256_header, payload_with({}, {"sub"}))), "sub: required");
    EXPECT_EQ(refusal(raw_token(hs256_header, payload_with({{"sub", 42}}))),
              "sub: must be a string");
    EXPECT_EQ(refusal(raw_token(hs256_header, payload_with({{"sub", ""}}))),
              "sub: must be 1..64 characters");
    EXPECT_EQ(refusal(raw_token(hs256_header, payload_with({{"sub", std::string(65, 'a')}}))),
              "sub: must be 1..64 characters");
    EXPECT_EQ(refusal(raw_token(hs256_header, payload_with({{"sub", std::string(64, 'a')}}))),
              "(ok)");
    EXPECT_EQ(refusal(raw_token(hs256_header, payload_with({{"sub", "a\nb"}}))),
              "sub: must not contain control characters");
}

TEST(Hs256, ChecksName) {
    EXPECT_EQ(refusal(raw_token(hs256_header, payload_with({}, {"name"}))), "name: required");
    EXPECT_EQ(refusal(raw_token(hs256_header, payload_with({{"name", true}}))),
              "name: must be a string");
    EXPECT_EQ(refusal(raw_token(hs256_header, payload_with({{"name", " \t "}}))),
              "name: must not be empty");
    EXPECT_EQ(refusal(raw_token(hs256_header, payload_with({{"name", "a\u0007b"}}))),
              "name: must not contain control characters");
    EXPECT_EQ(refusal(raw_token(hs256_header, payload_with({{"name", "a\u0085b"}}))),
              "name: must not contain control characters");
    EXPECT_EQ(refusal(raw_token(hs256_header, payload_with({{"name", "a\u007fb"}}))),
              "name: must not contain control characters");
    // 64 code points of two bytes each fit; 65 do not.
    std::string e64;
    for (int i = 0; i < 64; ++i) {
        e64 += "é";
    }
    EXPECT_EQ(refusal(raw_token(hs256_header, payload_with({{"name", e64}}))), "(ok)");
    EXPECT_EQ(refusal(raw_token(hs256_header, payload_with({{"name", e64 + "é"}}))),
              "name: longer than 64 characters");
}

TEST(Hs256, ChecksRole) {
    EXPECT_EQ(refusal(raw_token(hs256_header, payload_with({{"role", "root"}}))),
              R"(role: must be "user" or "admin")");
    EXPECT_EQ(refusal(raw_token(hs256_header, payload_with({{"role", 1}}))),
              R"(role: must be "user" or "admin")");
    auto c = verify(raw_token(hs256_header, payload_with({{"role", "user"}})), secret, iat);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->role, "user");
}

TEST(Hs256, RefusesPayloadsThatAreNotJsonObjects) {
    EXPECT_THAT(refusal(raw_token(hs256_header, "[1,2]")), HasSubstr("payload: not a JSON object"));
    EXPECT_THAT(refusal(raw_token(hs256_header, "{\"sub\":")),
                HasSubstr("payload: not valid JSON"));
    EXPECT_THAT(refusal(raw_token(hs256_header, "")), HasSubstr("payload: not valid JSON"));
    const std::string deep = std::string(9, '[') + std::string(9, ']');
    EXPECT_THAT(refusal(raw_token(hs256_header, payload_with({{"x", json::parse(deep)}}))),
                HasSubstr("payload: nested deeper than 8"));
    // Brackets inside strings do not count as nesting.
    EXPECT_EQ(refusal(raw_token(hs256_header, payload_with({{"x", std::string(50, '[')}}))),
              "(ok)");
}

TEST(Hs256, ErrorMessagesNeverContainTheSecret) {
    // A payload quoting the secret, signed with another key: the refusal must not echo it.
    const auto other = std::string(40, 'z');
    const auto t = raw_token(hs256_header, payload_with({{"name", std::string(secret)}}), other);
    EXPECT_EQ(refusal(t), "bad signature");
    auto r = verify(t, other, exp + 100);
    ASSERT_FALSE(r);
    EXPECT_THAT(r.err().message, ::testing::Not(HasSubstr(other)));
}

// --- display names ------------------------------------------------------------------------------

TEST(DisplayName, TrimsAndCountsCodePoints) {
    EXPECT_EQ(*check_display_name("  Ann Lee \t", 32), "Ann Lee");
    EXPECT_EQ(*check_display_name("日本語", 3), "日本語");
    EXPECT_THAT(check_display_name("日本語", 2).err().message, HasSubstr("longer than 2"));
    EXPECT_THAT(check_display_name("", 32).err().message, HasSubstr("empty"));
    EXPECT_THAT(check_display_name("\n", 32).err().message, HasSubstr("empty"));
    EXPECT_THAT(check_display_name("a\tb", 32).err().message, HasSubstr("control"));
}

TEST(DisplayName, RefusesInvalidUtf8) {
    for (std::string_view bad : {"\xc0\xaf", "\xed\xa0\x80", "\xe2\x82", "\xff", "a\x80",
                                 "\xf4\x90\x80\x80", "\xe0\x80\xaf"}) {
        auto r = check_display_name(bad, 32);
        ASSERT_FALSE(r) << ::testing::PrintToString(bad);
        EXPECT_THAT(r.err().message, HasSubstr("UTF-8"));
    }
}

} // namespace
} // namespace livehouse::codec::jwt
