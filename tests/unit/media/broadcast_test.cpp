// One broadcast through its lifecycle: idle -> live -> suspended -> live -> ended, driven by
// synthetic frames and a manual clock, with the archive written inline to a temp dir.
#include "codec/hls/media_playlist.hpp"
#include "media/archive.hpp"
#include "media/broadcast.hpp"
#include "media_test_util.hpp"

#include <atomic>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <thread>

namespace livehouse::media {
namespace {

using namespace std::chrono_literals;
using test::video_frames;

std::string playlist_text(const broadcast& b) {
    auto s = b.snapshot();
    return s->playlist ? *s->playlist : std::string();
}

bool contains(const std::string& text, std::string_view what) {
    return text.find(what) != std::string::npos;
}

std::size_t count(const std::string& text, std::string_view what) {
    std::size_t n = 0;
    for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) {
        ++n;
    }
    return n;
}

class broadcast_test : public ::testing::Test {
  protected:
    broadcast_test() {
        config_.data_dir = dir_.path().string();
        record_.id = "b1";
        record_.stream_key = "live_test";
    }

    std::unique_ptr<broadcast> make() {
        return std::make_unique<broadcast>(
            record_, config_, clock_, test::inline_runner(),
            [this](const broadcast_record& r) { statuses_.push_back(r.status); });
    }

    /// Feeds frames; the clock follows the media time, as it would with a real publisher.
    void feed(broadcast& b, const std::vector<frame>& frames) {
        for (const auto& f : frames) {
            if (last_dts_ && f.dts_ms > *last_dts_) {
                clock_.advance(std::chrono::milliseconds(f.dts_ms - *last_dts_));
            }
            last_dts_ = f.dts_ms;
            b.on_frame(f);
        }
    }

