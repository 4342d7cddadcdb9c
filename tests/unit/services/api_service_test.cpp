// The JSON API driven through the router with in-memory requests: admin auth, body validation,
// the broadcast object (stream key only for admins), list order, ending, and the status
// document through a broadcast's whole lifecycle.
#include "media/ids.hpp"
#include "service_fixture.hpp"
#include "services/api/admin_auth.hpp"
#include "services/api/api_service.hpp"
#include "services/api/broadcast_json.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <regex>

namespace livehouse::services::api {
namespace {

using json = nlohmann::json;
using testing::call_result;
using testing::service_fixture;
using outcome = net::route_match::outcome;
namespace http = net::http;

class api_test : public ::testing::Test, public service_fixture {
  protected:
    api_test() { register_routes(router, ctx); }

    call_result create(std::string body,
                       std::vector<std::pair<http::field, std::string>> headers = admin()) {
        return call(http::verb::post, "/api/v1/broadcasts", std::move(body), std::move(headers));
    }
    /// Creates a broadcast through the API; returns its object (with the stream key).
    json create_ok(std::string_view title) {
        const auto res = create(json{{"title", title}}.dump());
        EXPECT_EQ(res.r().status, http::status::created) << res.body();
        return json::parse(res.body());
    }
    static json body_json(const call_result& res) {
        return json::parse(res.body(), nullptr, false);
    }
};

bool is_rfc3339(const json& v) {
    static const std::regex re(R"(^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$)");
    return v.is_string() && std::regex_match(v.get<std::string>(), re);
}

// --- admin authentication ------------------------------------------------------------------

TEST_F(api_test, create_without_token_is_401_with_www_authenticate) {
    const auto res = create(R"({"title":"x"})", {});
    ASSERT_EQ(res.responses, 1);
    EXPECT_EQ(res.r().status, http::status::unauthorized);
    EXPECT_THAT(res.header("WWW-Authenticate"), ::testing::StartsWith("Bearer"));
    EXPECT_TRUE(body_json(res).contains("error"));
    EXPECT_TRUE(registry.list().empty());
}

TEST_F(api_test, create_with_wrong_or_malformed_credentials_is_401) {
    for (const auto& value :
         {std::string("Bearer wrong"),
          std::string("Bearer ") + std::string(testing::admin_token) + "x",
          std::string("Basic ") + std::string(testing::admin_token),
          std::string(testing::admin_token), std::string("Bearer"), std::string("Bearer ")}) {
        const auto res = create(R"({"title":"x"})", {{http::field::authorization, value}});
        EXPECT_EQ(res.r().status, http::status::unauthorized) << value;
    }
    EXPECT_TRUE(registry.list().empty());
}

TEST_F(api_test, bearer_scheme_is_case_insensitive) {
    const auto res = create(
        R"({"title":"x"})",
        {{http::field::authorization, "bEARer   " + std::string(testing::admin_token) + " "}});
    EXPECT_EQ(res.r().status, http::status::created) << res.body();
}

TEST_F(api_test, empty_admin_token_disables_admin) {
    ctx.admin_token.clear();
    const auto res = create(R"({"title":"x"})", {{http::field::authorization, "Bearer "}});
    EXPECT_EQ(res.r().status, http::status::unauthorized);
    const auto res2 = create(R"({"title":"x"})", bearer(""));
    EXPECT_EQ(res2.r().status, http::status::unauthorized);
}

TEST(admin_auth, bearer_token_parsing) {
    EXPECT_EQ(bearer_token("Bearer abc"), "abc");
    EXPECT_EQ(bearer_token("bearer  abc \t"), "abc");
    EXPECT_EQ(bearer_token("Bearerabc"), "");
    EXPECT_EQ(bearer_token("Basic abc"), "");
    EXPECT_EQ(bearer_token(""), "");
    EXPECT_EQ(bearer_token("Bearer " + std::string(5000, 'a')), "");
}

TEST(admin_auth, constant_time_equal) {
    EXPECT_TRUE(media::constant_time_equal("token", "token"));
    EXPECT_FALSE(media::constant_time_equal("token", "tokem"));
    EXPECT_FALSE(media::constant_time_equal("token", "token2"));
    EXPECT_FALSE(media::constant_time_equal("", "x"));
    EXPECT_TRUE(media::constant_time_equal("", ""));
}

// --- create: body validation -----------------------------------------------------------------

TEST_F(api_test, create_rejects_bad_bodies_naming_the_field) {
    struct bad {
        std::string body;
        std::string mentions;
    };
    const std::vector<bad> cases = {
        {"", "body"},
        {"{", "body"},
        {"not json", "body"},
        {R"(["title"])", "body"},
        {R"("title")", "body"},
        {"{}", "title"},
        {R"({"name":"x"})", "title"},
        {R"({"title":null})", "title"},
        {R"({"title":42})", "title"},
        {R"({"title":["x"]})", "title"},
        {R"({"title":""})", "title"},
        {R"({"title":"   "})", "title"},
        {json{{"title", std::string(201, 'a')}}.dump(), "title"},
        {"{\"title\":\"\xff\xfe\"}", "body"}, // not UTF-8: the parser refuses it
    };
    for (const auto& c : cases) {
        const auto res = create(c.body);
        ASSERT_EQ(res.responses, 1);
        EXPECT_EQ(res.r().status, http::status::bad_request) << c.body;
        const auto j = body_json(res);
        ASSERT_TRUE(j.is_object() && j["error"].is_string()) << res.body();
        EXPECT_THAT(j["error"].get<std::string>(), ::testing::HasSubstr(c.mentions)) << c.body;
    }
    EXPECT_TRUE(registry.list().empty());
}

TEST_F(api_test, create_accepts_200_code_points_and_counts_utf8_as_characters) {
    std::string title;
    for (int i = 0; i < 200; ++i) {
        title += "\xc3\xa9"; // é: 2 bytes, 1 character
    }
    EXPECT_EQ(create(json{{"title", title}}.dump()).r().status, http::status::created);
    EXPECT_EQ(create(json{{"title", title + "a"}}.dump()).r().status, http::status::bad_request);
}

TEST_F(api_test, create_rejects_oversized_body) {
    const auto res = create(json{{"title", "x"}, {"pad", std::string(max_body_bytes, 'p')}}.dump());
    EXPECT_EQ(res.r().status, http::status::payload_too_large);
}

TEST_F(api_test, create_ignores_content_type_and_unknown_fields) {
    const auto res = create(R"({"title":"hello","extra":1})",
                            {admin()[0], {http::field::content_type, "text/plain"}});
    EXPECT_EQ(res.r().status, http::status::created);
}

// --- the broadcast object --------------------------------------------------------------------

TEST_F(api_test, create_returns_the_full_object_with_stream_key) {
    const auto res = create(R"({"title":"My show"})");
    ASSERT_EQ(res.r().status, http::status::created);
    EXPECT_EQ(res.r().content_type, "application/json");
    EXPECT_EQ(res.r().cache_control, "private, no-store");
    const auto j = body_json(res);
    ASSERT_TRUE(j.is_object()) << res.body();
    const auto id = j["id"].get<std::string>();
    EXPECT_EQ(res.header("Location"), "/api/v1/broadcasts/" + id);
    EXPECT_EQ(j["title"], "My show");
    EXPECT_EQ(j["status"], "idle");
    EXPECT_EQ(j["created_at"], "2026-01-01T00:00:00.000Z"); // the manual clock's wall time
    EXPECT_TRUE(j["started_at"].is_null());
    EXPECT_TRUE(j["ended_at"].is_null());
    EXPECT_EQ(j["rtmp_url"], "rtmp://127.0.0.1:1935/live");
    ASSERT_TRUE(j["stream_key"].is_string());
    EXPECT_FALSE(j["stream_key"].get<std::string>().empty());
    EXPECT_EQ(j["stream_key"], registry.find(id)->record().stream_key);
    EXPECT_EQ(j["hls_url"], "http://127.0.0.1:8080/hls/" + id + "/index.m3u8");
    EXPECT_EQ(j["vod_url"], "http://127.0.0.1:8080/vod/" + id + "/index.m3u8");
    EXPECT_EQ(j["watch_url"], "http://127.0.0.1:8080/watch/" + id);
    EXPECT_EQ(j["status_url"], "http://127.0.0.1:8080/api/v1/broadcasts/" + id + "/status");
}

TEST_F(api_test, public_get_hides_the_stream_key_admin_get_shows_it) {
    const auto created = create_ok("show");
    const auto id = created["id"].get<std::string>();

    const auto pub = get("/api/v1/broadcasts/" + id);
    ASSERT_EQ(pub.r().status, http::status::ok);
    const auto pj = body_json(pub);
    EXPECT_FALSE(pj.contains("stream_key")) << pub.body();
    EXPECT_EQ(pub.body().find(created["stream_key"].get<std::string>()), std::string::npos);
    EXPECT_EQ(pj["id"], id);
    EXPECT_EQ(pub.r().cache_control, "public, max-age=1");
    EXPECT_TRUE(pub.r().cors);
    EXPECT_EQ(pub.header("Vary"), "Authorization");

    const auto adm = get("/api/v1/broadcasts/" + id, admin());
    EXPECT_EQ(body_json(adm)["stream_key"], created["stream_key"]);
    EXPECT_EQ(adm.r().cache_control, "private, no-store");

    // A wrong token on a public GET is simply a public read.
    const auto wrong = get("/api/v1/broadcasts/" + id, bearer("nope"));
    EXPECT_EQ(wrong.r().status, http::status::ok);
    EXPECT_FALSE(body_json(wrong).contains("stream_key"));
}

TEST_F(api_test, unknown_and_malformed_ids_are_404) {
    for (const auto* target :
         {"/api/v1/broadcasts/nope0000", "/api/v1/broadcasts/ABC", "/api/v1/broadcasts/a.b",
          "/api/v1/broadcasts/a%20b", "/api/v1/broadcasts/nope/status"}) {
        const auto res = get(target);
        ASSERT_EQ(res.outcome, outcome::found) << target;
        EXPECT_EQ(res.r().status, http::status::not_found) << target;
        EXPECT_TRUE(body_json(res)["error"].is_string());
    }
    const auto long_id = "/api/v1/broadcasts/" + std::string(65, 'a');
    EXPECT_EQ(get(long_id).r().status, http::status::not_found);
}

TEST_F(api_test, list_is_live_first_and_public_has_no_keys) {
    EXPECT_EQ(body_json(get("/api/v1/broadcasts")), json::parse(R"({"broadcasts":[]})"));
    const auto a = create_ok("first")["id"].get<std::string>();
    clock.advance(std::chrono::seconds(1));
    const auto b = create_ok("second")["id"].get<std::string>();
    clock.advance(std::chrono::seconds(1));
    const auto c = create_ok("third")["id"].get<std::string>();
    publish(*registry.find(a), 1); // a goes live

    const auto res = get("/api/v1/broadcasts");
    ASSERT_EQ(res.r().status, http::status::ok);
    const auto list = body_json(res)["broadcasts"];
    ASSERT_EQ(list.size(), 3U);
    // Same order as the registry: live first, then idle newest first.
    const auto expected = registry.list();
    for (std::size_t i = 0; i < 3; ++i) {
        EXPECT_EQ(list[i]["id"], expected[i]->id());
        EXPECT_FALSE(list[i].contains("stream_key"));
    }
    EXPECT_EQ(list[0]["id"], a);
    EXPECT_EQ(list[0]["status"], "live");
    EXPECT_TRUE(is_rfc3339(list[0]["started_at"])) << list[0];
    EXPECT_EQ(list[1]["id"], c);
    EXPECT_EQ(list[2]["id"], b);

    const auto adm = body_json(get("/api/v1/broadcasts", admin()))["broadcasts"];
    for (const auto& item : adm) {
        EXPECT_TRUE(item["stream_key"].is_string());
    }
}

// --- DELETE ends ---------------------------------------------------------------------------

TEST_F(api_test, delete_requires_admin_and_ends_the_broadcast) {
    const auto id = create_ok("to end")["id"].get<std::string>();
    const auto target = "/api/v1/broadcasts/" + id;

    EXPECT_EQ(call(http::verb::delete_, target).r().status, http::status::unauthorized);
    EXPECT_EQ(call(http::verb::delete_, target, {}, bearer("x")).r().status,
              http::status::unauthorized);
    EXPECT_EQ(registry.find(id)->record().status, media::broadcast_status::idle);

    clock.advance(std::chrono::seconds(5));
    const auto res = call(http::verb::delete_, target, {}, admin());
    ASSERT_EQ(res.r().status, http::status::ok) << res.body();
    const auto j = body_json(res);
    EXPECT_EQ(j["status"], "ended");
    EXPECT_EQ(j["ended_at"], "2026-01-01T00:00:05.000Z");
    EXPECT_TRUE(j["stream_key"].is_string());
    EXPECT_EQ(registry.find(id)->record().status, media::broadcast_status::ended);

    // Idempotent.
    const auto again = call(http::verb::delete_, target, {}, admin());
    EXPECT_EQ(again.r().status, http::status::ok);
    EXPECT_EQ(body_json(again)["ended_at"], "2026-01-01T00:00:05.000Z");

    EXPECT_EQ(call(http::verb::delete_, "/api/v1/broadcasts/unknown1", {}, admin()).r().status,
              http::status::not_found);
}

// --- the status document -------------------------------------------------------------------

TEST_F(api_test, status_follows_the_lifecycle) {
    const auto id = create_ok("live show")["id"].get<std::string>();
    const auto target = "/api/v1/broadcasts/" + id + "/status";
    auto b = registry.find(id);

    auto res = get(target);
    ASSERT_EQ(res.r().status, http::status::ok);
    EXPECT_EQ(res.r().cache_control, "public, max-age=1");
    EXPECT_TRUE(res.r().cors);
    EXPECT_EQ(res.r().content_type, "application/json");
    auto j = body_json(res);
    EXPECT_EQ(j, json::parse(R"({"id":")" + id +
                             R"(","status":"idle","media_sequence":null,"target_duration":)" +
                             std::to_string(b->snapshot()->target_duration_s) +
                             R"(,"position":0,"updated_at":"2026-01-01T00:00:00.000Z"})"));

