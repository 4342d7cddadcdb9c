// User tokens and the auth routes: guest minting (id, name rules, expiry on the manual clock),
// where a request's token is read from (Bearer header, then ?token=), tokens a site mints with
// the shared secret, the token-bucket rate limiter (burst, refill, bounded map), and
// POST /api/v1/auth/guest and GET /api/v1/auth/me driven through the router.
#include "codec/jwt/hs256.hpp"
#include "service_fixture.hpp"
#include "services/auth/auth_service.hpp"
#include "services/auth/user_tokens.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <random>
#include <regex>
#include <set>

namespace livehouse::services::auth {
namespace {

using json = nlohmann::json;
using testing::call_result;
using ::testing::HasSubstr;
using testing::service_fixture;
using ::testing::StartsWith;
namespace http = net::http;

constexpr std::string_view secret = "auth-test-secret-0123456789abcdef-xyz";
constexpr std::int64_t start = 1767225600; // the manual clock's wall time, 2026-01-01T00:00:00Z

std::shared_ptr<user_tokens> make_tokens(const core::clock& clock,
                                         std::chrono::seconds ttl = std::chrono::hours(24)) {
    auto t = user_tokens::create({.secret = std::string(secret), .ttl = ttl, .limits = {}}, clock);
    EXPECT_TRUE(t) << t.err().message;
    return t ? *t : nullptr;
}

net::request request_to(std::string_view target,
                        std::optional<std::string> authorization = std::nullopt) {
    net::request req{http::verb::get, target, 11};
    if (authorization) {
        req.set(http::field::authorization, *authorization);
    }
    return req;
}

// --- user_tokens --------------------------------------------------------------------------------

TEST(UserTokens, CreateRefusesShortSecretsAndZeroTtl) {
    core::manual_clock clock;
    auto short_secret = user_tokens::create(
        {.secret = std::string(31, 'x'), .ttl = std::chrono::hours(1), .limits = {}}, clock);
    ASSERT_FALSE(short_secret);
    EXPECT_THAT(short_secret.err().message, HasSubstr("32 bytes"));
    EXPECT_FALSE(user_tokens::create(
        {.secret = std::string(secret), .ttl = std::chrono::seconds(0), .limits = {}}, clock));
}

TEST(UserTokens, MintsGuestsThatVerify) {
    core::manual_clock clock;
    auto tokens = make_tokens(clock);
    auto g = tokens->mint_guest("  Ann  ");
    ASSERT_TRUE(g) << g.err().message;
    EXPECT_TRUE(std::regex_match(g->who.id, std::regex("^g-[0-9a-f]{24}$"))) << g->who.id;
    EXPECT_EQ(g->who.name, "Ann");
    EXPECT_EQ(g->who.role, "user");
    EXPECT_EQ(g->who.expires_at, start + 86400);
    EXPECT_TRUE(g->who.is_guest());
    EXPECT_FALSE(g->who.is_admin());
    auto back = tokens->verify(g->token);
    ASSERT_TRUE(back) << back.err().message;
    EXPECT_EQ(*back, g->who);
    // It is a plain HS256 JWT under the configured secret, with iat.
    auto c = codec::jwt::verify(g->token, secret, start);
    ASSERT_TRUE(c) << c.err().message;
    EXPECT_EQ(c->iat, start);
    EXPECT_EQ(c->sub, g->who.id);
}

TEST(UserTokens, GuestIdsAreDistinct) {
    core::manual_clock clock;
    auto tokens = make_tokens(clock);
    std::set<std::string> ids;
    for (int i = 0; i < 200; ++i) {
        ids.insert(tokens->mint_guest("x")->who.id);
    }
    EXPECT_EQ(ids.size(), 200U);
}

TEST(UserTokens, GuestNamesAreChecked) {
    core::manual_clock clock;
    auto tokens = make_tokens(clock);
    EXPECT_EQ(tokens->mint_guest("").err().message, "name: must not be empty");
    EXPECT_EQ(tokens->mint_guest(" \t ").err().message, "name: must not be empty");
    EXPECT_EQ(tokens->mint_guest(std::string(33, 'a')).err().message,
              "name: longer than 32 characters");
    EXPECT_TRUE(tokens->mint_guest(std::string(32, 'a')));
    EXPECT_EQ(tokens->mint_guest("a\x1b[31mb").err().message,
              "name: must not contain control characters");
    EXPECT_EQ(tokens->mint_guest("\xff").err().message, "name: not valid UTF-8");
}

TEST(UserTokens, GuestTokensExpireAfterTheTtl) {
    core::manual_clock clock;
    auto tokens = make_tokens(clock, std::chrono::seconds(60));
    auto g = tokens->mint_guest("Ann");
    ASSERT_TRUE(g);
    clock.advance(std::chrono::seconds(60 + 29)); // within the 30 s leeway
    EXPECT_TRUE(tokens->verify(g->token));
    clock.advance(std::chrono::seconds(1));
    EXPECT_EQ(tokens->verify(g->token).err().message, "token expired");
}

TEST(UserTokens, ARememberedTokenAnswersAsAFullVerify) {
    core::manual_clock clock;
    auto tokens = make_tokens(clock, std::chrono::seconds(60));
    auto g = tokens->mint_guest("Ann");
    ASSERT_TRUE(g);
    ASSERT_TRUE(tokens->verify(g->token)); // now remembered
    // Any other byte string misses the cache and is verified in full: a changed signature, a
    // prefix of the token.
    // A character inside the signature: the last one also carries base64url's padding bits,
    // which would make some tokens fail on those instead of on the signature.
    auto forged = g->token;
    auto& c = forged[forged.size() - 10];
    c = c == 'A' ? 'B' : 'A';
    EXPECT_EQ(tokens->verify(forged).err().message, "bad signature");
    EXPECT_FALSE(tokens->verify(g->token.substr(0, g->token.size() - 1)));
    auto again = tokens->verify(g->token);
    ASSERT_TRUE(again);
    EXPECT_EQ(again->id, g->who.id);
    EXPECT_EQ(again->name, "Ann");
    // nbf: not accepted before it (nor remembered), accepted from it on.
    const json later = {
        {"sub", "site-7"}, {"name", "Bo"}, {"nbf", start + 100}, {"exp", start + 600}};
    auto t = codec::jwt::sign(later, secret);
    ASSERT_TRUE(t);
    EXPECT_FALSE(tokens->verify(*t));
    EXPECT_FALSE(tokens->verify(*t)) << "a refused token is not remembered";
    clock.advance(std::chrono::seconds(100 - 30)); // the 30 s leeway
    EXPECT_TRUE(tokens->verify(*t));
}

TEST(VerifiedTokens, StayWithinTheirCapacity) {
    verified_tokens cache(16, 30);
    user who{.id = "u", .name = "U", .role = "user", .expires_at = start + 600};
    for (int i = 0; i < 1000; ++i) {
        cache.add("token-" + std::to_string(i), who, std::nullopt);
    }
    EXPECT_LE(cache.size(), 16U);
    EXPECT_TRUE(cache.find("token-999", start)) << "the latest is kept";
    EXPECT_FALSE(cache.find("token-999", start + 630)) << "past exp + leeway";
    EXPECT_FALSE(cache.find("token-999", start)) << "and forgotten once expired";
    verified_tokens off(0, 30);
    off.add("t", who, std::nullopt);
    EXPECT_FALSE(off.find("t", start));
}

TEST(UserTokens, AcceptsTokensASiteMintsWithTheSecret) {
    core::manual_clock clock;
    auto tokens = make_tokens(clock);
    const json site_claims = {{"sub", "member-1001"},
                              {"name", "Moderator Mia"},
                              {"role", "admin"},
                              {"exp", start + 600},
                              {"email", "mia@example.com"}};
    auto t = codec::jwt::sign(site_claims, secret);
    ASSERT_TRUE(t);
    auto u = tokens->verify(*t);
    ASSERT_TRUE(u) << u.err().message;
    EXPECT_EQ(u->id, "member-1001");
    EXPECT_TRUE(u->is_admin());
    EXPECT_FALSE(u->is_guest());
    // The same claims under another secret are not accepted.
    auto other = codec::jwt::sign(site_claims, std::string(32, 'o'));
    EXPECT_EQ(tokens->verify(*other).err().message, "bad signature");
}

TEST(UserTokens, ReadsBearerHeaders) {
    core::manual_clock clock;
    auto tokens = make_tokens(clock);
    const auto g = tokens->mint_guest("Ann").value();
    EXPECT_EQ(tokens->from_authorization("Bearer " + g.token), g.who);
    EXPECT_EQ(tokens->from_authorization("bearer   " + g.token + " "), g.who);
    EXPECT_EQ(tokens->from_authorization("Basic " + g.token), std::nullopt);
    EXPECT_EQ(tokens->from_authorization(g.token), std::nullopt);
    EXPECT_EQ(tokens->from_authorization("Bearer "), std::nullopt);
    EXPECT_EQ(tokens->from_authorization("Bearer " + g.token + "x"), std::nullopt);
    EXPECT_EQ(tokens->from_authorization(""), std::nullopt);
}

TEST(UserTokens, ReadsTheRequestHeaderThenTheQuery) {
    core::manual_clock clock;
    auto tokens = make_tokens(clock);
    const auto ann = tokens->mint_guest("Ann").value();
    const auto bob = tokens->mint_guest("Bob").value();
    EXPECT_EQ(tokens->user_from_request(request_to("/chat/x", "Bearer " + ann.token)), ann.who);
    EXPECT_EQ(tokens->user_from_request(request_to("/chat/x?token=" + ann.token)), ann.who);
    EXPECT_EQ(tokens->user_from_request(request_to("/chat/x?a=1&token=" + ann.token + "&b=2")),
              ann.who);
    // The header wins over the query; a bad Bearer is not rescued by a good query token.
    EXPECT_EQ(
        tokens->user_from_request(request_to("/chat/x?token=" + bob.token, "Bearer " + ann.token)),
        ann.who);
    EXPECT_EQ(tokens->user_from_request(request_to("/chat/x?token=" + bob.token, "Bearer nope")),
              std::nullopt);
    // A non-Bearer Authorization (say, a proxy's Basic) leaves the query to decide.
    EXPECT_EQ(tokens->user_from_request(request_to("/chat/x?token=" + bob.token, "Basic eDp5")),
              bob.who);
    EXPECT_EQ(tokens->user_from_request(request_to("/chat/x")), std::nullopt);
    EXPECT_EQ(tokens->user_from_request(request_to("/chat/x?token=")), std::nullopt);
    EXPECT_EQ(tokens->user_from_request(request_to("/chat/x?token=garbage")), std::nullopt);
}

TEST(QueryToken, FindsTheFirstTokenParameter) {
    EXPECT_EQ(query_token("token=abc"), "abc");
    EXPECT_EQ(query_token("a=1&token=abc&b=2"), "abc");
    EXPECT_EQ(query_token("token=a&token=b"), "a");
    EXPECT_EQ(query_token("token=a.b.c#frag"), "a.b.c");
    EXPECT_EQ(query_token("xtoken=a&tokens=b&token"), "");
    EXPECT_EQ(query_token(""), "");
    EXPECT_EQ(query_token("token="), "");
    EXPECT_EQ(query_token("&&&"), "");
    EXPECT_EQ(query_token("=&=&token=z"), "z");
    EXPECT_EQ(query_token("#token=a"), "");
}

TEST(QueryToken, SurvivesAnyInput) {
    std::mt19937 gen(4);
    const std::string alphabet("token=&#?%a.\0\xff", 14);
    for (int i = 0; i < 20000; ++i) {
        std::string q(gen() % 40, '\0');
        for (auto& c : q) {
            c = alphabet[gen() % alphabet.size()];
        }
        const auto t = query_token(q);
        // Whatever comes back is a piece of the input (a view into it, no '&' or '#').
        if (!t.empty()) {
            EXPECT_GE(t.data(), q.data());
            EXPECT_LE(t.data() + t.size(), q.data() + q.size());
            EXPECT_EQ(t.find_first_of("&#"), std::string_view::npos);
        }
    }
}

// --- the routes ---------------------------------------------------------------------------------

class auth_routes_test : public ::testing::Test, public service_fixture {
  protected:
    explicit auth_routes_test(auth_options options = {}) {
        ctx.user_tokens = make_tokens(clock);
        register_routes(router, ctx, options);
    }
    call_result guest(std::string body) {
        return call(http::verb::post, "/api/v1/auth/guest", std::move(body));
    }
    static json body_json(const call_result& res) {
        return json::parse(res.body(), nullptr, false);
    }
    std::string error_of(std::string body, http::status expected = http::status::bad_request) {
        const auto res = guest(std::move(body));
        EXPECT_EQ(res.responses, 1);
        EXPECT_EQ(res.r().status, expected) << res.body();
        EXPECT_EQ(res.r().cache_control, "no-store");
        const auto j = body_json(res);
        return j.is_object() && j.contains("error") ? j["error"].get<std::string>() : res.body();
    }
};

TEST_F(auth_routes_test, GuestAnswers201WithTokenUserAndExpiry) {
    const auto res = guest(R"({"name": "  Ann Lee "})");
    ASSERT_EQ(res.responses, 1);
    ASSERT_EQ(res.r().status, http::status::created) << res.body();
    EXPECT_EQ(res.r().cache_control, "no-store");
    EXPECT_TRUE(res.r().cors);
    const auto j = body_json(res);
    ASSERT_TRUE(j.is_object()) << res.body();
    EXPECT_EQ(j["user"]["name"], "Ann Lee");
    EXPECT_THAT(j["user"]["id"].get<std::string>(), StartsWith("g-"));
    EXPECT_EQ(j["expires_at"], "2026-01-02T00:00:00.000Z");
    auto u = ctx.user_tokens->verify(j["token"].get<std::string>());
    ASSERT_TRUE(u) << u.err().message;
    EXPECT_EQ(u->id, j["user"]["id"]);
    EXPECT_EQ(u->name, "Ann Lee");
}

TEST_F(auth_routes_test, GuestRefusesBadBodiesWith400NamingTheField) {
    EXPECT_EQ(error_of(""), "body: not valid JSON");
    EXPECT_EQ(error_of("{\"name\":"), "body: not valid JSON");
    EXPECT_EQ(error_of("name=Ann"), "body: not valid JSON");
    EXPECT_EQ(error_of(R"(["Ann"])"), "body: must be a JSON object");
    EXPECT_EQ(error_of("{}"), "name: required");
    EXPECT_EQ(error_of(R"({"name": 7})"), "name: must be a string");
    EXPECT_EQ(error_of(R"({"name": null})"), "name: must be a string");
    EXPECT_EQ(error_of(R"({"name": ""})"), "name: must not be empty");
    EXPECT_EQ(error_of(R"({"name": "   "})"), "name: must not be empty");
    EXPECT_EQ(error_of(json{{"name", std::string(33, 'n')}}.dump()),
              "name: longer than 32 characters");
    EXPECT_EQ(error_of(R"({"name": "a\u0000b"})"), "name: must not contain control characters");
    EXPECT_EQ(error_of(R"({"name": "a\nb"})"), "name: must not contain control characters");
}

TEST_F(auth_routes_test, GuestRefusesBigBodies) {
    const auto body = json{{"name", "Ann"}, {"pad", std::string(5000, 'p')}}.dump();
    EXPECT_EQ(error_of(body, http::status::payload_too_large), "body: larger than 4 KiB");
}

TEST_F(auth_routes_test, MeReportsTheUserOrWhyNot) {
    const auto j = body_json(guest(R"({"name": "Ann"})"));
    const auto token = j["token"].get<std::string>();
    auto res = get("/api/v1/auth/me", bearer(token));
    ASSERT_EQ(res.r().status, http::status::ok) << res.body();
    EXPECT_EQ(body_json(res)["user"]["name"], "Ann");
    EXPECT_EQ(body_json(res)["user"]["role"], "user");
    EXPECT_EQ(body_json(res)["user"]["id"], j["user"]["id"]);

    res = get("/api/v1/auth/me");
    EXPECT_EQ(res.r().status, http::status::unauthorized);
    EXPECT_THAT(res.header("WWW-Authenticate"), StartsWith("Bearer"));
    res = get("/api/v1/auth/me", bearer(token + "x"));
    EXPECT_EQ(res.r().status, http::status::unauthorized);
    EXPECT_EQ(body_json(res)["error"], "bad signature");
    clock.advance(std::chrono::hours(25));
    res = get("/api/v1/auth/me", bearer(token));
    EXPECT_EQ(res.r().status, http::status::unauthorized);
    EXPECT_EQ(body_json(res)["error"], "token expired");
}

class auth_routes_no_guests_test : public auth_routes_test {
  protected:
    auth_routes_no_guests_test() : auth_routes_test(auth_options{.allow_guests = false}) {}
};

TEST_F(auth_routes_no_guests_test, GuestsDisabledIs403) {
    EXPECT_EQ(error_of(R"({"name": "Ann"})", http::status::forbidden),
              "guest accounts are disabled");
}

class auth_routes_limited_test : public auth_routes_test {
  protected:
    auth_routes_limited_test()
        : auth_routes_test(
              auth_options{.allow_guests = true,
                           .guests_per_address = {},
                           .guests_overall = {.per_second = 1, .burst = 3, .max_keys = 1}}) {}
};

TEST_F(auth_routes_limited_test, GuestCreationIsRateLimited) {
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(guest(R"({"name": "Ann"})").r().status, http::status::created) << i;
    }
    const auto res = guest(R"({"name": "Ann"})");
    EXPECT_EQ(res.r().status, http::status::too_many_requests) << res.body();
    EXPECT_EQ(res.header("Retry-After"), "1");
    EXPECT_THAT(body_json(res)["error"].get<std::string>(), HasSubstr("too many"));
    // Invalid requests are answered 400 and do not spend the budget.
    clock.advance(std::chrono::seconds(1));
    EXPECT_EQ(error_of("{}"), "name: required");
    EXPECT_EQ(guest(R"({"name": "Ann"})").r().status, http::status::created);
    EXPECT_EQ(guest(R"({"name": "Ann"})").r().status, http::status::too_many_requests);
}

} // namespace
} // namespace livehouse::services::auth
