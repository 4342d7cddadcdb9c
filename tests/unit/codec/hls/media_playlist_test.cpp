// The HLS media playlist renderer, one test per broadcast lifecycle state. Expected texts are
// written out in full so a change in any tag, its order or its number format fails a test.
#include "codec/hls/media_playlist.hpp"

#include <gtest/gtest.h>

namespace livehouse::codec::hls {
namespace {

using namespace std::chrono_literals;

// 2026-01-01T00:00:00Z
const std::chrono::system_clock::time_point t0{std::chrono::seconds(1'767'225'600)};

segment_entry seg(std::uint64_t seq, double d, bool disc = false, bool with_pdt = false) {
    segment_entry e;
    e.sequence = seq;
    e.duration_s = d;
    e.uri = "seg-" + std::to_string(seq) + ".ts";
    e.discontinuity = disc;
    if (with_pdt) {
        e.program_date_time = t0 + std::chrono::milliseconds(static_cast<long>(seq * 2000));
    }
    return e;
}

TEST(media_playlist, empty_live_playlist_has_the_required_header) {
    media_playlist p;
    EXPECT_EQ(render(p), "#EXTM3U\n"
                         "#EXT-X-VERSION:3\n"
                         "#EXT-X-TARGETDURATION:2\n"
                         "#EXT-X-MEDIA-SEQUENCE:0\n");
}

TEST(media_playlist, live_window) {
    media_playlist p;
    p.target_duration_s = 2;
    p.media_sequence = 40;
    for (std::uint64_t s = 40; s < 43; ++s) {
        p.segments.push_back(seg(s, 2.0));
    }
    EXPECT_EQ(render(p), "#EXTM3U\n"
                         "#EXT-X-VERSION:3\n"
                         "#EXT-X-TARGETDURATION:2\n"
                         "#EXT-X-MEDIA-SEQUENCE:40\n"
                         "#EXTINF:2.000,\nseg-40.ts\n"
                         "#EXTINF:2.000,\nseg-41.ts\n"
                         "#EXTINF:2.000,\nseg-42.ts\n");
}

TEST(media_playlist, suspended_playlist_is_the_live_one_without_endlist) {
    // A suspended broadcast keeps serving its last live playlist: no ENDLIST (the publisher may
    // come back), no new tags.
    media_playlist p;
    p.media_sequence = 7;
    p.segments = {seg(7, 2.0), seg(8, 2.0), seg(9, 1.28)};
    const auto text = render(p);
    EXPECT_EQ(text.find("ENDLIST"), std::string::npos);
    EXPECT_EQ(text.substr(text.size() - 24), "#EXTINF:1.280,\nseg-9.ts\n");
    // Rendering the same description twice gives byte-identical text (ETags depend on it).
    EXPECT_EQ(render(p), text);
}

TEST(media_playlist, republished_segment_carries_discontinuity_and_sequence_continues) {
    media_playlist p;
    p.media_sequence = 8;
    p.segments = {seg(8, 2.0), seg(9, 1.28), seg(10, 2.0, true), seg(11, 2.0)};
    EXPECT_EQ(render(p), "#EXTM3U\n"
                         "#EXT-X-VERSION:3\n"
                         "#EXT-X-TARGETDURATION:2\n"
                         "#EXT-X-MEDIA-SEQUENCE:8\n"
                         "#EXTINF:2.000,\nseg-8.ts\n"
                         "#EXTINF:1.280,\nseg-9.ts\n"
                         "#EXT-X-DISCONTINUITY\n"
                         "#EXTINF:2.000,\nseg-10.ts\n"
                         "#EXTINF:2.000,\nseg-11.ts\n");
}

TEST(media_playlist, discontinuity_sequence_written_once_a_discontinuity_left_the_window) {
    media_playlist p;
    p.media_sequence = 11;
    p.discontinuity_sequence = 1;
    p.segments = {seg(11, 2.0), seg(12, 2.0), seg(13, 2.0)};
    EXPECT_EQ(render(p), "#EXTM3U\n"
                         "#EXT-X-VERSION:3\n"
                         "#EXT-X-TARGETDURATION:2\n"
                         "#EXT-X-MEDIA-SEQUENCE:11\n"
                         "#EXT-X-DISCONTINUITY-SEQUENCE:1\n"
                         "#EXTINF:2.000,\nseg-11.ts\n"
                         "#EXTINF:2.000,\nseg-12.ts\n"
                         "#EXTINF:2.000,\nseg-13.ts\n");
}

TEST(media_playlist, ended_live_playlist_gets_endlist) {
    media_playlist p;
    p.media_sequence = 3;
    p.ended = true;
    p.segments = {seg(3, 2.0), seg(4, 0.5)};
    EXPECT_EQ(render(p), "#EXTM3U\n"
                         "#EXT-X-VERSION:3\n"
                         "#EXT-X-TARGETDURATION:2\n"
                         "#EXT-X-MEDIA-SEQUENCE:3\n"
                         "#EXTINF:2.000,\nseg-3.ts\n"
                         "#EXTINF:0.500,\nseg-4.ts\n"
                         "#EXT-X-ENDLIST\n");
}

TEST(media_playlist, vod_whole_list_with_type_discontinuities_dates_and_endlist) {
    media_playlist p;
    p.type = playlist_type::vod;
    p.target_duration_s = 4;
    p.ended = true;
    p.segments = {seg(0, 2.0, false, true), seg(1, 3.6, false, true), seg(2, 2.0, true, true)};
    EXPECT_EQ(render(p), "#EXTM3U\n"
                         "#EXT-X-VERSION:3\n"
                         "#EXT-X-TARGETDURATION:4\n"
                         "#EXT-X-MEDIA-SEQUENCE:0\n"
                         "#EXT-X-PLAYLIST-TYPE:VOD\n"
                         "#EXT-X-PROGRAM-DATE-TIME:2026-01-01T00:00:00.000Z\n"
                         "#EXTINF:2.000,\nseg-0.ts\n"
                         "#EXT-X-PROGRAM-DATE-TIME:2026-01-01T00:00:02.000Z\n"
                         "#EXTINF:3.600,\nseg-1.ts\n"
                         "#EXT-X-DISCONTINUITY\n"
                         "#EXT-X-PROGRAM-DATE-TIME:2026-01-01T00:00:04.000Z\n"
                         "#EXTINF:2.000,\nseg-2.ts\n"
                         "#EXT-X-ENDLIST\n");
}

TEST(media_playlist, event_type_and_independent_segments) {
    media_playlist p;
    p.type = playlist_type::event;
    p.independent_segments = true;
    p.segments = {seg(0, 1.0)};
    EXPECT_EQ(render(p), "#EXTM3U\n"
                         "#EXT-X-VERSION:3\n"
                         "#EXT-X-TARGETDURATION:2\n"
                         "#EXT-X-MEDIA-SEQUENCE:0\n"
                         "#EXT-X-PLAYLIST-TYPE:EVENT\n"
                         "#EXT-X-INDEPENDENT-SEGMENTS\n"
                         "#EXTINF:1.000,\nseg-0.ts\n");
}

TEST(media_playlist, extinf_rounds_to_milliseconds_and_clamps_nonsense) {
    media_playlist p;
    p.segments = {seg(0, 1.9996), seg(1, 0.0004), seg(2, -3.0), seg(3, 12.345)};
    const auto text = render(p);
    EXPECT_NE(text.find("#EXTINF:2.000,\nseg-0.ts\n"), std::string::npos);
    EXPECT_NE(text.find("#EXTINF:0.000,\nseg-1.ts\n"), std::string::npos);
    EXPECT_NE(text.find("#EXTINF:0.000,\nseg-2.ts\n"), std::string::npos);
    EXPECT_NE(text.find("#EXTINF:12.345,\nseg-3.ts\n"), std::string::npos);
}

TEST(media_playlist, rounded_seconds_matches_the_rendered_value) {
    EXPECT_EQ(rounded_seconds(2.0), 2);
    EXPECT_EQ(rounded_seconds(2.499), 2);
    EXPECT_EQ(rounded_seconds(2.4996), 3); // renders as 2.500
    EXPECT_EQ(rounded_seconds(2.5), 3);
    EXPECT_EQ(rounded_seconds(0.2), 0);
    EXPECT_EQ(rounded_seconds(-1), 0);
}

TEST(media_playlist, program_date_time_format) {
    EXPECT_EQ(format_program_date_time(t0), "2026-01-01T00:00:00.000Z");
    EXPECT_EQ(format_program_date_time(t0 + 86'399'999ms), "2026-01-01T23:59:59.999Z");
    // Sub-millisecond parts are truncated, never rounded into the next second.
    EXPECT_EQ(format_program_date_time(t0 + 1999999us), "2026-01-01T00:00:01.999Z");
    // Leap day.
    EXPECT_EQ(format_program_date_time(
                  std::chrono::sys_days{std::chrono::year{2028} / std::chrono::February / 29}),
              "2028-02-29T00:00:00.000Z");
}

} // namespace
} // namespace livehouse::codec::hls