    test::temp_dir dir_;
    packager_config config_;
    broadcast_record record_;
    core::manual_clock clock_;
    std::vector<broadcast_status> statuses_;
    std::optional<std::int64_t> last_dts_;
};

TEST_F(broadcast_test, idle_has_no_playlist) {
    auto b = make();
    auto s = b->snapshot();
    EXPECT_EQ(s->status, broadcast_status::idle);
    EXPECT_FALSE(s->playlist);
    EXPECT_TRUE(s->segments.empty());
    EXPECT_EQ(s->target_duration_s, 2);
    EXPECT_EQ(b->id(), "b1");
    EXPECT_EQ(b->stream_key(), "live_test");
}

TEST_F(broadcast_test, playlist_updates_the_moment_a_segment_closes) {
    auto b = make();
    ASSERT_TRUE(b->begin_publish({.video = true, .audio = false}));
    EXPECT_EQ(b->snapshot()->status, broadcast_status::live);
    const auto wall_at_start = clock_.wall();
    auto frames = video_frames(0, 2001);
    const frame cutter = frames.back(); // the keyframe at 2000 ms
    frames.pop_back();
    feed(*b, frames);
    const auto before = b->snapshot();
    EXPECT_FALSE(before->playlist); // 1.96 s of media: nothing closed yet
    feed(*b, {cutter});
    const auto after = b->snapshot();
    ASSERT_NE(before, after);
    ASSERT_TRUE(after->playlist);
    EXPECT_EQ(*after->playlist, "#EXTM3U\n"
                                "#EXT-X-VERSION:3\n"
                                "#EXT-X-TARGETDURATION:2\n"
                                "#EXT-X-MEDIA-SEQUENCE:0\n"
                                "#EXT-X-PROGRAM-DATE-TIME:" +
                                    codec::hls::format_program_date_time(wall_at_start) +
                                    "\n"
                                    "#EXTINF:2.000,\n"
                                    "seg-0.ts\n");
    ASSERT_EQ(after->segments.size(), 1U);
    const auto seg0 = after->find(0);
    ASSERT_TRUE(seg0);
    EXPECT_EQ(seg0->etag, "\"b1-0\"");
    EXPECT_FALSE(seg0->discontinuity);
    EXPECT_FALSE(after->find(1));
    EXPECT_EQ(after->playlist_etag.front(), '"');
    EXPECT_EQ(after->playlist_etag.back(), '"');
}

TEST_F(broadcast_test, position_follows_the_media_timeline_not_the_wall_clock) {
    auto b = make();
    EXPECT_EQ(b->snapshot()->position_s(clock_.now()), 0.0);
    ASSERT_TRUE(b->begin_publish({.video = true, .audio = false}));
    clock_.advance(500ms);
    EXPECT_NEAR(b->snapshot()->position_s(clock_.now()), 0.5, 1e-9);
    feed(*b, video_frames(0, 4001)); // segments of 0-2 s and 2-4 s closed
    const auto live = b->snapshot();
    EXPECT_NEAR(live->closed_media_s, 4.0, 1e-9);
    EXPECT_NEAR(live->position_s(clock_.now()), 4.0, 1e-9);
    EXPECT_NEAR(live->position_s(clock_.now() + 1500ms), 5.5, 1e-9);
    // A stalled publisher cannot run the position more than three target durations ahead.
    EXPECT_NEAR(live->position_s(clock_.now() + 60s), 4.0 + 6.0, 1e-9);
    b->end_publish();
    clock_.advance(20s); // suspended: the media timeline stands still
    const auto suspended = b->snapshot();
    EXPECT_EQ(suspended->status, broadcast_status::suspended);
    const double frozen = suspended->position_s(clock_.now());
    EXPECT_GE(frozen, 4.0);
    EXPECT_EQ(suspended->position_s(clock_.now() + 30s), frozen);
    ASSERT_TRUE(b->begin_publish({.video = true, .audio = false}));
    clock_.advance(1s);
    EXPECT_NEAR(b->snapshot()->position_s(clock_.now()), frozen + 1.0, 1e-9);
}

TEST_F(broadcast_test, live_window_slides_with_fixed_target_duration) {
    auto b = make();
    ASSERT_TRUE(b->begin_publish({.video = true, .audio = false}));
    std::shared_ptr<const live_snapshot> prev;
    std::shared_ptr<const segment> first;
    for (int i = 0; i < 10; ++i) {
        feed(*b, video_frames(i * 2000, (i + 1) * 2000 + 1));
        auto s = b->snapshot();
        const auto text = *s->playlist;
        EXPECT_TRUE(contains(text, "#EXT-X-TARGETDURATION:2\n"));
        EXPECT_EQ(count(text, "#EXTINF:2.000,"), std::min(i + 1, 6));
        EXPECT_TRUE(contains(text, fmt::format("#EXT-X-MEDIA-SEQUENCE:{}\n", std::max(0, i - 5))));
        if (prev) {
            EXPECT_NE(prev->playlist_etag, s->playlist_etag);
        }
        if (i == 0) {
            first = s->find(0);
        }
        prev = s;
    }
    // The snapshot shares the segment bytes: the same buffer, not a copy.
    auto s = b->snapshot();
    ASSERT_TRUE(first);
    // Segment 0 left the window at 14 s, when the playlist was 12 s long: fetchable until 28 s.
    EXPECT_EQ(s->find(0), first);
    clock_.advance(8s);
    b->tick();
    EXPECT_FALSE(b->snapshot()->find(0));
    auto seg9 = s->find(9);
    ASSERT_TRUE(seg9);
    EXPECT_EQ(seg9.get(), prev->find(9).get());
    EXPECT_EQ(seg9->data.get(), prev->find(9)->data.get());
}

TEST_F(broadcast_test, a_segment_that_left_the_window_is_findable_for_a_while) {
    config_.window_segments = 3;
    auto b = make();
    ASSERT_TRUE(b->begin_publish({.video = true, .audio = false}));
    feed(*b, video_frames(0, 8001)); // segments 0..3 closed; 0 left the window at t=8 s
    auto s = b->snapshot();
    EXPECT_FALSE(contains(*s->playlist, "seg-0.ts"));
    ASSERT_TRUE(s->find(0)); // §6.2.2: 2 s + the 6 s playlist it was in
    clock_.advance(8s - 1ms);
    b->tick();
    EXPECT_TRUE(b->snapshot()->find(0));
    clock_.advance(1ms);
    b->tick();
    EXPECT_FALSE(b->snapshot()->find(0));
    EXPECT_TRUE(b->snapshot()->find(1));
}

TEST_F(broadcast_test, suspend_resume_continues_with_discontinuity) {
    auto b = make();
    ASSERT_TRUE(b->begin_publish({.video = true, .audio = false}));
    auto second = b->begin_publish({.video = true, .audio = false});
    ASSERT_FALSE(second);
    EXPECT_EQ(second.err().message, "already publishing");

    feed(*b, video_frames(0, 3000)); // one 2 s segment, one open 0.96 s
    const auto live_text = playlist_text(*b);
    b->end_publish();
    auto s = b->snapshot();
    EXPECT_EQ(s->status, broadcast_status::suspended);
    // Suspended: the same playlist plus the closed last segment, no ENDLIST.
    const auto suspended_text = *s->playlist;
    ASSERT_EQ(suspended_text.substr(0, live_text.size()), live_text);
    EXPECT_TRUE(contains(suspended_text.substr(live_text.size()), "#EXTINF:1.000,\nseg-1.ts\n"));
    EXPECT_FALSE(contains(suspended_text, "ENDLIST"));
    b->end_publish(); // idempotent
    b->tick();
    EXPECT_EQ(*b->snapshot()->playlist, suspended_text); // unchanged while suspended

    // The publisher comes back 10 s later with timestamps from 0 again.
    clock_.advance(10s);
    last_dts_.reset();
    ASSERT_TRUE(b->begin_publish({.video = true, .audio = true}));
    EXPECT_EQ(b->snapshot()->status, broadcast_status::live);
    feed(*b, video_frames(0, 2001));
    const auto text = playlist_text(*b);
    EXPECT_TRUE(contains(text, "#EXTINF:1.000,\nseg-1.ts\n#EXT-X-DISCONTINUITY\n"));
    EXPECT_TRUE(contains(text, "#EXT-X-TARGETDURATION:2\n"));
    EXPECT_TRUE(b->snapshot()->find(2)->discontinuity);
    EXPECT_EQ(count(text, "#EXT-X-DISCONTINUITY\n"), 1U);
    EXPECT_EQ(statuses_,
              (std::vector<broadcast_status>{broadcast_status::live, broadcast_status::suspended,
                                             broadcast_status::live}));
}

TEST_F(broadcast_test, discontinuity_sequence_increments_when_the_tag_leaves_the_window) {
    config_.window_segments = 3;
    auto b = make();
    ASSERT_TRUE(b->begin_publish({.video = true, .audio = false}));
    feed(*b, video_frames(0, 4001)); // 0, 1
    b->end_publish();                // 2 (0.04 s)
    last_dts_.reset();
    ASSERT_TRUE(b->begin_publish({.video = true, .audio = false}));
    feed(*b, video_frames(0, 6001)); // 3 (discontinuity), 4, 5
    auto text = playlist_text(*b);
    EXPECT_TRUE(contains(text, "#EXT-X-MEDIA-SEQUENCE:3\n#EXT-X-DISCONTINUITY\n"));
    EXPECT_FALSE(contains(text, "DISCONTINUITY-SEQUENCE"));
    feed(*b, video_frames(6040, 8001)); // 6: segment 3 and its tag leave
    text = playlist_text(*b);
    EXPECT_TRUE(contains(text, "#EXT-X-MEDIA-SEQUENCE:4\n#EXT-X-DISCONTINUITY-SEQUENCE:1\n"));
    EXPECT_FALSE(contains(text, "#EXT-X-DISCONTINUITY\n"));
}

TEST_F(broadcast_test, grace_period_ends_and_writes_the_vod) {
    auto b = make();
    ASSERT_TRUE(b->begin_publish({.video = true, .audio = false}));
    feed(*b, video_frames(0, 4100));
    b->end_publish();
    clock_.advance(config_.grace_period - 1ms);
    EXPECT_FALSE(b->tick());
    EXPECT_EQ(b->snapshot()->status, broadcast_status::suspended);
    clock_.advance(1ms);
    EXPECT_TRUE(b->tick());
    EXPECT_FALSE(b->tick()); // ended once
    auto s = b->snapshot();
    EXPECT_EQ(s->status, broadcast_status::ended);
    EXPECT_TRUE(s->playlist->ends_with("#EXT-X-ENDLIST\n"));
    const auto r = b->record();
    EXPECT_EQ(r.status, broadcast_status::ended);
    ASSERT_TRUE(r.started_at);
    ASSERT_TRUE(r.ended_at);
    EXPECT_EQ(*r.ended_at, clock_.wall());

    auto again = b->begin_publish({.video = true, .audio = false});
    ASSERT_FALSE(again);
    EXPECT_EQ(again.err().message, "broadcast has ended");

    const auto vod = test::read_file(archive_dir(config_.data_dir, "b1") / "index.m3u8");
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
                   "#EXTINF:0.120,\nseg-2.ts\n"
                   "#EXT-X-ENDLIST\n");
    EXPECT_EQ(statuses_,
              (std::vector<broadcast_status>{broadcast_status::live, broadcast_status::suspended,
                                             broadcast_status::ended}));
}

