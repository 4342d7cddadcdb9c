// The live window: RFC 8216 §6.2.2 removal rules, discontinuity sequence, and how long removed
// segments stay fetchable.
#include "media/live_window.hpp"

#include <gtest/gtest.h>

namespace livehouse::media {
namespace {

using namespace std::chrono_literals;
using clock_t_ = std::chrono::steady_clock;

std::shared_ptr<const segment> seg(std::uint64_t seq, double d, bool disc = false) {
    auto s = std::make_shared<segment>();
    s->sequence = seq;
    s->duration_s = d;
    s->discontinuity = disc;
    s->data = core::blob::from_string("ts" + std::to_string(seq));
    return s;
}

const clock_t_::time_point t0{10s};

std::vector<std::uint64_t> sequences(const live_window& w) {
    std::vector<std::uint64_t> out;
    for (const auto& s : w.segments()) {
        out.push_back(s->sequence);
    }
    return out;
}

TEST(live_window, keeps_the_last_window_segments_and_media_sequence_grows) {
    live_window w(6);
    std::uint64_t last_ms = 0;
    for (std::uint64_t i = 0; i < 20; ++i) {
        w.push(seg(i, 2.0), 2, t0 + std::chrono::seconds(2 * i));
        const auto p = w.playlist(2);
        EXPECT_GE(p.media_sequence, last_ms); // §6.2.1: never goes back
        last_ms = p.media_sequence;
        EXPECT_EQ(p.segments.size(), std::min<std::size_t>(i + 1, 6));
        EXPECT_EQ(p.segments.back().sequence, i);
        EXPECT_EQ(p.segments.front().sequence, p.media_sequence);
        EXPECT_EQ(p.segments.back().uri, "seg-" + std::to_string(i) + ".ts");
    }
    EXPECT_EQ(last_ms, 14U);
    EXPECT_DOUBLE_EQ(w.duration_s(), 12.0);
}

TEST(live_window, never_below_three_target_durations) {
    // window_segments 2 with 2 s segments would be 4 s < 3 * 2 s: §6.2.2 keeps 3 segments.
    live_window w(2);
    for (std::uint64_t i = 0; i < 10; ++i) {
        w.push(seg(i, 2.0), 2, t0);
    }
    EXPECT_EQ(w.size(), 3U);
    // Short segments (a publisher that keeps reconnecting): as many as cover 6 s.
    live_window shorter(6);
    for (std::uint64_t i = 0; i < 40; ++i) {
        shorter.push(seg(i, 0.5), 2, t0);
    }
    EXPECT_EQ(shorter.size(), 12U);
    EXPECT_GE(shorter.duration_s(), 6.0);
}

TEST(live_window, removing_a_discontinuity_increments_the_discontinuity_sequence) {
    live_window w(3);
    w.push(seg(0, 2.0), 2, t0);
    w.push(seg(1, 2.0), 2, t0);
    w.push(seg(2, 2.0, true), 2, t0); // republish
    w.push(seg(3, 2.0), 2, t0);
    w.push(seg(4, 2.0), 2, t0);
    EXPECT_EQ(w.discontinuity_sequence(), 0U); // seg 2 (the tag) still listed
    auto p = w.playlist(2);
    EXPECT_EQ(p.media_sequence, 2U);
    EXPECT_TRUE(p.segments.front().discontinuity);
    w.push(seg(5, 2.0), 2, t0);
    EXPECT_EQ(w.discontinuity_sequence(), 1U);
    p = w.playlist(2);
    EXPECT_EQ(p.discontinuity_sequence, 1U);
    EXPECT_EQ(p.media_sequence, 3U);
    EXPECT_FALSE(p.segments.front().discontinuity);
}

TEST(live_window, removed_segments_stay_available_for_duration_plus_playlist_duration) {
    live_window w(3);
    for (std::uint64_t i = 0; i < 3; ++i) {
        w.push(seg(i, 2.0), 2, t0);
    }
    // Segment 0 leaves at t0 + 1 s; the longest playlist that held it was 6 s long.
    w.push(seg(3, 2.0), 2, t0 + 1s);
    EXPECT_EQ(w.playlist(2).media_sequence, 1U);
    EXPECT_EQ(sequences(w), (std::vector<std::uint64_t>{0, 1, 2, 3}));
    EXPECT_FALSE(w.expire(t0 + 1s + 8s - 1ms));
    EXPECT_EQ(sequences(w).front(), 0U);
    EXPECT_TRUE(w.expire(t0 + 1s + 8s));
    EXPECT_EQ(sequences(w), (std::vector<std::uint64_t>{1, 2, 3}));
}

TEST(live_window, close_adds_endlist_and_lets_segments_expire) {
    live_window w(6);
    w.push(seg(0, 2.0), 2, t0);
    w.push(seg(1, 1.0), 2, t0);
    w.close(t0 + 5s);
    const auto p = w.playlist(2);
    EXPECT_TRUE(p.ended);
    EXPECT_EQ(p.segments.size(), 2U);
    EXPECT_EQ(sequences(w), (std::vector<std::uint64_t>{0, 1}));
    // Segment 1: 1 s + 3 s playlist; segment 0: 2 s + 3 s.
    EXPECT_TRUE(w.expire(t0 + 5s + 4s));
    EXPECT_EQ(sequences(w), (std::vector<std::uint64_t>{0}));
    EXPECT_TRUE(w.expire(t0 + 5s + 5s));
    EXPECT_TRUE(w.segments().empty());
    EXPECT_EQ(w.playlist(2).segments.size(), 2U); // the ENDLIST playlist still lists them
}

TEST(live_window, hard_cap_bounds_memory) {
    live_window w(6);
    for (std::uint64_t i = 0; i < live_window::max_segments + 10; ++i) {
        w.push(seg(i, 0.0), 2, t0);
    }
    EXPECT_EQ(w.size(), live_window::max_segments);
}

} // namespace
} // namespace livehouse::media
