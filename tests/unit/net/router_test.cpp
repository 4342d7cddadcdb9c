// router: pattern matching, specificity, 404/405/400 outcomes and path decoding.
#include "net/router.hpp"

#include <gtest/gtest.h>
#include <stdexcept>

namespace livehouse::net {
namespace {

using outcome = route_match::outcome;

handler tagged(std::string* sink, std::string tag) {
    return [sink, tag](const request&, const route_params&, responder) { *sink = tag; };
}

class router_test : public ::testing::Test {
  protected:
    void SetUp() override {
        r.add(http::verb::get, "/api/v1/broadcasts", tagged(&hit, "list"), "broadcasts_list");
        r.add(http::verb::post, "/api/v1/broadcasts", tagged(&hit, "create"), "broadcasts_create");
        r.add(http::verb::get, "/api/v1/broadcasts/{id}", tagged(&hit, "get"), "broadcast_get");
        r.add(http::verb::delete_, "/api/v1/broadcasts/{id}", tagged(&hit, "del"),
              "broadcast_delete");
        r.add(http::verb::get, "/api/v1/broadcasts/active", tagged(&hit, "active"),
              "broadcasts_active");
        r.add(http::verb::get, "/api/v1/broadcasts/{id}/status", tagged(&hit, "status"),
              "broadcast_status");
        r.add(http::verb::get, "/hls/{id}/{file}", tagged(&hit, "hls"), "hls");
        r.add(http::verb::get, "/static/{path*}", tagged(&hit, "static"), "static");
        r.add(http::verb::get, "/", tagged(&hit, "root"), "root");
    }

    route_match call(http::verb v, std::string_view target) {
        auto m = r.match(v, target);
        if (m.result == outcome::found) {
            (*m.target)(request{}, m.params, [](response) {});
        }
        return m;
    }

