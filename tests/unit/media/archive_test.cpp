// The archive on disk: segment files, the VOD playlist, ordering under a deferred runner, the
// pending-write bound, write failures and crash recovery from the manifest.
#include "media/archive.hpp"
#include "media/broadcast.hpp"
#include "media_test_util.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

namespace livehouse::media {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using test::read_file;
using test::video_frames;

std::shared_ptr<const segment> seg(std::uint64_t seq, double d, bool disc = false) {
    auto s = std::make_shared<segment>();
    s->sequence = seq;
    s->duration_s = d;
    s->discontinuity = disc;
    s->program_date_time =
        std::chrono::system_clock::time_point(std::chrono::seconds(1'767'225'600 + 2 * seq));
    // Sealed, as the segmenter makes them: the archive copies it with sendfile(2).
    s->data = core::blob::seal(std::string(188, static_cast<char>('a' + seq % 26)));
    return s;
}

std::vector<std::string> listing(const fs::path& dir) {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir)) {
        out.push_back(e.path().filename().string());
    }
    std::sort(out.begin(), out.end());
    return out;
}

TEST(archive, broadcast_writes_segments_and_vod_playlist_with_discontinuity) {
    test::temp_dir dir;
    core::manual_clock clock;
    packager_config config;
    config.data_dir = dir.path().string();
    broadcast_record r;
    r.id = "vodtest";
    broadcast b(r, config, clock, test::inline_runner());

    ASSERT_TRUE(b.begin_publish({.video = true, .audio = false}));
    for (const auto& f : video_frames(0, 4001)) {
        b.on_frame(f);
    }
    b.end_publish(); // segments 0, 1 and a 40 ms segment 2
    ASSERT_TRUE(b.begin_publish({.video = true, .audio = false}));
    for (const auto& f : video_frames(0, 3000)) {
        b.on_frame(f);
    }
    std::vector<std::shared_ptr<const segment>> in_memory;
    for (std::uint64_t i = 0; i < 4; ++i) {
        in_memory.push_back(b.snapshot()->find(i));
        ASSERT_TRUE(in_memory.back()) << i;
    }
    b.end(); // segment 4 (1 s) closed, VOD written

    const auto vod_dir = dir.path() / "vod" / "vodtest";
    EXPECT_EQ(listing(vod_dir),
              (std::vector<std::string>{"index.m3u8", "seg-0.ts", "seg-1.ts", "seg-2.ts",
                                        "seg-3.ts", "seg-4.ts", "segments.log"}));
    for (const auto& s : in_memory) {
        EXPECT_EQ(read_file(vod_dir / segment_uri(s->sequence)), s->data->view());
    }
    const auto vod = read_file(vod_dir / "index.m3u8");
    EXPECT_EQ(vod, "#EXTM3U\n"
                   "#EXT-X-VERSION:3\n"
                   "#EXT-X-TARGETDURATION:2\n"
                   "#EXT-X-MEDIA-SEQUENCE:0\n"
                   "#EXT-X-PLAYLIST-TYPE:VOD\n"
                   "#EXT-X-PROGRAM-DATE-TIME:2026-01-01T00:00:00.000Z\n"
                   "#EXTINF:2.000,\nseg-0.ts\n"
                   "#EXT-X-PROGRAM-DATE-TIME:2026-01-01T00:00:02.000Z\n"
                   "#EXTINF:2.000,\nseg-1.ts\n"
                   "#EXT-X-PROGRAM-DATE-TIME:2026-01-01T00:00:04.000Z\n"
                   "#EXTINF:0.040,\nseg-2.ts\n"
                   "#EXT-X-DISCONTINUITY\n"
                   "#EXT-X-PROGRAM-DATE-TIME:2026-01-01T00:00:00.000Z\n"
                   "#EXTINF:2.000,\nseg-3.ts\n"
                   "#EXT-X-PROGRAM-DATE-TIME:2026-01-01T00:00:02.000Z\n"
                   "#EXTINF:1.000,\nseg-4.ts\n"
                   "#EXT-X-ENDLIST\n");
    // The manifest has one line per segment, enough to rebuild the playlist.
    const auto entries = parse_archive_manifest(read_file(vod_dir / "segments.log"));
    ASSERT_EQ(entries.size(), 5U);
    EXPECT_EQ(render_vod_playlist(entries, 2), vod);
}

TEST(archive, writes_run_on_the_runner_in_order) {
    test::temp_dir dir;
    test::deferred_runner io;
    auto a = archive::create(dir.path().string(), "ord", io.runner());
    ASSERT_TRUE(a);
    a->add(seg(0, 2.0));
    a->add(seg(1, 2.0));
    a->finish(2);
    EXPECT_FALSE(fs::exists(a->dir())); // nothing on the caller's thread
    EXPECT_EQ(io.tasks.size(), 1U);     // one drain task, not one per job
    io.run_all();
    EXPECT_EQ(a->segments_written(), 2U);
    EXPECT_TRUE(a->playlist_written());
    EXPECT_EQ(listing(a->dir()),
              (std::vector<std::string>{"index.m3u8", "seg-0.ts", "seg-1.ts", "segments.log"}));
}

TEST(archive, pending_writes_are_bounded_and_gaps_become_discontinuities) {
    test::temp_dir dir;
    test::deferred_runner io;
    auto a = archive::create(dir.path().string(), "slow", io.runner());
    ASSERT_TRUE(a);
    for (std::uint64_t i = 0; i < archive::max_pending + 3; ++i) {
        a->add(seg(i, 2.0));
    }
    EXPECT_EQ(a->segments_lost(), 3U);
    io.run_all();
    a->add(seg(archive::max_pending + 3, 2.0)); // the disk caught up
    a->finish(2);
    io.run_all();
    EXPECT_EQ(a->segments_written(), archive::max_pending + 1);
    const auto vod = read_file(a->dir() / "index.m3u8");
    // 0..31 written, 32..34 lost, 35 written after a discontinuity.
    EXPECT_EQ(vod.find("#EXT-X-DISCONTINUITY\n"), vod.rfind("#EXT-X-DISCONTINUITY\n"));
    EXPECT_NE(vod.find("#EXT-X-DISCONTINUITY\n#EXT-X-PROGRAM-DATE-TIME:2026-01-01T00:01:10.000Z"
                       "\n#EXTINF:2.000,\nseg-35.ts\n"),
              std::string::npos);
    EXPECT_EQ(vod.find("seg-32.ts"), std::string::npos);
}

TEST(archive, write_failures_are_counted_not_thrown) {
    test::temp_dir dir;
    // data_dir is a regular file: the vod directory cannot be created.
    const auto file = dir.path() / "not-a-dir";
    { std::ofstream(file) << "x"; }
    auto a = archive::create(file.string(), "b", test::inline_runner());
    ASSERT_TRUE(a);
    a->add(seg(0, 2.0));
    a->finish(2);
    EXPECT_EQ(a->segments_written(), 0U);
    EXPECT_EQ(a->segments_lost(), 1U);
    EXPECT_FALSE(a->playlist_written());
}

TEST(archive, off_without_data_dir_or_with_an_unsafe_id) {
    EXPECT_FALSE(archive::create("", "b", test::inline_runner()));
    EXPECT_FALSE(archive::create("/tmp", "../etc", test::inline_runner()));
    EXPECT_FALSE(archive::create("/tmp", "a/b", test::inline_runner()));
    EXPECT_FALSE(archive::create("/tmp", "", test::inline_runner()));
}

TEST(archive, no_segments_no_playlist) {
    test::temp_dir dir;
    auto a = archive::create(dir.path().string(), "empty", test::inline_runner());
    a->finish(2);
    EXPECT_FALSE(a->playlist_written());
    EXPECT_FALSE(fs::exists(a->dir() / "index.m3u8"));
}

TEST(archive, recover_rebuilds_the_playlist_from_the_manifest) {
    test::temp_dir dir;
    auto a = archive::create(dir.path().string(), "crashed", test::inline_runner());
    a->add(seg(0, 2.0));
    a->add(seg(1, 4.4));
    // The process dies here: no finish(). A torn last manifest line is ignored.
    {
        std::ofstream log(a->dir() / "segments.log", std::ios::app);
        log << "2 2000 0 17672";
    }
    EXPECT_FALSE(fs::exists(a->dir() / "index.m3u8"));
    archive::recover(dir.path().string(), "crashed", test::inline_runner());
    const auto vod = read_file(a->dir() / "index.m3u8");
    EXPECT_EQ(vod, "#EXTM3U\n"
                   "#EXT-X-VERSION:3\n"
                   "#EXT-X-TARGETDURATION:4\n"
                   "#EXT-X-MEDIA-SEQUENCE:0\n"
                   "#EXT-X-PLAYLIST-TYPE:VOD\n"
                   "#EXT-X-PROGRAM-DATE-TIME:2026-01-01T00:00:00.000Z\n"
                   "#EXTINF:2.000,\nseg-0.ts\n"
                   "#EXT-X-PROGRAM-DATE-TIME:2026-01-01T00:00:02.000Z\n"
                   "#EXTINF:4.400,\nseg-1.ts\n"
                   "#EXT-X-ENDLIST\n");
    // An existing playlist is left alone; a missing directory is no error.
    { std::ofstream(a->dir() / "index.m3u8") << "keep"; }
    archive::recover(dir.path().string(), "crashed", test::inline_runner());
    EXPECT_EQ(read_file(a->dir() / "index.m3u8"), "keep");
    archive::recover(dir.path().string(), "never-published", test::inline_runner());
    EXPECT_FALSE(fs::exists(dir.path() / "vod" / "never-published"));
}

TEST(archive, manifest_parser_skips_malformed_lines) {
    const auto e = parse_archive_manifest("0 2000 0 5\n"
                                          "garbage\n"
                                          "1 2000 2 5\n"   // bad flag
                                          "1 -5 0 5\n"     // negative duration
                                          "0 2000 0 5\n"   // not increasing
                                          "1 1500 1 7 x\n" // trailing junk
                                          "2 1500 1 7\n"
                                          "3 1500 0"); // torn
    ASSERT_EQ(e.size(), 2U);
    EXPECT_EQ(e[0].sequence, 0U);
    EXPECT_EQ(e[1].sequence, 2U);
    EXPECT_TRUE(e[1].discontinuity);
    EXPECT_EQ(e[1].duration_ms, 1500);
    EXPECT_EQ(e[1].program_date_time_ms, 7);
}

TEST(archive, vod_target_duration_covers_every_segment) {
    std::vector<archived_segment> s{{0, 2000, false, 0}, {1, 5600, false, 2000}};
    const auto text = render_vod_playlist(s, 2);
    EXPECT_NE(text.find("#EXT-X-TARGETDURATION:6\n"), std::string::npos);
}

} // namespace
} // namespace livehouse::media

