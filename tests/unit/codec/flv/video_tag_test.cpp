// parse_video_tag: the sample file's tags and hand-made headers (SI24 CompositionTime, every
// truncation, unsupported codecs).
#include "codec/flv/video_tag.hpp"
#include "sample_media.hpp"

#include <gtest/gtest.h>

namespace livehouse::codec::flv {
namespace {

core::result<video_tag> parse(std::string_view s) {
    return parse_video_tag(core::as_bytes(s));
}

TEST(video_tag, sample_file_tags) {
    const auto f = testing::load_flv("bframes.flv");
    bool saw_header = false;
    bool saw_negative_or_positive_cts = false;
    std::size_t keyframes = 0;
    for (const auto& t : f.tags) {
        if (t.type != tag_type::video) {
            continue;
        }
        auto v = parse(t.body);
        ASSERT_TRUE(v) << v.err().message;
        EXPECT_EQ(v->codec_id, codec_id_avc);
        EXPECT_EQ(v->body.size() + 5, t.body.size());
        if (!saw_header) {
            // ffmpeg sends the AVCDecoderConfigurationRecord first, as a keyframe.
            EXPECT_EQ(v->packet_type, avc_packet_type::sequence_header);
            EXPECT_EQ(v->frame_type, video_frame_type::keyframe);
            saw_header = true;
            continue;
        }
        if (v->packet_type == avc_packet_type::end_of_sequence) {
            EXPECT_EQ(&t, &f.tags.back()); // ffmpeg writes one, last
            continue;
        }
        EXPECT_EQ(v->packet_type, avc_packet_type::nalu);
        keyframes += v->frame_type == video_frame_type::keyframe ? 1 : 0;
        saw_negative_or_positive_cts |= v->composition_time_ms != 0;
        EXPECT_GE(v->composition_time_ms, 0); // ffmpeg shifts to non-negative cts
    }
    EXPECT_TRUE(saw_header);
    EXPECT_EQ(keyframes, 2U); // GOP 25 over 50 frames
    EXPECT_TRUE(saw_negative_or_positive_cts) << "B-frame sample should have non-zero cts";
}

TEST(video_tag, header_fields) {
    const std::string bytes("\x17\x01\x00\x00\x50\xAA\xBB", 7); // body views into it
    auto v = parse(bytes);
    ASSERT_TRUE(v) << v.err().message;
    EXPECT_EQ(v->frame_type, video_frame_type::keyframe);
    EXPECT_EQ(v->packet_type, avc_packet_type::nalu);
    EXPECT_EQ(v->composition_time_ms, 0x50);
    ASSERT_EQ(v->body.size(), 2U);
    EXPECT_EQ(v->body[0], 0xAA);
    EXPECT_FALSE(v->is_command());

    v = parse(std::string("\x27\x02\x00\x00\x00", 5));
    ASSERT_TRUE(v);
    EXPECT_EQ(v->frame_type, video_frame_type::inter);
    EXPECT_EQ(v->packet_type, avc_packet_type::end_of_sequence);
    EXPECT_TRUE(v->body.empty());

    v = parse(std::string("\x57\x01\x00\x00\x00\x01", 6));
    ASSERT_TRUE(v);
    EXPECT_TRUE(v->is_command());
}

TEST(video_tag, composition_time_is_signed_24_bit) {
    auto v = parse(std::string("\x27\x01\xFF\xFF\xD8", 5)); // -40
    ASSERT_TRUE(v);
    EXPECT_EQ(v->composition_time_ms, -40);
    v = parse(std::string("\x27\x01\x80\x00\x00", 5));
    ASSERT_TRUE(v);
    EXPECT_EQ(v->composition_time_ms, -0x800000);
    v = parse(std::string("\x27\x01\x7F\xFF\xFF", 5));
    ASSERT_TRUE(v);
    EXPECT_EQ(v->composition_time_ms, 0x7FFFFF);
}

TEST(video_tag, every_truncation_fails_cleanly) {
    const std::string full("\x17\x01\x00\x00\x00", 5);
    for (std::size_t n = 0; n < full.size(); ++n) {
        const auto v = parse(full.substr(0, n));
        ASSERT_FALSE(v) << n;
        EXPECT_FALSE(v.err().message.empty());
    }
    EXPECT_TRUE(parse(full));
}

TEST(video_tag, refuses_unsupported_codecs_and_reserved_values) {
    const auto fails_with = [](std::string_view bytes, const char* what) {
        const auto v = parse(bytes);
        ASSERT_FALSE(v) << what;
        EXPECT_NE(v.err().message.find(what), std::string::npos) << v.err().message;
    };
    fails_with(std::string("\x12\x00\x00\x00\x00", 5), "unsupported video codec id 2");
    fails_with(std::string("\x14\x00\x00\x00\x00", 5), "unsupported video codec id 4");
    fails_with(std::string("\x1C\x01\x00\x00\x00", 5), "unsupported video codec id 12");
    // Enhanced RTMP: IsExHeader | PacketTypeCodedFrames, FourCC 'hvc1'.
    fails_with("\x91hvc1", "unsupported video codec");
    fails_with(std::string("\x07\x01\x00\x00\x00", 5), "reserved frame type 0");
    fails_with(std::string("\x67\x01\x00\x00\x00", 5), "reserved frame type 6");
    fails_with(std::string("\x17\x03\x00\x00\x00", 5), "reserved AVCPacketType 3");
    fails_with("", "empty");
}

} // namespace
} // namespace livehouse::codec::flv
