// The web pages and static files: served from memory with the right types and cache headers,
// only whitelisted names, and the real web/ folder loads (watch page, its script, hls.js when
// node_modules is installed).
#include "service_fixture.hpp"
#include "services/web/static_assets.hpp"
#include "services/web/web_service.hpp"

#include <fstream>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace livehouse::services::web {
namespace {

using testing::call_result;
using testing::service_fixture;
using outcome = net::route_match::outcome;
namespace http = net::http;
namespace fs = std::filesystem;

static_assets sample_assets() {
    static_assets a;
    a.add_page("watch.html", "<!doctype html><title>watch</title>");
    a.add_page("index.html", "<!doctype html><title>index</title>");
    a.add_file("watch.js", "export {};");
    a.add_file("style.css", "body{}");
    return a;
}

class web_test : public ::testing::Test, public service_fixture {
  protected:
    web_test() { register_routes(router, sample_assets()); }
};

TEST_F(web_test, watch_page_is_the_same_for_every_valid_id) {
    const auto a = get("/watch/abc123");
    ASSERT_EQ(a.r().status, http::status::ok);
    EXPECT_EQ(a.r().content_type, "text/html; charset=utf-8");
    EXPECT_EQ(a.r().cache_control, "no-cache");
    EXPECT_THAT(a.body(), ::testing::HasSubstr("<title>watch</title>"));
    EXPECT_FALSE(a.r().etag.empty());
    EXPECT_THAT(a.header("Content-Security-Policy"), ::testing::HasSubstr("script-src 'self'"));
    EXPECT_EQ(a.header("X-Content-Type-Options"), "nosniff");
    const auto b = get("/watch/zzz");
    EXPECT_EQ(b.r().body.get(), a.r().body.get()); // one shared buffer, no copy
    EXPECT_EQ(b.r().etag, a.r().etag);

    EXPECT_EQ(get("/watch/ABC").r().status, http::status::not_found);
    EXPECT_EQ(get("/watch/a.b").r().status, http::status::not_found);
    EXPECT_NE(get("/watch/../etc").outcome, outcome::found);
}

TEST_F(web_test, index_page) {
    const auto r = get("/");
    ASSERT_EQ(r.r().status, http::status::ok);
    EXPECT_THAT(r.body(), ::testing::HasSubstr("<title>index</title>"));
}

TEST_F(web_test, static_files_have_types_and_a_five_minute_cache) {
    const auto js = get("/static/watch.js");
    ASSERT_EQ(js.r().status, http::status::ok);
    EXPECT_EQ(js.r().content_type, "text/javascript; charset=utf-8");
    EXPECT_EQ(js.r().cache_control, "public, max-age=300");
    EXPECT_EQ(js.body(), "export {};");
    EXPECT_THAT(js.r().etag, ::testing::MatchesRegex("\"[0-9a-f]+-[0-9a-f]+\""));
    const auto css = get("/static/style.css");
    EXPECT_EQ(css.r().content_type, "text/css; charset=utf-8");
    EXPECT_NE(css.r().etag, js.r().etag);
}

TEST_F(web_test, unknown_or_unlisted_static_names_are_404) {
    for (const auto* target : {"/static/missing.js", "/static/.hidden.js", "/static/watch.js~",
                               "/static/watch", "/static/a%20b.js", "/static/watch.html"}) {
        const auto r = get(target);
        ASSERT_EQ(r.outcome, outcome::found) << target;
        EXPECT_EQ(r.r().status, http::status::not_found) << target;
        EXPECT_EQ(r.r().cache_control, "max-age=1");
    }
    EXPECT_EQ(get("/static/sub/watch.js").outcome, outcome::not_found);
    EXPECT_NE(get("/static/..%2Fwatch.html").outcome, outcome::found);
}

TEST(static_assets, names_and_types) {
    EXPECT_TRUE(is_valid_static_name("hls.min.js"));
    EXPECT_TRUE(is_valid_static_name("style.css"));
    EXPECT_TRUE(is_valid_static_name("icon-32_x.png"));
    for (const auto* bad :
         {"", ".js", ".env", "a/b.js", "a b.js", "x.exe", "x.js.bak", "js", "x.sh", "x%2e.js"}) {
        EXPECT_FALSE(is_valid_static_name(bad)) << bad;
    }
    EXPECT_FALSE(is_valid_static_name(std::string(126, 'a') + ".js"));
    EXPECT_EQ(content_type_for("a.mjs"), "text/javascript; charset=utf-8");
    EXPECT_EQ(content_type_for("a.svg"), "image/svg+xml");
    EXPECT_EQ(content_type_for("a.bin"), "");
}

TEST(static_assets, load_takes_only_whitelisted_regular_files) {
    testing::temp_dir d;
    auto write = [](const fs::path& p, std::string_view s) {
        fs::create_directories(p.parent_path());
        std::ofstream(p, std::ios::binary) << s;
    };
    const auto web = d.path() / "web";
    write(web / "watch.html", "<html>w</html>");
    write(web / "static" / "app.js", "1");
    write(web / "static" / ".secret.js", "2");
    write(web / "static" / "notes.md", "3");
    write(web / "static" / "sub" / "x.js", "4");
    write(d.path() / "outside.js", "5");
    fs::create_symlink(d.path() / "outside.js", web / "static" / "link.js");
    write(d.path() / "node_modules" / "hls.js" / "dist" / "hls.min.js", "/* hls */");

    const auto a = static_assets::load(web.string());
    ASSERT_NE(a.page("watch.html"), nullptr);
    EXPECT_EQ(*a.page("watch.html")->data, "<html>w</html>");
    EXPECT_EQ(a.page("index.html"), nullptr);
    ASSERT_NE(a.file("app.js"), nullptr);
    EXPECT_EQ(a.file(".secret.js"), nullptr);
    EXPECT_EQ(a.file("notes.md"), nullptr);
    EXPECT_EQ(a.file("x.js"), nullptr);
    EXPECT_EQ(a.file("link.js"), nullptr); // symlinks are not followed
    ASSERT_NE(a.file("hls.min.js"), nullptr);
    EXPECT_EQ(*a.file("hls.min.js")->data, "/* hls */");
    EXPECT_EQ(a.file_count(), 2U);
}

TEST(static_assets, load_tolerates_a_missing_directory) {
    const auto a = static_assets::load("/nonexistent/livehouse/web");
    EXPECT_EQ(a.page("watch.html"), nullptr);
    EXPECT_EQ(a.file_count(), 0U);
    EXPECT_EQ(static_assets::load("").file_count(), 0U);
}

TEST(static_assets, the_repository_web_folder_loads) {
    const auto web = (fs::path(LIVEHOUSE_TEST_DATA) / ".." / ".." / "web").lexically_normal();
    const auto a = static_assets::load(web.string());
    ASSERT_NE(a.page("watch.html"), nullptr);
    ASSERT_NE(a.page("index.html"), nullptr);
    EXPECT_THAT(*a.page("watch.html")->data, ::testing::HasSubstr("id=\"player\""));
    EXPECT_THAT(*a.page("watch.html")->data, ::testing::HasSubstr("data-status"));
    EXPECT_NE(a.file("watch.js"), nullptr);
    EXPECT_NE(a.file("index.js"), nullptr);
    EXPECT_NE(a.file("style.css"), nullptr);
    if (fs::exists(web / ".." / "node_modules" / "hls.js" / "dist" / "hls.min.js")) {
        EXPECT_NE(a.file("hls.min.js"), nullptr);
    }
}

TEST(web_service, registers_from_the_context_web_dir) {
    service_fixture f;
    f.ctx.web_dir =
        (fs::path(LIVEHOUSE_TEST_DATA) / ".." / ".." / "web").lexically_normal().string();
    register_routes(f.router, f.ctx);
    EXPECT_EQ(f.get("/watch/abc").r().status, http::status::ok);
    EXPECT_EQ(f.get("/static/watch.js").r().status, http::status::ok);
}

} // namespace
} // namespace livehouse::services::web
