// AudioSpecificConfig parsing and ADTS headers: the sample file's config, hand-made configs for
// every branch (escape object type, explicit frequency, HE-AAC, 960-sample frames) and an ADTS
// stream compared byte for byte with the one ffmpeg's ADTS muxer wrote for the same file.
#include "codec/flv/aac.hpp"
#include "codec/flv/audio_tag.hpp"
#include "sample_media.hpp"

#include <gtest/gtest.h>

namespace livehouse::codec::flv {
namespace {

/// Packs (value, bit count) fields MSB-first into bytes, zero-padded.
std::string bits(std::initializer_list<std::pair<std::uint32_t, unsigned>> fields) {
    std::string out;
    unsigned used = 0;
    for (const auto& [value, n] : fields) {
        for (unsigned i = n; i-- > 0;) {
            if (used % 8 == 0) {
                out.push_back(0);
            }
            if (((value >> i) & 1U) != 0) {
                out.back() = static_cast<char>(out.back() | (0x80 >> (used % 8)));
            }
            ++used;
        }
    }
    return out;
}

core::result<audio_specific_config> parse(const std::string& s) {
    return parse_audio_specific_config(core::as_bytes(s));
}

/// ADTS header fields (ISO/IEC 14496-3 Table 1.A.5), decoded independently of the writer.
struct adts_fields {
    unsigned sync, id, layer, protection_absent, profile, sfi, private_bit, channels, original,
        home, copyright_bit, copyright_start, frame_length, fullness, blocks;
};

adts_fields decode_adts(const std::string& h) {
    EXPECT_GE(h.size(), 7U);
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < 7; ++i) {
        v = (v << 8U) | static_cast<unsigned char>(h[i]);
    }
    unsigned at = 56;
    const auto take = [&](unsigned n) {
        at -= n;
        return static_cast<unsigned>((v >> at) & ((1U << n) - 1U));
    };
    adts_fields f{};
    f.sync = take(12);
    f.id = take(1);
    f.layer = take(2);
    f.protection_absent = take(1);
    f.profile = take(2);
    f.sfi = take(4);
    f.private_bit = take(1);
    f.channels = take(3);
    f.original = take(1);
    f.home = take(1);
    f.copyright_bit = take(1);
    f.copyright_start = take(1);
    f.frame_length = take(13);
    f.fullness = take(11);
    f.blocks = take(2);
    return f;
}

TEST(aac_config, sample_file_sequence_header) {
    const auto f = testing::load_flv("av.flv");
    const auto it = std::find_if(f.tags.begin(), f.tags.end(),
                                 [](const auto& t) { return t.type == tag_type::audio; });
    ASSERT_NE(it, f.tags.end());
    const auto tag = parse_audio_tag(core::as_bytes(it->body));
    ASSERT_TRUE(tag);
    ASSERT_EQ(tag->packet_type, aac_packet_type::sequence_header);
    const auto c = parse_audio_specific_config(tag->body);
    ASSERT_TRUE(c) << c.err().message;
    EXPECT_EQ(c->object_type, 2); // LC
    EXPECT_EQ(c->sampling_index, 4);
    EXPECT_EQ(c->sample_rate, 44100U);
    EXPECT_EQ(c->output_sample_rate, 44100U);
    EXPECT_EQ(c->channel_config, 1);
    EXPECT_FALSE(c->sbr);
    EXPECT_EQ(c->samples_per_frame, 1024);
    EXPECT_EQ(c->codec_string(), "mp4a.40.2");
}

TEST(aac_config, common_two_byte_configs) {
    auto c = parse(std::string("\x12\x10", 2)); // LC 44.1 kHz stereo
    ASSERT_TRUE(c);
    EXPECT_EQ(c->object_type, 2);
    EXPECT_EQ(c->sample_rate, 44100U);
    EXPECT_EQ(c->channel_config, 2);

    c = parse(std::string("\x11\x90", 2)); // LC 48 kHz stereo
    ASSERT_TRUE(c);
    EXPECT_EQ(c->sampling_index, 3);
    EXPECT_EQ(c->sample_rate, 48000U);

    c = parse(bits({{2, 5}, {3, 4}, {2, 4}, {1, 1}})); // frameLengthFlag: 960-sample frames
    ASSERT_TRUE(c);
    EXPECT_EQ(c->samples_per_frame, 960);
}

TEST(aac_config, escape_object_type_and_explicit_frequency) {
    // audioObjectType 31 -> 32 + 6 bits (here 32 + 2 = 34, Layer-3), index 3, stereo.
    auto c = parse(bits({{31, 5}, {2, 6}, {3, 4}, {2, 4}}));
    ASSERT_TRUE(c) << c.err().message;
    EXPECT_EQ(c->object_type, 34);
    EXPECT_EQ(c->samples_per_frame, 1024); // no GASpecificConfig for this type

    // samplingFrequencyIndex 0xF -> 24-bit explicit frequency, mapped back onto the table.
    c = parse(bits({{2, 5}, {15, 4}, {48000, 24}, {1, 4}}));
    ASSERT_TRUE(c) << c.err().message;
    EXPECT_EQ(c->sampling_index, 3);
    EXPECT_EQ(c->sample_rate, 48000U);

    c = parse(bits({{2, 5}, {15, 4}, {44101, 24}, {1, 4}}));
    ASSERT_FALSE(c);
    EXPECT_NE(c.err().message.find("44101 Hz"), std::string::npos) << c.err().message;
}

TEST(aac_config, he_aac_explicit_signalling) {
    // AOT 5 (SBR), core 24 kHz (index 6), stereo, extension 48 kHz (index 3), core AOT 2.
    auto c = parse(bits({{5, 5}, {6, 4}, {2, 4}, {3, 4}, {2, 5}, {0, 3}}));
    ASSERT_TRUE(c) << c.err().message;
    EXPECT_TRUE(c->sbr);
    EXPECT_FALSE(c->ps);
    EXPECT_EQ(c->object_type, 2);
    EXPECT_EQ(c->sampling_index, 6);
    EXPECT_EQ(c->sample_rate, 24000U);
    EXPECT_EQ(c->output_sample_rate, 48000U);
    EXPECT_EQ(c->codec_string(), "mp4a.40.5");

    c = parse(bits({{29, 5}, {6, 4}, {1, 4}, {3, 4}, {2, 5}, {0, 3}})); // HE-AAC v2 (PS)
    ASSERT_TRUE(c) << c.err().message;
    EXPECT_TRUE(c->ps);
    EXPECT_EQ(c->codec_string(), "mp4a.40.29");

    // ADTS carries HE-AAC as LC at the core rate (implicit SBR signalling).
    std::string h;
    ASSERT_TRUE(write_adts_header(*c, 100, h));
    const auto f = decode_adts(h);
    EXPECT_EQ(f.profile, 1U);
    EXPECT_EQ(f.sfi, 6U);
}

TEST(aac_config, rejects_invalid_configs) {
    const auto fails_with = [](const std::string& bytes, const char* what) {
        const auto c = parse(bytes);
        ASSERT_FALSE(c) << what;
        EXPECT_NE(c.err().message.find(what), std::string::npos) << c.err().message;
    };
    fails_with("", "audioObjectType truncated");
    fails_with(bits({{2, 5}}), "samplingFrequencyIndex truncated");
    fails_with(bits({{2, 5}, {4, 4}}).substr(0, 1), "samplingFrequencyIndex truncated");
    fails_with(bits({{0, 5}, {4, 4}, {2, 4}}), "audioObjectType 0");
    fails_with(bits({{2, 5}, {13, 4}, {2, 4}}), "reserved samplingFrequencyIndex 13");
    fails_with(bits({{2, 5}, {4, 4}, {0, 4}}), "channelConfiguration 0");
    fails_with(bits({{2, 5}, {4, 4}, {8, 4}}), "reserved channelConfiguration 8");
    fails_with(bits({{2, 5}, {15, 4}, {48000, 10}}), "samplingFrequency truncated");
    fails_with(bits({{5, 5}, {6, 4}, {2, 4}, {3, 4}, {5, 5}}), "invalid SBR core");
    fails_with(bits({{31, 5}}), "audioObjectType truncated");
}

TEST(aac_config, sample_rate_table) {
    EXPECT_EQ(sample_rate_hz(0), 96000U);
    EXPECT_EQ(sample_rate_hz(4), 44100U);
    EXPECT_EQ(sample_rate_hz(12), 7350U);
    EXPECT_FALSE(sample_rate_hz(13));
    EXPECT_FALSE(sample_rate_hz(15));
}

TEST(adts, header_fields) {
    audio_specific_config c;
    c.object_type = 2;
    c.sampling_index = 3;
    c.channel_config = 6;
    std::string h = "x";
    ASSERT_TRUE(write_adts_header(c, 1000, h));
    ASSERT_EQ(h.size(), 8U);
    const auto f = decode_adts(h.substr(1));
    EXPECT_EQ(f.sync, 0xFFFU);
    EXPECT_EQ(f.id, 0U);
    EXPECT_EQ(f.layer, 0U);
    EXPECT_EQ(f.protection_absent, 1U);
    EXPECT_EQ(f.profile, 1U); // object type 2 - 1
    EXPECT_EQ(f.sfi, 3U);
    EXPECT_EQ(f.private_bit, 0U);
    EXPECT_EQ(f.channels, 6U);
    EXPECT_EQ(f.original + f.home + f.copyright_bit + f.copyright_start, 0U);
    EXPECT_EQ(f.frame_length, 1007U);
    EXPECT_EQ(f.fullness, 0x7FFU);
    EXPECT_EQ(f.blocks, 0U);
}

TEST(adts, limits) {
    audio_specific_config c;
    std::string out;
    EXPECT_TRUE(write_adts_header(c, max_adts_frame_size - adts_header_size, out));
    EXPECT_EQ(decode_adts(out).frame_length, 8191U);
    out.clear();
    EXPECT_FALSE(write_adts_header(c, max_adts_frame_size - adts_header_size + 1, out));
    EXPECT_TRUE(out.empty());
    c.object_type = 23; // ER AAC LD: no 2-bit ADTS profile for it
    const auto r = write_adts_header(c, 10, out);
    ASSERT_FALSE(r);
    EXPECT_NE(r.err().message.find("audioObjectType 23"), std::string::npos);
    EXPECT_TRUE(out.empty());
    EXPECT_FALSE(append_adts_frame(c, core::as_bytes("abc"), out));
    EXPECT_TRUE(out.empty());
}

// The strongest check: our ADTS stream for audio.flv equals ffmpeg's ADTS muxer output for it.
TEST(adts, matches_ffmpeg_adts_muxer_byte_for_byte) {
    const auto f = testing::load_flv("audio.flv");
    const auto reference = testing::read_file(testing::media_path("audio.adts"));
    ASSERT_FALSE(reference.empty());
    std::optional<audio_specific_config> c;
    std::string ours;
    for (const auto& t : f.tags) {
        if (t.type != tag_type::audio) {
            continue;
        }
        const auto tag = parse_audio_tag(core::as_bytes(t.body));
        ASSERT_TRUE(tag);
        if (tag->packet_type == aac_packet_type::sequence_header) {
            auto parsed = parse_audio_specific_config(tag->body);
            ASSERT_TRUE(parsed);
            c = *parsed;
            continue;
        }
        ASSERT_TRUE(c);
        ASSERT_TRUE(append_adts_frame(*c, tag->body, ours));
    }
    ASSERT_EQ(ours.size(), reference.size());
    EXPECT_TRUE(ours == reference);
}

} // namespace
} // namespace livehouse::codec::flv