    router r;
    std::string hit;
};

TEST_F(router_test, literal_routes_and_captures) {
    auto m = call(http::verb::get, "/api/v1/broadcasts");
    ASSERT_EQ(m.result, outcome::found);
    EXPECT_EQ(hit, "list");
    EXPECT_EQ(m.route_name, "broadcasts_list");
    EXPECT_TRUE(m.params.empty());

    m = call(http::verb::get, "/api/v1/broadcasts/b42/status?x=1&y=%20");
    ASSERT_EQ(m.result, outcome::found);
    EXPECT_EQ(hit, "status");
    EXPECT_EQ(m.params.at("id"), "b42");
    EXPECT_EQ(m.query, "x=1&y=%20");

    m = call(http::verb::get, "/hls/b1/seg-7.ts");
    ASSERT_EQ(m.result, outcome::found);
    EXPECT_EQ(m.params.at("id"), "b1");
    EXPECT_EQ(m.params.at("file"), "seg-7.ts");

    EXPECT_EQ(call(http::verb::get, "/").result, outcome::found);
    EXPECT_EQ(hit, "root");
}

TEST_F(router_test, literal_beats_capture_whatever_the_registration_order) {
    ASSERT_EQ(call(http::verb::get, "/api/v1/broadcasts/active").result, outcome::found);
    EXPECT_EQ(hit, "active");
    ASSERT_EQ(call(http::verb::get, "/api/v1/broadcasts/other").result, outcome::found);
    EXPECT_EQ(hit, "get");
    // DELETE has no literal route: the capture route takes it.
    auto m = call(http::verb::delete_, "/api/v1/broadcasts/active");
    ASSERT_EQ(m.result, outcome::found);
    EXPECT_EQ(hit, "del");
    EXPECT_EQ(m.params.at("id"), "active");
}

TEST_F(router_test, tail_capture_joins_segments) {
    auto m = call(http::verb::get, "/static/js/vendor/hls.min.js");
    ASSERT_EQ(m.result, outcome::found);
    EXPECT_EQ(m.params.at("path"), "js/vendor/hls.min.js");
    EXPECT_EQ(call(http::verb::get, "/static").result, outcome::not_found);
    EXPECT_EQ(call(http::verb::get, "/static/").result, outcome::not_found);
    EXPECT_EQ(call(http::verb::get, "/static/a//b").result, outcome::not_found);
}

TEST_F(router_test, capture_needs_a_non_empty_segment) {
    EXPECT_EQ(call(http::verb::get, "/hls//seg.ts").result, outcome::not_found);
    EXPECT_EQ(call(http::verb::get, "/hls/b1/").result, outcome::not_found);
    EXPECT_EQ(call(http::verb::get, "/hls/b1/seg.ts/more").result, outcome::not_found);
    EXPECT_EQ(call(http::verb::get, "/api/v1/broadcasts/").result, outcome::not_found);
    EXPECT_EQ(call(http::verb::get, "/nope").result, outcome::not_found);
    EXPECT_EQ(call(http::verb::get, "/api/v1/broadcasts/b1/status/").result, outcome::not_found);
}

TEST_F(router_test, head_is_routed_to_get) {
    auto m = call(http::verb::head, "/hls/b1/index.m3u8");
    ASSERT_EQ(m.result, outcome::found);
    EXPECT_EQ(hit, "hls");
}

TEST_F(router_test, wrong_method_is_405_with_allow) {
    auto m = call(http::verb::put, "/api/v1/broadcasts");
    ASSERT_EQ(m.result, outcome::method_not_allowed);
    EXPECT_EQ(m.allow, "GET, HEAD, POST, OPTIONS");
    m = call(http::verb::post, "/api/v1/broadcasts/x");
    ASSERT_EQ(m.result, outcome::method_not_allowed);
    EXPECT_EQ(m.allow, "GET, HEAD, DELETE, OPTIONS");
    m = call(http::verb::options, "/hls/a/b");
    ASSERT_EQ(m.result, outcome::method_not_allowed); // answered by the server as preflight
    EXPECT_EQ(m.allow, "GET, HEAD, OPTIONS");
    EXPECT_EQ(call(http::verb::unknown, "/hls/a/b").result, outcome::method_not_allowed);
}

TEST_F(router_test, percent_decoding_of_params) {
    auto m = call(http::verb::get, "/hls/a%20b/seg%2d1.ts");
    ASSERT_EQ(m.result, outcome::found);
    EXPECT_EQ(m.params.at("id"), "a b");
    EXPECT_EQ(m.params.at("file"), "seg-1.ts");
    // Literal segments are compared decoded too.
    m = call(http::verb::get, "/%61pi/v1/broadcasts");
    ASSERT_EQ(m.result, outcome::found);
    EXPECT_EQ(hit, "list");
}

TEST_F(router_test, traversal_nul_and_encoded_slash_are_400) {
    for (const char* bad : {"/hls/../etc/passwd", "/hls/%2e%2e/x", "/hls/b1/%2E%2E", "/hls/./x",
                            "/hls/a%2Fb/x", "/hls/a%2fb/x", "/hls/a%00/x", "/hls/%zz/x",
                            "/hls/a%2/x", "/hls/a%", "/static/a/../../b"}) {
        auto m = call(http::verb::get, bad);
        EXPECT_EQ(m.result, outcome::bad_request) << bad;
        EXPECT_FALSE(m.error.empty()) << bad;
    }
    EXPECT_EQ(call(http::verb::get, "*").result, outcome::bad_request);
    EXPECT_EQ(call(http::verb::get, "relative/path").result, outcome::bad_request);
}

TEST_F(router_test, absolute_form_target_uses_its_path) {
    auto m = call(http::verb::get, "http://example.com:8080/hls/b1/x.ts?q");
    ASSERT_EQ(m.result, outcome::found);
    EXPECT_EQ(m.params.at("file"), "x.ts");
    EXPECT_EQ(m.query, "q");
    EXPECT_EQ(call(http::verb::get, "http://example.com").result, outcome::found); // "/"
}

TEST_F(router_test, too_many_segments_is_400) {
    std::string deep;
    for (std::size_t i = 0; i <= router::max_segments; ++i) {
        deep += "/a";
    }
    EXPECT_EQ(call(http::verb::get, deep).result, outcome::bad_request);
}

TEST(router, bad_patterns_throw_at_registration) {
    router r;
    auto h = [](const request&, const route_params&, responder) {};
    EXPECT_THROW(r.add(http::verb::get, "no-slash", h, "x"), std::invalid_argument);
    EXPECT_THROW(r.add(http::verb::get, "/a/{}", h, "x"), std::invalid_argument);
    EXPECT_THROW(r.add(http::verb::get, "/a/x{id}", h, "x"), std::invalid_argument);
    EXPECT_THROW(r.add(http::verb::get, "/a/{p*}/b", h, "x"), std::invalid_argument);
    r.add(http::verb::get, "/a/{id}", h, "x");
    EXPECT_THROW(r.add(http::verb::get, "/a/{id}", h, "x"), std::invalid_argument);
}

TEST(router, decode_path_segments) {
    auto s = router::decode_path("/");
    ASSERT_TRUE(s);
    EXPECT_TRUE(s->empty());
    s = router::decode_path("/a/b%20c/");
    ASSERT_TRUE(s);
    EXPECT_EQ(*s, (std::vector<std::string>{"a", "b c", ""}));
    // '+' is a literal plus in a path (RFC 3986), not a space.
    s = router::decode_path("/a+b");
    ASSERT_TRUE(s);
    EXPECT_EQ(s->at(0), "a+b");
}

} // namespace
} // namespace livehouse::net