TEST_F(broadcast_test, end_while_live_closes_the_open_segment_and_is_idempotent) {
    auto b = make();
    ASSERT_TRUE(b->begin_publish({.video = true, .audio = false}));
    feed(*b, video_frames(0, 3000));
    b->end();
    b->end();
    auto s = b->snapshot();
    EXPECT_EQ(s->status, broadcast_status::ended);
    EXPECT_EQ(count(*s->playlist, "#EXTINF:"), 2U);
    EXPECT_TRUE(s->playlist->ends_with("#EXTINF:1.000,\nseg-1.ts\n#EXT-X-ENDLIST\n"));
    // Segments stay in memory for their duration + the playlist's, then only on disk.
    EXPECT_TRUE(s->find(1));
    clock_.advance(4s);
    b->tick();
    EXPECT_FALSE(b->snapshot()->find(1));
    EXPECT_TRUE(b->snapshot()->find(0)); // 2 s + 3 s
    clock_.advance(1s);
    b->tick();
    EXPECT_TRUE(b->snapshot()->segments.empty());
    EXPECT_TRUE(b->snapshot()->playlist->ends_with("#EXT-X-ENDLIST\n"));
    // Frames after the end are ignored.
    b->on_frame(test::video_frame(5000, true));
    EXPECT_EQ(statuses_,
              (std::vector<broadcast_status>{broadcast_status::live, broadcast_status::ended}));
}