    // Live, before the first segment closes: live, still no playlist; updated at the start.
    clock.advance(std::chrono::seconds(10));
    ASSERT_TRUE(b->begin_publish(media::track_set{.video = true, .audio = false}));
    j = body_json(get(target));
    EXPECT_EQ(j["status"], "live");
    EXPECT_TRUE(j["media_sequence"].is_null());
    EXPECT_EQ(j["updated_at"], "2026-01-01T00:00:10.000Z");

    // Two segments: the playlist starts at 0.
    feed_video(*b, 0, 2000);
    j = body_json(get(target));
    EXPECT_EQ(j["status"], "live");
    EXPECT_EQ(j["media_sequence"], 0);
    EXPECT_EQ(j["target_duration"], 1);
    EXPECT_TRUE(is_rfc3339(j["updated_at"])) << j;

    // Past the 3-segment window the media sequence moves on.
    feed_video(*b, 2040, 8000);
    j = body_json(get(target));
    const auto seq = j["media_sequence"].get<std::uint64_t>();
    EXPECT_GT(seq, 0U);
    EXPECT_EQ(seq, media_sequence(*b->snapshot()).value());

    b->end_publish();
    j = body_json(get(target));
    EXPECT_EQ(j["status"], "suspended");
    EXPECT_EQ(j["media_sequence"], seq); // the same playlist as before

