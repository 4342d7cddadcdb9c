// parse_audio_tag: the sample file's tags and hand-made headers.
#include "codec/flv/audio_tag.hpp"
#include "sample_media.hpp"

#include <gtest/gtest.h>

namespace livehouse::codec::flv {
namespace {

core::result<audio_tag> parse(std::string_view s) {
    return parse_audio_tag(core::as_bytes(s));
}

TEST(audio_tag, sample_file_tags) {
    const auto f = testing::load_flv("audio.flv");
    std::size_t headers = 0;
    std::size_t raw = 0;
    for (const auto& t : f.tags) {
        if (t.type != tag_type::audio) {
            continue;
        }
        auto a = parse(t.body);
        ASSERT_TRUE(a) << a.err().message;
        EXPECT_EQ(a->sound_format, sound_format_aac);
        // §E.4.2.1 for AAC: SoundRate 3, SoundSize 1, SoundType 1 whatever the real config.
        EXPECT_EQ(a->sound_rate, 3);
        EXPECT_TRUE(a->sample_16bit);
        EXPECT_EQ(a->body.size() + 2, t.body.size());
        if (a->packet_type == aac_packet_type::sequence_header) {
            EXPECT_EQ(raw, 0U) << "sequence header must come first";
            ++headers;
        } else {
            ++raw;
        }
    }
    EXPECT_EQ(headers, 1U);
    EXPECT_GE(raw, 87U);
}

TEST(audio_tag, header_fields) {
    auto a = parse("\xAE\x01\x21\x10");
    ASSERT_TRUE(a) << a.err().message;
    EXPECT_EQ(a->sound_rate, 3);
    EXPECT_TRUE(a->sample_16bit);
    EXPECT_FALSE(a->stereo);
    EXPECT_EQ(a->packet_type, aac_packet_type::raw);
    ASSERT_EQ(a->body.size(), 2U);
    EXPECT_EQ(a->body[0], 0x21);

    a = parse(std::string("\xAF\x00\x12\x10", 4));
    ASSERT_TRUE(a);
    EXPECT_TRUE(a->stereo);
    EXPECT_EQ(a->packet_type, aac_packet_type::sequence_header);
}

TEST(audio_tag, refuses_truncated_unsupported_and_reserved) {
    const auto fails_with = [](std::string_view bytes, const char* what) {
        const auto a = parse(bytes);
        ASSERT_FALSE(a) << what;
        EXPECT_NE(a.err().message.find(what), std::string::npos) << a.err().message;
    };
    fails_with("", "empty");
    fails_with("\xAF", "truncated");
    fails_with("\x2F\x01", "unsupported audio format 2 (MP3)");
    fails_with(std::string("\x00\x01", 2), "unsupported audio format 0");
    fails_with("\xBF\x01", "unsupported audio format 11 (Speex)");
    fails_with("\xAF\x02", "reserved AACPacketType 2");
}

} // namespace
} // namespace livehouse::codec::flv
