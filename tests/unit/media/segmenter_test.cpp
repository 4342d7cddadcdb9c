// The segmenter: where segments are cut, their durations, TARGETDURATION, and that every
// segment is a well-formed TS that starts with PAT + PMT (and a keyframe when it can).
#include "codec/hls/media_playlist.hpp"
#include "media/segmenter.hpp"
#include "media_test_util.hpp"

#include <gtest/gtest.h>

namespace livehouse::media {
namespace {

using namespace std::chrono_literals;
using test::audio_frame;
using test::video_frame;
using test::video_frames;

std::vector<cut_segment> feed(segmenter& s, const std::vector<frame>& frames) {
    std::vector<cut_segment> out;
    for (const auto& f : frames) {
        if (auto c = s.push(f)) {
            out.push_back(std::move(*c));
        }
    }
    return out;
}

/// A/V interleaved by dts: video at 25 fps with keyframes every gop_ms, AAC every 23 ms.
std::vector<frame> av_frames(std::int64_t from, std::int64_t to, std::int64_t gop_ms = 2000) {
    auto v = video_frames(from, to, 25, gop_ms);
    std::vector<frame> out;
    std::size_t vi = 0;
    for (std::int64_t a = from; a < to; a += 23) {
        while (vi < v.size() && v[vi].dts_ms <= a) {
            out.push_back(v[vi++]);
        }
        out.push_back(audio_frame(a));
    }
    while (vi < v.size()) {
        out.push_back(v[vi++]);
    }
    return out;
}

void expect_segment_structure(const cut_segment& c, bool video) {
    const auto packets = test::parse_ts(c.data->view());
    ASSERT_GE(packets.size(), 3U);
    EXPECT_EQ(packets[0].pid, 0x0000);                 // PAT first...
    EXPECT_EQ(packets[1].pid, codec::mpegts::pmt_pid); // ...then PMT, in every segment
    const auto& first_pes = packets[2];
    EXPECT_EQ(first_pes.pid, video ? codec::mpegts::video_pid : codec::mpegts::audio_pid);
    EXPECT_TRUE(first_pes.payload_start);
    if (c.starts_with_keyframe) {
        EXPECT_TRUE(first_pes.random_access);
        EXPECT_TRUE(first_pes.has_pcr);
    }
}

TEST(segmenter, two_second_gops_make_two_second_segments_and_target_duration_2) {
    segmenter s({.video = true, .audio = false}, {});
    auto cuts = feed(s, video_frames(0, 10'000));
    ASSERT_EQ(cuts.size(), 4U); // cut at 2, 4, 6, 8 s; 8..10 s is still open
    for (std::size_t i = 0; i < cuts.size(); ++i) {
        EXPECT_EQ(cuts[i].start_dts_ms, static_cast<std::int64_t>(i) * 2000);
        EXPECT_EQ(cuts[i].duration_ms, 2000);
        EXPECT_FALSE(cuts[i].discontinuity);
        EXPECT_TRUE(cuts[i].starts_with_keyframe);
        expect_segment_structure(cuts[i], true);
    }
    EXPECT_EQ(s.target_duration_s(), 2);
    EXPECT_EQ(s.forced_cuts(), 0U);
    // The last segment ends at its last frame + one frame interval: 9960 + 40 = 10000.
    auto last = s.flush();
    ASSERT_TRUE(last);
    EXPECT_EQ(last->start_dts_ms, 8000);
    EXPECT_EQ(last->duration_ms, 2000);
    EXPECT_FALSE(s.flush());
}

TEST(segmenter, audio_and_video_cut_on_video_keyframes_and_drop_audio_before_the_first_one) {
    segmenter s({.video = true, .audio = true}, {});
    // Audio from 0, video (and its first keyframe) only from 500 ms, keyframes every 2 s from
    // there: the audio before 500 ms cannot start a decodable segment.
    std::vector<frame> frames;
    for (std::int64_t a = 0; a < 500; a += 23) {
        frames.push_back(audio_frame(a));
    }
    auto rest = av_frames(500, 6500);
    for (auto& f : rest) {
        if (f.kind == track::video) {
            f.keyframe = (f.dts_ms - 500) % 2000 == 0;
            f.payload = core::make_shared_bytes(test::annexb_access_unit(f.keyframe));
        }
    }
    frames.insert(frames.end(), rest.begin(), rest.end());
    auto cuts = feed(s, frames);
    EXPECT_EQ(s.dropped_frames(), 22U); // 0, 23, ..., 483
    ASSERT_EQ(cuts.size(), 2U);
    EXPECT_EQ(cuts[0].start_dts_ms, 500);
    EXPECT_EQ(cuts[0].duration_ms, 2000);
    EXPECT_EQ(cuts[1].start_dts_ms, 2500);
    for (const auto& c : cuts) {
        expect_segment_structure(c, true);
        // Both elementary streams are in the segment.
        bool audio = false;
        for (const auto& p : test::parse_ts(c.data->view())) {
            audio = audio || p.pid == codec::mpegts::audio_pid;
        }
        EXPECT_TRUE(audio);
    }
}

TEST(segmenter, audio_only_cuts_on_the_first_audio_frame_past_target) {
    segmenter s({.video = false, .audio = true}, {});
    std::vector<frame> frames;
    for (std::int64_t a = 0; a < 7000; a += 23) {
        frames.push_back(audio_frame(a));
    }
    auto cuts = feed(s, frames);
    ASSERT_EQ(cuts.size(), 3U);
    // First audio frame at or past 2000 ms: 87 * 23 = 2001.
    EXPECT_EQ(cuts[0].duration_ms, 2001);
    EXPECT_EQ(cuts[1].start_dts_ms, 2001);
    EXPECT_EQ(s.target_duration_s(), 2);
    for (const auto& c : cuts) {
        expect_segment_structure(c, false);
        EXPECT_TRUE(c.starts_with_keyframe);
        EXPECT_LE(codec::hls::rounded_seconds(static_cast<double>(c.duration_ms) / 1000), 2);
    }
}

TEST(segmenter, four_second_gops_set_target_duration_4) {
    segmenter s({.video = true, .audio = false}, {});
    auto cuts = feed(s, video_frames(0, 16'100, 25, 4000));
    ASSERT_EQ(cuts.size(), 4U);
    for (const auto& c : cuts) {
        EXPECT_EQ(c.duration_ms, 4000);
        EXPECT_TRUE(c.starts_with_keyframe);
    }
    EXPECT_EQ(s.target_duration_s(), 4);
    EXPECT_EQ(s.forced_cuts(), 0U);
}

TEST(segmenter, fixed_target_duration_forces_a_cut_before_a_segment_would_round_past_it) {
    // A republish whose GOP (3 s) is longer than the broadcast's fixed TARGETDURATION (2).
    segmenter s({.video = true, .audio = false}, {.target = 2000ms, .target_duration_s = 2});
    auto cuts = feed(s, video_frames(0, 12'000, 25, 3000));
    ASSERT_FALSE(cuts.empty());
    bool mid_gop = false;
    for (const auto& c : cuts) {
        // RFC 8216 §4.3.3.1: rounded EXTINF <= TARGETDURATION, always.
        EXPECT_LE(codec::hls::rounded_seconds(static_cast<double>(c.duration_ms) / 1000), 2)
            << c.duration_ms;
        EXPECT_LT(c.duration_ms, 2500);
        mid_gop = mid_gop || !c.starts_with_keyframe;
        expect_segment_structure(c, true);
    }
    EXPECT_TRUE(mid_gop);
    EXPECT_GT(s.forced_cuts(), 0U);
    // The first forced cut is at the first frame whose successor would end the segment at or
    // past 2.5 s (2480 + 40 >= 2500): that frame starts the next segment.
    EXPECT_EQ(cuts[0].duration_ms, 2480);
    EXPECT_FALSE(cuts[0].discontinuity);
    auto last = s.flush();
    ASSERT_TRUE(last);
    EXPECT_LT(last->duration_ms, 2500);
}

TEST(segmenter, no_keyframes_at_all_still_bounds_the_first_segment) {
    segmenter s({.video = true, .audio = false}, {});
    std::vector<frame> frames{video_frame(0, true)};
    for (std::int64_t t = 40; t < 30'000; t += 40) {
        frames.push_back(video_frame(t, false)); // intra-refresh: never another IDR
    }
    auto cuts = feed(s, frames);
    ASSERT_FALSE(cuts.empty());
    // 5 * ceil(2 s) = 10 s cap, cut before it would round to 11 (10480 + 40 >= 10500).
    EXPECT_EQ(cuts[0].duration_ms, 10'480);
    EXPECT_EQ(s.target_duration_s(), 10);
    for (const auto& c : cuts) {
        EXPECT_LE(codec::hls::rounded_seconds(static_cast<double>(c.duration_ms) / 1000), 10);
    }
}

TEST(segmenter, timestamp_going_backwards_cuts_with_discontinuity) {
    segmenter s({.video = true, .audio = false}, {});
    auto frames = video_frames(0, 3000);                            // 0..2960, cut at 2000
    auto again = video_frames(100'000, 104'100, 25, 2000, 100'000); // encoder restarted elsewhere
    frames.insert(frames.end(), again.begin(), again.end());
    auto back = video_frames(0, 2100); // and back to 0
    frames.insert(frames.end(), back.begin(), back.end());
    auto cuts = feed(s, frames);
    ASSERT_EQ(cuts.size(), 6U);
    EXPECT_EQ(cuts[0].duration_ms, 2000);
    EXPECT_FALSE(cuts[0].discontinuity);
    // 2000..2960 ends at its last frame + 40 ms, before the jump.
    EXPECT_EQ(cuts[1].start_dts_ms, 2000);
    EXPECT_EQ(cuts[1].duration_ms, 1000);
    EXPECT_EQ(cuts[2].start_dts_ms, 100'000);
    EXPECT_TRUE(cuts[2].discontinuity);
    EXPECT_EQ(cuts[2].duration_ms, 2000);
    EXPECT_FALSE(cuts[3].discontinuity);
    EXPECT_EQ(cuts[4].start_dts_ms, 104'000);
    EXPECT_FALSE(cuts[4].discontinuity);
    EXPECT_EQ(cuts[4].duration_ms, 120); // 104000..104080 + 40
    EXPECT_EQ(cuts[5].start_dts_ms, 0);
    EXPECT_TRUE(cuts[5].discontinuity);
    EXPECT_EQ(cuts[5].duration_ms, 2000);
    auto last = s.flush();
    ASSERT_TRUE(last);
    EXPECT_FALSE(last->discontinuity);
    EXPECT_EQ(last->start_dts_ms, 2000);
}

TEST(segmenter, stalled_video_in_an_av_publish_still_cuts_on_audio) {
    segmenter s({.video = true, .audio = true}, {.target = 2000ms, .target_duration_s = 2});
    auto frames = av_frames(0, 2100); // one keyframe cut at 2000
    for (std::int64_t a = 2116; a < 12'000; a += 23) {
        frames.push_back(audio_frame(a)); // camera off, microphone on
    }
    auto cuts = feed(s, frames);
    ASSERT_GE(cuts.size(), 4U);
    for (const auto& c : cuts) {
        EXPECT_LT(c.duration_ms, 2500) << c.start_dts_ms;
    }
}

TEST(segmenter, drops_undeclared_tracks_and_empty_payloads) {
    segmenter s({.video = true, .audio = false}, {});
    EXPECT_FALSE(s.push(audio_frame(0)));
    frame empty = video_frame(0, true);
    empty.payload = nullptr;
    EXPECT_FALSE(s.push(empty));
    EXPECT_FALSE(s.push(video_frame(0, false))); // not a keyframe: cannot start
    EXPECT_FALSE(s.has_open_segment());
    EXPECT_EQ(s.dropped_frames(), 3U);
    EXPECT_FALSE(s.push(video_frame(40, true)));
    EXPECT_TRUE(s.has_open_segment());
}

TEST(segmenter, segment_bytes_are_capped) {
    segmenter s({.video = true, .audio = true},
                {.target = 2000ms, .target_duration_s = std::nullopt, .max_segment_bytes = 4096});
    auto cuts = feed(s, av_frames(0, 1000));
    ASSERT_FALSE(cuts.empty());
    for (const auto& c : cuts) {
        EXPECT_LE(c.data->size(), 4096U + 2 * 188U);
    }
}

TEST(segmenter, timestamps_are_ms_times_90_with_composition_offset) {
    segmenter s({.video = true, .audio = false}, {});
    ASSERT_FALSE(s.push(video_frame(1000, true, 80)));
    auto c = s.flush();
    ASSERT_TRUE(c);
    const auto packets = test::parse_ts(c->data->view());
    ASSERT_GE(packets.size(), 3U);
    const auto& pes = packets[2].payload;
    ASSERT_GE(pes.size(), 19U);
    ASSERT_EQ(static_cast<std::uint8_t>(pes[7]) & 0xC0U, 0xC0U); // PTS and DTS
    auto ts = [&](std::size_t at) {
        const auto* b = reinterpret_cast<const std::uint8_t*>(pes.data() + at);
        return (static_cast<std::int64_t>((b[0] >> 1U) & 7U) << 30U) |
               (static_cast<std::int64_t>(b[1]) << 22U) |
               (static_cast<std::int64_t>(b[2] >> 1U) << 15U) |
               (static_cast<std::int64_t>(b[3]) << 7U) | (b[4] >> 1U);
    };
    EXPECT_EQ(ts(9), (1000 + 80) * 90);
    EXPECT_EQ(ts(14), 1000 * 90);
}

} // namespace
} // namespace livehouse::media