    clock.advance(std::chrono::seconds(30));
    registry.end(id);
    j = body_json(get(target));
    EXPECT_EQ(j["status"], "ended");
    EXPECT_EQ(j["updated_at"], body_json(get("/api/v1/broadcasts/" + id))["ended_at"]);
}

TEST_F(api_test, status_of_unknown_broadcast_is_a_short_lived_404) {
    const auto res = get("/api/v1/broadcasts/zzzz9999/status");
    EXPECT_EQ(res.r().status, http::status::not_found);
    EXPECT_EQ(res.r().cache_control, "public, max-age=1");
}

TEST_F(api_test, head_reaches_the_get_handlers) {
    const auto id = create_ok("h")["id"].get<std::string>();
    const auto res = call(http::verb::head, "/api/v1/broadcasts/" + id + "/status");
    ASSERT_EQ(res.outcome, outcome::found);
    EXPECT_EQ(res.r().status, http::status::ok);
}

TEST_F(api_test, wrong_methods_are_not_routed) {
    EXPECT_EQ(call(http::verb::put, "/api/v1/broadcasts").outcome, outcome::method_not_allowed);
    EXPECT_EQ(call(http::verb::post, "/api/v1/broadcasts/abc/status").outcome,
              outcome::method_not_allowed);
}