namespace livehouse::media {
namespace {

// Sizes around the page size: the direct write rounds up to whole pages and cuts back.
TEST(archive, write_file_atomic_stores_sealed_blobs_byte_exact) {
    test::temp_dir dir;
    for (const std::size_t size : {1UL, 4095UL, 4096UL, 4097UL, 700'001UL}) {
        std::string bytes(size, '\0');
        for (std::size_t i = 0; i < size; ++i) {
            bytes[i] = static_cast<char>(i * 7 % 253);
        }
        const auto b = core::blob::seal(bytes);
        ASSERT_GE(b->fd(), 0);
        const auto path = dir.path() / ("seg-" + std::to_string(size) + ".ts");
        ASSERT_TRUE(write_file_atomic(path, *b)) << size;
        EXPECT_EQ(fs::file_size(path), size);
        EXPECT_TRUE(read_file(path) == bytes) << size;
        EXPECT_FALSE(fs::exists(fs::path(path.string() + ".tmp")));
    }
}

// The page-cache path: a heap-backed blob (no memory file to read from), and tmpfs, which
// refuses O_DIRECT before Linux 6.6 (newer kernels take the direct path there too).
TEST(archive, write_file_atomic_page_cache_path_and_tmpfs) {
    test::temp_dir dir;
    const std::string bytes(10'001, 'q');
    const auto heap = core::blob::from_string(bytes);
    ASSERT_EQ(heap->fd(), -1);
    ASSERT_TRUE(write_file_atomic(dir.path() / "heap.ts", *heap));
    EXPECT_EQ(read_file(dir.path() / "heap.ts"), bytes);

    const fs::path shm = "/dev/shm";
    if (!fs::is_directory(shm) || ::access(shm.c_str(), W_OK) != 0) {
        return; // nothing more to try here
    }
    const auto path = shm / ("livehouse-archive-test-" + std::to_string(::getpid()) + ".ts");
    const auto r = write_file_atomic(path, *core::blob::seal(bytes));
    ASSERT_TRUE(r) << r.err().message;
    EXPECT_EQ(read_file(path), bytes);
    fs::remove(path);
}

} // namespace
} // namespace livehouse::media