TEST_F(broadcast_test, long_gops_fix_target_duration_for_the_broadcast) {
    auto b = make();
    ASSERT_TRUE(b->begin_publish({.video = true, .audio = false}));
    feed(*b, video_frames(0, 8001, 25, 4000));
    EXPECT_TRUE(contains(playlist_text(*b), "#EXT-X-TARGETDURATION:4\n#"));
    EXPECT_EQ(b->snapshot()->target_duration_s, 4);
    b->end_publish();
    last_dts_.reset();
    // A republish with 2 s GOPs keeps TARGETDURATION 4 (§6.2.1: it MUST NOT change).
    ASSERT_TRUE(b->begin_publish({.video = true, .audio = false}));
    feed(*b, video_frames(0, 4001));
    const auto text = playlist_text(*b);
    EXPECT_TRUE(contains(text, "#EXT-X-TARGETDURATION:4\n#"));
    EXPECT_TRUE(contains(text, "#EXTINF:2.000,\nseg-3.ts\n"));
}

TEST_F(broadcast_test, program_date_time_follows_media_time) {
    auto b = make();
    ASSERT_TRUE(b->begin_publish({.video = true, .audio = false}));
    clock_.advance(700ms); // the first keyframe arrives a while after the publish started
    const auto first_frame_wall = clock_.wall();
    feed(*b, video_frames(0, 4001));
    auto s = b->snapshot();
    EXPECT_EQ(s->find(0)->program_date_time, first_frame_wall);
    EXPECT_EQ(s->find(1)->program_date_time, first_frame_wall + 2s);
}

TEST_F(broadcast_test, publish_without_tracks_is_refused) {
    auto b = make();
    auto r = b->begin_publish({});
    ASSERT_FALSE(r);
    EXPECT_EQ(b->snapshot()->status, broadcast_status::idle);
    EXPECT_TRUE(statuses_.empty());
}

TEST_F(broadcast_test, record_left_live_starts_suspended_and_ends_after_grace) {
    record_.status = broadcast_status::live;
    auto b = make();
    EXPECT_EQ(b->snapshot()->status, broadcast_status::suspended);
    clock_.advance(config_.grace_period);
    EXPECT_TRUE(b->tick());
    EXPECT_EQ(b->record().status, broadcast_status::ended);
    EXPECT_FALSE(b->snapshot()->playlist); // no segment was ever made
}

TEST_F(broadcast_test, snapshot_readers_never_block_and_see_consistent_snapshots) {
    config_.data_dir.clear();
    auto b = make();
    ASSERT_TRUE(b->begin_publish({.video = true, .audio = false}));
    std::atomic<bool> done{false};
    std::atomic<std::uint64_t> reads{0};
    std::vector<std::thread> readers;
    for (int i = 0; i < 2; ++i) {
        readers.emplace_back([&] {
            while (!done.load()) {
                auto s = b->snapshot();
                if (s->playlist) {
                    // Every segment a snapshot lists is in that snapshot.
                    for (const auto& seg : s->segments) {
                        EXPECT_EQ(s->find(seg->sequence), seg);
                    }
                    EXPECT_FALSE(s->segments.empty());
                }
                reads.fetch_add(1);
            }
        });
    }
    while (reads.load() < 2) {
        std::this_thread::yield(); // both readers are running
    }
    feed(*b, video_frames(0, 60'001));
    b->end();
    done = true;
    for (auto& t : readers) {
        t.join();
    }
    EXPECT_GT(reads.load(), 0U);
    EXPECT_EQ(b->snapshot()->status, broadcast_status::ended);
}

} // namespace
} // namespace livehouse::media
