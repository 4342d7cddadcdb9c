// tag_demuxer: whole sample files into Annex B / ADTS frames, and the per-tag error contract
// (an error leaves the stored configuration as it was).
#include "codec/flv/tag_demuxer.hpp"
#include "sample_media.hpp"

#include <gtest/gtest.h>

namespace livehouse::codec::flv {
namespace {

std::size_t count(const std::vector<es_frame>& frames, es_kind kind) {
    return static_cast<std::size_t>(std::count_if(
        frames.begin(), frames.end(), [kind](const auto& f) { return f.kind == kind; }));
}

TEST(tag_demuxer, audio_video_sample) {
    tag_demuxer d;
    const auto frames = testing::demux(testing::load_flv("av.flv"), &d);
    EXPECT_EQ(count(frames, es_kind::video), 50U);
    EXPECT_GE(count(frames, es_kind::audio), 87U);
    ASSERT_TRUE(d.video_config());
    ASSERT_TRUE(d.audio_config());
    EXPECT_EQ(d.config_generation(), 2U);

    std::vector<std::int64_t> key_times;
    for (const auto& f : frames) {
        if (f.kind == es_kind::video) {
            EXPECT_EQ(f.payload.substr(0, 6), std::string("\0\0\0\1\x09\xF0", 6));
            EXPECT_EQ(f.cts_ms, 0); // no B-frames in this sample
            if (f.keyframe) {
                key_times.push_back(f.dts_ms);
                EXPECT_NE(f.payload.find(d.video_config()->annexb_parameter_sets),
                          std::string::npos);
            }
        } else {
            EXPECT_TRUE(f.keyframe);
            ASSERT_GT(f.payload.size(), 7U);
            EXPECT_EQ(static_cast<unsigned char>(f.payload[0]), 0xFF);
            EXPECT_EQ(static_cast<unsigned char>(f.payload[1]), 0xF1);
        }
    }
    ASSERT_EQ(key_times.size(), 2U);
    EXPECT_EQ(key_times[1] - key_times[0], 1000); // GOP of 25 at 25 fps
}

TEST(tag_demuxer, b_frames_carry_composition_time) {
    const auto frames = testing::demux(testing::load_flv("bframes.flv"));
    std::size_t with_cts = 0;
    for (const auto& f : frames) {
        if (f.kind == es_kind::video && f.cts_ms != 0) {
            ++with_cts;
            EXPECT_EQ(f.cts_ms % 40, 0); // whole frame periods
        }
    }
    EXPECT_GT(with_cts, 10U);
}

TEST(tag_demuxer, coded_frames_before_sequence_headers_are_errors) {
    tag_demuxer d;
    auto v = d.on_video(0, core::as_bytes(std::string("\x27\x01\0\0\0\0\0\0\1\x41", 10)));
    ASSERT_FALSE(v);
    EXPECT_NE(v.err().message.find("before the AVC sequence header"), std::string::npos);
    auto a = d.on_audio(0, core::as_bytes(std::string("\xAF\x01\x21", 3)));
    ASSERT_FALSE(a);
    EXPECT_NE(a.err().message.find("before the AAC sequence header"), std::string::npos);
    EXPECT_EQ(d.config_generation(), 0U);
}

TEST(tag_demuxer, errors_leave_configuration_untouched) {
    tag_demuxer d;
    auto r = d.on_audio(0, core::as_bytes(std::string("\xAF\x00\x12\x10", 4)));
    ASSERT_TRUE(r);
    EXPECT_FALSE(*r);
    EXPECT_EQ(d.config_generation(), 1U);
    // A bad sequence header (channelConfiguration 0) is refused; the old config stays.
    r = d.on_audio(10, core::as_bytes(std::string("\xAF\x00\x12\x00", 4)));
    ASSERT_FALSE(r);
    EXPECT_NE(r.err().message.find("flv audio: aac config"), std::string::npos) << r.err().message;
    ASSERT_TRUE(d.audio_config());
    EXPECT_EQ(d.audio_config()->channel_config, 2);
    EXPECT_EQ(d.config_generation(), 1U);
    // Unsupported formats are per-tag errors too.
    EXPECT_FALSE(d.on_audio(20, core::as_bytes("\x2F\x01")));
    // And a good raw frame still works afterwards.
    r = d.on_audio(23, core::as_bytes(std::string("\xAF\x01\x21\x10", 4)));
    ASSERT_TRUE(r);
    ASSERT_TRUE(*r);
    EXPECT_EQ((*r)->dts_ms, 23);
    EXPECT_EQ((*r)->payload.size(), 7U + 2U);
}

TEST(tag_demuxer, non_picture_tags_yield_nothing) {
    tag_demuxer d;
    const auto f = testing::load_flv("video.flv");
    ASSERT_TRUE(d.on_video(0, core::as_bytes(f.tags[1].body))); // sequence header
    ASSERT_TRUE(d.video_config());
    for (const std::string& bytes : {std::string("\x17\x02\0\0\0", 5),     // end of sequence
                                     std::string("\x57\x01\0\0\0\x00", 6), // command frame
                                     std::string("\x27\x01\0\0\0", 5)}) {  // empty AU
        const auto r = d.on_video(40, core::as_bytes(bytes));
        ASSERT_TRUE(r) << r.err().message;
        EXPECT_FALSE(*r);
    }
    const auto bad =
        d.on_video(40, core::as_bytes(std::string("\x27\x01\0\0\0\0\0\0\x09\x41", 10)));
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.err().message.find("flv video: avc access unit"), std::string::npos);
}

} // namespace
} // namespace livehouse::codec::flv