// --- pure pieces ----------------------------------------------------------------------------

TEST(broadcast_json, rfc3339_formatting) {
    using namespace std::chrono;
    EXPECT_EQ(format_rfc3339(system_clock::time_point{}), "1970-01-01T00:00:00.000Z");
    EXPECT_EQ(format_rfc3339(system_clock::time_point{seconds(1'767'225'600) + milliseconds(7)}),
              "2026-01-01T00:00:00.007Z");
    // 2024-02-29T23:59:59.999Z (a leap day)
    EXPECT_EQ(format_rfc3339(system_clock::time_point{seconds(1'709'251'199) + milliseconds(999)}),
              "2024-02-29T23:59:59.999Z");
}

TEST(broadcast_json, media_sequence_is_read_from_the_playlist_header) {
    media::live_snapshot s;
    EXPECT_FALSE(media_sequence(s).has_value());
    s.playlist =
        core::make_shared_bytes("#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n"
                                "#EXT-X-MEDIA-SEQUENCE:12345\n#EXTINF:2.000,\nseg-12345.ts\n");
    EXPECT_EQ(media_sequence(s), 12345U);
    // RFC 8216 §4.3.3.2: no tag means 0.
    s.playlist =
        core::make_shared_bytes("#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.000,\nseg-0.ts\n");
    EXPECT_EQ(media_sequence(s), 0U);
    // A tag after the first segment is not the header's.
    s.playlist = core::make_shared_bytes("#EXTM3U\n#EXTINF:2.000,\n#EXT-X-MEDIA-SEQUENCE:9\n");
    EXPECT_EQ(media_sequence(s), 0U);
    s.playlist = core::make_shared_bytes("#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:x\n");
    EXPECT_FALSE(media_sequence(s).has_value());
}

TEST(broadcast_json, render_status_is_valid_json) {
    media::live_snapshot s;
    s.status = media::broadcast_status::suspended;
    s.target_duration_s = 4;
    s.playlist = core::make_shared_bytes("#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:3\n");
    auto seg = std::make_shared<media::segment>();
    seg->sequence = 3;
    seg->duration_s = 2.5;
    seg->program_date_time = std::chrono::system_clock::time_point{std::chrono::seconds(10)};
    s.segments.push_back(seg);
    s.closed_media_s = 8.5;
    const auto text = render_status("abc123", s);
    EXPECT_EQ(text,
              R"({"id":"abc123","status":"suspended","media_sequence":3,)"
              R"("target_duration":4,"position":8.500,"updated_at":"1970-01-01T00:00:12.500Z"})");
    EXPECT_FALSE(json::parse(text, nullptr, false).is_discarded());
}

TEST(public_urls, ipv6_hosts_are_bracketed) {
    const public_urls u("::1", 8081, 1936);
    EXPECT_EQ(u.rtmp_url(), "rtmp://[::1]:1936/live");
    EXPECT_EQ(u.hls_url("ab"), "http://[::1]:8081/hls/ab/index.m3u8");
    const public_urls v("[::1]", 80, 1935);
    EXPECT_EQ(v.http_base(), "http://[::1]:80");
}

} // namespace
} // namespace livehouse::services::api
