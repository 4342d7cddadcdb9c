// The HLS origin driven through the router: live playlist and segments from the snapshot (the
// very same shared bytes, no copy), headers per lifecycle state, VOD files read through the io
// runner, and path validation that keeps every request inside <data_dir>/vod/.
#include "service_fixture.hpp"
#include "services/origin/file_cache.hpp"
#include "services/origin/file_reader.hpp"
#include "services/origin/origin_service.hpp"
#include "services/origin/path_rules.hpp"

#include <fstream>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace livehouse::services::origin {
namespace {

using json = nlohmann::json;
using testing::call_result;
using testing::service_fixture;
using outcome = net::route_match::outcome;
namespace http = net::http;
namespace fs = std::filesystem;

class origin_test : public ::testing::Test, public service_fixture {
  protected:
    origin_test() { register_routes(router, ctx); }

    std::shared_ptr<media::broadcast> live_broadcast(int seconds = 3) {
        auto b = registry.create("origin test");
        publish(*b, seconds);
        return b;
    }
    static json body_json(const call_result& res) {
        return json::parse(res.body(), nullptr, false);
    }
    static void write(const fs::path& p, std::string_view content) {
        fs::create_directories(p.parent_path());
        std::ofstream(p, std::ios::binary) << content;
    }
};

// --- live playlist -----------------------------------------------------------------------------

TEST_F(origin_test, idle_playlist_is_404_pointing_at_the_status_endpoint) {
    auto b = registry.create("idle");
    const auto res = get("/hls/" + b->id() + "/index.m3u8");
    ASSERT_EQ(res.responses, 1);
    EXPECT_EQ(res.r().status, http::status::not_found);
    EXPECT_EQ(res.r().cache_control, "max-age=1");
    EXPECT_TRUE(res.r().cors);
    const auto j = body_json(res);
    EXPECT_EQ(j["status"], "idle");
    EXPECT_EQ(j["status_url"], "http://127.0.0.1:8080/api/v1/broadcasts/" + b->id() + "/status");
    EXPECT_THAT(j["error"].get<std::string>(), ::testing::HasSubstr("poll"));
}

TEST_F(origin_test, live_playlist_is_the_snapshot_bytes_with_cdn_headers) {
    auto b = live_broadcast();
    const auto snap = b->snapshot();
    ASSERT_TRUE(snap->playlist);
    const auto res = get("/hls/" + b->id() + "/index.m3u8");
    ASSERT_EQ(res.r().status, http::status::ok);
    EXPECT_EQ(res.r().content_type, "application/vnd.apple.mpegurl");
    EXPECT_EQ(res.r().cache_control,
              "public, max-age=1, stale-while-revalidate=1, stale-if-error=10");
    EXPECT_EQ(res.r().etag, snap->playlist_etag);
    EXPECT_FALSE(res.r().etag.empty());
    EXPECT_TRUE(res.r().cors);
    // No copy: the response shares the snapshot's buffer.
    EXPECT_EQ(res.r().body.get(), snap->playlist.get());
    EXPECT_THAT(res.body(), ::testing::StartsWith("#EXTM3U\n"));
}

TEST_F(origin_test, playlist_max_age_is_half_the_target_duration) {
    // 4 s GOPs with a 4 s target: TARGETDURATION 4 -> max-age=2.
    auto cfg = testing::test_packager_config(dir.path());
    cfg.target_segment = std::chrono::milliseconds(4000);
    media::broadcast_registry reg(cfg, clock, ctx.io);
    service_context c2{.registry = reg,
                       .clock = clock,
                       .admin_token = "t",
                       .host = "127.0.0.1",
                       .http_port = 8080,
                       .rtmp_port = 1935,
                       .data_dir = dir.path().string(),
                       .web_dir = {},
                       .io = ctx.io,
                       .user_tokens = nullptr};
    net::router r2;
    register_routes(r2, c2);
    auto b = reg.create("slow gop");
    ASSERT_TRUE(b->begin_publish(media::track_set{.video = true, .audio = false}));
    for (std::int64_t t = 0; t <= 12000; t += 40) {
        media::frame f;
        f.dts_ms = t;
        f.keyframe = t % 4000 == 0;
        f.payload = core::make_shared_bytes(std::string("\x00\x00\x00\x01\x09\xf0", 6));
        b->on_frame(f);
    }
    ASSERT_EQ(b->snapshot()->target_duration_s, 4);
    auto m = r2.match(http::verb::get, "/hls/" + b->id() + "/index.m3u8");
    ASSERT_EQ(m.result, outcome::found);
    std::optional<net::response> got;
    (*m.target)(net::request{http::verb::get, "/", 11}, m.params,
                [&](net::response resp) { got = std::move(resp); });
    ASSERT_TRUE(got);
    EXPECT_EQ(got->cache_control, "public, max-age=2, stale-while-revalidate=2, stale-if-error=10");
}

TEST_F(origin_test, suspended_serves_the_same_playlist) {
    auto b = live_broadcast();
    const auto before = get("/hls/" + b->id() + "/index.m3u8");
    b->end_publish();
    ASSERT_EQ(b->snapshot()->status, media::broadcast_status::suspended);
    const auto after = get("/hls/" + b->id() + "/index.m3u8");
    ASSERT_EQ(after.r().status, http::status::ok);
    EXPECT_EQ(after.r().cache_control,
              "public, max-age=1, stale-while-revalidate=1, stale-if-error=10");
    EXPECT_THAT(after.body(), ::testing::Not(::testing::HasSubstr("#EXT-X-ENDLIST")));
    // Every segment the player saw is still listed.
    for (const auto& line : {std::string("seg-0.ts"), std::string("seg-2.ts")}) {
        if (before.body().find(line) != std::string::npos) {
            EXPECT_THAT(after.body(), ::testing::HasSubstr(line));
        }
    }
}

TEST_F(origin_test, ended_serves_the_final_playlist_with_endlist) {
    auto b = live_broadcast();
    registry.end(b->id());
    const auto snap = b->snapshot();
    ASSERT_EQ(snap->status, media::broadcast_status::ended);
    ASSERT_TRUE(snap->playlist) << "media keeps the ENDLIST playlist in the snapshot";
    const auto res = get("/hls/" + b->id() + "/index.m3u8");
    ASSERT_EQ(res.r().status, http::status::ok);
    EXPECT_THAT(res.body(), ::testing::HasSubstr("#EXT-X-ENDLIST"));
    EXPECT_EQ(res.r().cache_control, "public, max-age=60"); // final: it will not change
    EXPECT_EQ(res.r().body.get(), snap->playlist.get());
}

TEST_F(origin_test, ended_without_playlist_is_404_with_vod_url) {
    auto b = registry.create("never went live");
    registry.end(b->id());
    const auto res = get("/hls/" + b->id() + "/index.m3u8");
    ASSERT_EQ(res.r().status, http::status::not_found);
    EXPECT_EQ(res.r().cache_control, "max-age=1");
    const auto j = body_json(res);
    EXPECT_EQ(j["status"], "ended");
    EXPECT_EQ(j["vod_url"], "http://127.0.0.1:8080/vod/" + b->id() + "/index.m3u8");
}

// --- live segments ------------------------------------------------------------------------------

TEST_F(origin_test, segment_is_served_from_the_window_without_copy) {
    auto b = live_broadcast();
    const auto snap = b->snapshot();
    ASSERT_FALSE(snap->segments.empty());
    const auto& seg = snap->segments.back();
    const auto res = get("/hls/" + b->id() + "/seg-" + std::to_string(seg->sequence) + ".ts");
    ASSERT_EQ(res.r().status, http::status::ok);
    EXPECT_EQ(res.r().content_type, "video/mp2t");
    EXPECT_EQ(res.r().cache_control, "public, max-age=31536000, immutable");
    EXPECT_EQ(res.r().etag, seg->etag);
    EXPECT_TRUE(res.r().accept_ranges);
    EXPECT_TRUE(res.r().cors);
    EXPECT_EQ(res.r().blob.get(), seg->data.get());
    EXPECT_GE(seg->data->fd(), 0) << "a live segment is a sealed memory file (sendfile path)";
    EXPECT_FALSE(res.r().body);
}

TEST_F(origin_test, segment_that_left_memory_is_read_from_the_archive) {
    auto b = live_broadcast(3);
    registry.end(b->id());
    // RFC 8216 §6.2.2 availability (segment + playlist duration) runs out; memory lets go.
    clock.advance(std::chrono::minutes(5));
    registry.tick();
    b->tick();
    ASSERT_EQ(b->snapshot()->find(0), nullptr) << "segment 0 is still in memory";
    defer_io = true;
    EXPECT_EQ(get("/hls/" + b->id() + "/seg-0.ts").responses, 0); // a disk read, on io
    EXPECT_EQ(run_io(), 1);
    ASSERT_EQ(last().responses, 1);
    EXPECT_EQ(last().r().status, http::status::ok);
    EXPECT_EQ(last().r().content_type, "video/mp2t");
    EXPECT_EQ(last().r().cache_control, "public, max-age=31536000, immutable");
    EXPECT_EQ(last().body().size(), fs::file_size(dir.path() / "vod" / b->id() / "seg-0.ts"));
    // Still missing everywhere: a short-lived 404.
    EXPECT_EQ(get("/hls/" + b->id() + "/seg-77.ts").responses, 0);
    run_io();
    EXPECT_EQ(last().r().status, http::status::not_found);
    EXPECT_EQ(last().r().cache_control, "max-age=1");
}

TEST_F(origin_test, missing_or_malformed_segments_are_short_lived_404s) {
    auto b = live_broadcast();
    for (const auto& file :
         {std::string("seg-999.ts"), std::string("seg-abc.ts"), std::string("seg-.ts"),
          std::string("seg-1.ts.tmp"), std::string("seg-1.TS"), std::string("seg--1.ts"),
          std::string("seg-99999999999999999999999.ts"), std::string("segments.log"),
          std::string("index.m3u")}) {
        const auto res = get("/hls/" + b->id() + "/" + file);
        ASSERT_EQ(res.outcome, outcome::found) << file;
        EXPECT_EQ(res.r().status, http::status::not_found) << file;
        EXPECT_EQ(res.r().cache_control, "max-age=1") << file;
    }
    EXPECT_EQ(get("/hls/nosuchid/seg-0.ts").r().status, http::status::not_found);
    EXPECT_EQ(get("/hls/NOPE/index.m3u8").r().status, http::status::not_found);
}

TEST_F(origin_test, unknown_paths_are_not_routed) {
    EXPECT_EQ(get("/hls/abc").outcome, outcome::not_found);
    EXPECT_EQ(get("/hls/abc/def/seg-0.ts").outcome, outcome::not_found);
    EXPECT_EQ(get("/hls").outcome, outcome::not_found);
}

// --- VOD
// ------------------------------------------------------------------------------------------

TEST_F(origin_test, vod_of_an_ended_broadcast_comes_from_the_archive) {
    auto b = live_broadcast(3);
    registry.end(b->id()); // inline io: the archive is written now
    const auto playlist = get("/vod/" + b->id() + "/index.m3u8");
    ASSERT_EQ(playlist.r().status, http::status::ok) << playlist.body();
    EXPECT_EQ(playlist.r().content_type, "application/vnd.apple.mpegurl");
    EXPECT_EQ(playlist.r().cache_control, "public, max-age=60");
    EXPECT_TRUE(playlist.r().accept_ranges);
    EXPECT_TRUE(playlist.r().cors);
    EXPECT_THAT(playlist.body(), ::testing::HasSubstr("#EXT-X-ENDLIST"));
    EXPECT_THAT(playlist.r().etag, ::testing::MatchesRegex("\"[0-9a-f]+-[0-9a-f]+\""));

    const auto seg = get("/vod/" + b->id() + "/seg-0.ts");
    ASSERT_EQ(seg.r().status, http::status::ok);
    EXPECT_EQ(seg.r().content_type, "video/mp2t");
    EXPECT_EQ(seg.r().cache_control, "public, max-age=31536000, immutable");
    EXPECT_TRUE(seg.r().accept_ranges);
    ASSERT_GE(seg.body().size(), 188U);
    EXPECT_EQ(seg.body()[0], '\x47');
    const auto on_disk = dir.path() / "vod" / b->id() / "seg-0.ts";
    EXPECT_EQ(seg.body().size(), fs::file_size(on_disk));
}

TEST_F(origin_test, vod_reads_go_through_the_io_runner_and_ended_files_are_cached) {
    auto b = live_broadcast(2);
    registry.end(b->id());
    defer_io = true;
    const auto target = "/vod/" + b->id() + "/seg-0.ts";
    const auto first = get(target);
    EXPECT_EQ(first.responses, 0); // not answered on the calling thread
    EXPECT_EQ(run_io(), 1);
    ASSERT_EQ(last().responses, 1);
    EXPECT_EQ(last().r().status, http::status::ok);
    const auto etag = last().r().etag;
    const auto data = last().r().body;

    // The broadcast has ended, so the file is final: the second read is a memory hit,
    // answered inline with the very same buffer.
    const auto second = get(target);
    EXPECT_EQ(second.responses, 1);
    EXPECT_EQ(run_io(), 0);
    EXPECT_EQ(second.r().etag, etag);
    EXPECT_EQ(second.r().body.get(), data.get());
}

TEST_F(origin_test, vod_playlist_of_a_live_broadcast_is_short_lived) {
    auto b = live_broadcast(2);
    // The archive writes the VOD playlist only at the end; fake one being there early.
    write(dir.path() / "vod" / b->id() / "index.m3u8", "#EXTM3U\n");
    const auto res = get("/vod/" + b->id() + "/index.m3u8");
    ASSERT_EQ(res.r().status, http::status::ok);
    EXPECT_EQ(res.r().cache_control, "public, max-age=1");
    // Not cached in memory while live: a second read goes to disk again.
    defer_io = true;
    EXPECT_EQ(get("/vod/" + b->id() + "/index.m3u8").responses, 0);
    EXPECT_EQ(run_io(), 1);
}

TEST_F(origin_test, vod_etag_follows_size_and_mtime) {
    write(dir.path() / "vod" / "old1" / "index.m3u8", "#EXTM3U\n");
    const auto a = get("/vod/old1/index.m3u8");
    ASSERT_EQ(a.r().status, http::status::ok); // unknown to the registry: files are all there is
    EXPECT_EQ(a.r().cache_control, "public, max-age=60");
    const auto st = fs::last_write_time(dir.path() / "vod" / "old1" / "index.m3u8");
    EXPECT_FALSE(a.r().etag.empty());

    write(dir.path() / "vod" / "old2" / "index.m3u8", "#EXTM3U\n#EXT-X-ENDLIST\n");
    fs::last_write_time(dir.path() / "vod" / "old2" / "index.m3u8", st);
    const auto b = get("/vod/old2/index.m3u8");
    EXPECT_NE(a.r().etag, b.r().etag); // same mtime, different size
}

TEST_F(origin_test, vod_missing_files_are_404) {
    EXPECT_EQ(get("/vod/nothing/index.m3u8").r().status, http::status::not_found);
    EXPECT_EQ(get("/vod/nothing/index.m3u8").r().cache_control, "max-age=1");
    write(dir.path() / "vod" / "abc" / "index.m3u8", "#EXTM3U\n");
    EXPECT_EQ(get("/vod/abc/seg-1.ts").r().status, http::status::not_found);
}

TEST_F(origin_test, vod_paths_cannot_escape_the_data_directory) {
    // A file next to the archive that no request may reach.
    write(dir.path() / "secret.txt", "secret");
    write(dir.path() / "vod" / "abc" / "segments.log", "0 2000 0 0\n");
    write(dir.path() / "vod" / "abc" / "seg-1.ts.tmp", "partial");
    write(dir.path() / "vod" / "ABC" / "index.m3u8", "#EXTM3U\n");
    fs::create_symlink(dir.path() / "secret.txt", dir.path() / "vod" / "abc" / "index.m3u8");

    // The router refuses dot-segments and encoded slashes outright.
    for (const auto* target :
         {"/vod/../../etc/passwd", "/vod/abc/../../secret.txt", "/vod/%2e%2e/secret.txt",
          "/vod/abc/..%2F..%2Fsecret.txt", "/vod/abc/%2e%2e"}) {
        const auto res = get(target);
        EXPECT_NE(res.outcome, outcome::found) << target;
    }
    // What the router lets through, the service refuses by name.
    for (const auto* target :
         {"/vod/abc/segments.log", "/vod/abc/seg-1.ts.tmp", "/vod/ABC/index.m3u8",
          "/vod/abc/secret.txt", "/vod/..abc/index.m3u8", "/vod/a%00b/index.m3u8",
          "/vod/abc/index.m3u8%00", "/vod/abc/.index.m3u8", "/vod/a.b/index.m3u8",
          "/vod/abc/index.m3u8", /* a symlink: O_NOFOLLOW */
          "/vod/etc/passwd"}) {
        const auto res = get(target);
        if (res.outcome != outcome::found) {
            continue; // refused by the router: fine too
        }
        ASSERT_EQ(res.responses, 1) << target;
        EXPECT_EQ(res.r().status, http::status::not_found) << target;
        EXPECT_THAT(res.body(), ::testing::Not(::testing::HasSubstr("secret"))) << target;
    }
}

// --- pure pieces
// ----------------------------------------------------------------------------------

TEST(path_rules, broadcast_ids) {
    EXPECT_TRUE(is_valid_broadcast_id("abc123"));
    EXPECT_TRUE(is_valid_broadcast_id(std::string(64, 'a')));
    EXPECT_FALSE(is_valid_broadcast_id(std::string(65, 'a')));
    for (const auto* bad : {"", "ABC", "a-b", "a.b", "..", "a/b", "a b", "é"}) {
        EXPECT_FALSE(is_valid_broadcast_id(bad)) << bad;
    }
    EXPECT_FALSE(is_valid_broadcast_id(std::string_view("ab\0", 3)));
}

TEST(path_rules, segment_names) {
    EXPECT_EQ(parse_segment_name("seg-0.ts"), 0U);
    EXPECT_EQ(parse_segment_name("seg-42.ts"), 42U);
    EXPECT_EQ(parse_segment_name("seg-18446744073709551615.ts"), UINT64_MAX);
    for (const auto* bad :
         {"seg-18446744073709551616.ts", "seg-.ts", "seg-1", "seg-1.ts.tmp", "seg-+1.ts",
          "seg--1.ts", "seg-1a.ts", "Seg-1.ts", "seg-1.TS", "xseg-1.ts", "seg-1 .ts",
          "seg-000000000000000000001.ts", "index.m3u8", ""}) {
        EXPECT_FALSE(parse_segment_name(bad).has_value()) << bad;
    }
}

TEST(file_cache, evicts_least_recently_used_by_bytes) {
    file_cache c(10, 6);
    auto file = [](std::size_t n) {
        return cached_file{core::make_shared_bytes(std::string(n, 'x')), "\"e\""};
    };
    c.put("a", file(4));
    c.put("b", file(4));
    ASSERT_TRUE(c.get("a")); // a is now the most recent
    c.put("c", file(4));     // 12 > 10: b goes
    EXPECT_TRUE(c.get("a"));
    EXPECT_FALSE(c.get("b"));
    EXPECT_TRUE(c.get("c"));
    EXPECT_EQ(c.size_bytes(), 8U);
    c.put("big", file(7)); // over max_entry: not cached
    EXPECT_FALSE(c.get("big"));
    c.put("a", file(1)); // replace keeps the accounting right
    EXPECT_EQ(c.size_bytes(), 5U);
    EXPECT_EQ(c.entries(), 2U);
}

TEST(file_reader, reads_regular_files_and_refuses_the_rest) {
    testing::temp_dir d;
    const auto p = d.path() / "f.bin";
    std::ofstream(p, std::ios::binary) << std::string("\0abc", 4);
    auto r = read_file(p.string(), 100);
    ASSERT_EQ(r.status, read_status::ok) << r.error;
    EXPECT_EQ(*r.data, std::string("\0abc", 4));
    EXPECT_EQ(r.size, 4U);
    EXPECT_EQ(read_file(p.string(), 3).status, read_status::too_large);
    EXPECT_EQ(read_file((d.path() / "none").string(), 100).status, read_status::not_found);
    EXPECT_EQ(read_file(d.path().string(), 100).status, read_status::not_found); // a directory
    fs::create_symlink(p, d.path() / "link");
    EXPECT_EQ(read_file((d.path() / "link").string(), 100).status, read_status::not_found);
    EXPECT_EQ(file_etag(4, 0x10), "\"4-10\"");
}

} // namespace
} // namespace livehouse::services::origin
