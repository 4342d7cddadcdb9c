// AVCDecoderConfigurationRecord parsing and AVCC -> Annex B conversion: the sample file's
// sequence header and every access unit, plus hand-made records/AUs for each rule and limit.
#include "codec/flv/avc.hpp"
#include "codec/flv/video_tag.hpp"
#include "sample_media.hpp"

#include <gtest/gtest.h>

namespace livehouse::codec::flv {
namespace {

const std::string sc("\0\0\0\1", 4);
const std::string aud = sc + "\x09\xF0";

/// NAL unit types of an Annex B stream that uses 4-byte start codes only.
std::vector<unsigned> annexb_types(const std::string& s) {
    std::vector<unsigned> types;
    std::size_t pos = 0;
    while ((pos = s.find(sc, pos)) != std::string::npos) {
        pos += sc.size();
        if (pos < s.size()) {
            types.push_back(static_cast<unsigned char>(s[pos]) & 0x1FU);
        }
    }
    return types;
}

std::string avcc(std::initializer_list<std::string> nals, std::size_t length_size = 4) {
    std::string out;
    for (const auto& n : nals) {
        for (std::size_t i = length_size; i-- > 0;) {
            out.push_back(static_cast<char>((n.size() >> (8 * i)) & 0xFF));
        }
        out += n;
    }
    return out;
}

const std::string sps_nal("\x67\x42\xC0\x1E\xAB", 5);
const std::string pps_nal("\x68\xCE\x3C\x80", 4);
const std::string idr_nal("\x65\x88\x84\x00", 4);
const std::string slice_nal("\x41\x9A\x02", 3);
const std::string sei_nal("\x06\x05\x01\x80", 4);

std::string record(std::uint8_t length_byte = 0xFF, std::uint8_t version = 1) {
    std::string r;
    core::byte_writer w(r);
    w.u8(version);
    w.u8(0x42);
    w.u8(0xC0);
    w.u8(0x1E);
    w.u8(length_byte);
    w.u8(0xE1); // 1 SPS
    w.u16(static_cast<std::uint16_t>(sps_nal.size()));
    w.bytes(sps_nal);
    w.u8(1); // 1 PPS
    w.u16(static_cast<std::uint16_t>(pps_nal.size()));
    w.bytes(pps_nal);
    return r;
}

avc_decoder_config config(std::uint8_t length_byte = 0xFF) {
    auto c = parse_avc_decoder_config(core::as_bytes(record(length_byte)));
    EXPECT_TRUE(c) << c.err().message;
    return c ? *c : avc_decoder_config{};
}

TEST(avc_config, sample_file_sequence_header) {
    const auto f = testing::load_flv("video.flv");
    const auto it = std::find_if(f.tags.begin(), f.tags.end(),
                                 [](const auto& t) { return t.type == tag_type::video; });
    ASSERT_NE(it, f.tags.end());
    const auto tag = parse_video_tag(core::as_bytes(it->body));
    ASSERT_TRUE(tag);
    ASSERT_EQ(tag->packet_type, avc_packet_type::sequence_header);
    const auto c = parse_avc_decoder_config(tag->body);
    ASSERT_TRUE(c) << c.err().message;
    EXPECT_EQ(c->version, 1);
    EXPECT_EQ(c->profile, 66);         // ffprobe: Constrained Baseline
    EXPECT_EQ(c->compatibility, 0xC0); // constraint_set0+1
    EXPECT_EQ(c->level, 13);           // ffprobe: level 13
    EXPECT_EQ(c->nal_length_size, 4);
    ASSERT_EQ(c->sps.size(), 1U);
    ASSERT_EQ(c->pps.size(), 1U);
    EXPECT_EQ(c->sps[0][0] & 0x1F, 7);
    EXPECT_EQ(c->pps[0][0] & 0x1F, 8);
    EXPECT_EQ(c->codec_string(), "avc1.42c00d");
    EXPECT_EQ(c->annexb_parameter_sets, sc + c->sps[0] + sc + c->pps[0]);
}

TEST(avc_config, hand_made_record) {
    const auto c = config(0xFD); // lengthSizeMinusOne 1 -> 2-byte lengths
    EXPECT_EQ(c.nal_length_size, 2);
    EXPECT_EQ(c.sps, std::vector<std::string>{sps_nal});
    EXPECT_EQ(c.pps, std::vector<std::string>{pps_nal});
    EXPECT_EQ(c.codec_string(), "avc1.42c01e");
    EXPECT_EQ(config(0x00).nal_length_size, 1); // reserved bits not enforced
}

TEST(avc_config, every_truncation_fails) {
    const auto r = record();
    for (std::size_t n = 0; n < r.size(); ++n) {
        const auto c = parse_avc_decoder_config(core::as_bytes(r).first(n));
        EXPECT_FALSE(c) << "prefix " << n;
    }
    // Trailing bytes (High-profile extension fields) are ignored.
    EXPECT_TRUE(parse_avc_decoder_config(core::as_bytes(r + "\xFD\xF8\xF8\x00")));
}

TEST(avc_config, rejects_invalid_records) {
    const auto fails_with = [](const std::string& bytes, const char* what) {
        const auto c = parse_avc_decoder_config(core::as_bytes(bytes));
        ASSERT_FALSE(c) << what;
        EXPECT_NE(c.err().message.find(what), std::string::npos) << c.err().message;
    };
    fails_with(record(0xFF, 0), "configurationVersion 0");
    fails_with(record(0xFE), "lengthSizeMinusOne 2");

    std::string wrong_type = record();
    wrong_type[8] = 0x68; // the SPS slot holds a PPS
    fails_with(wrong_type, "SPS has nal_unit_type 8");

    std::string empty_sps = record();
    empty_sps[6] = 0;
    empty_sps[7] = 0;
    fails_with(empty_sps, "empty SPS");

    std::string overrun = record();
    overrun[7] = 0x7F;
    fails_with(overrun, "overruns");

    // 33 PPS: over the limit of 32, checked before reading any of them.
    std::string many;
    core::byte_writer w(many);
    w.bytes(std::string("\x01\x42\xC0\x1E\xFF\xE0", 6)); // no SPS
    w.u8(33);
    for (int i = 0; i < 33; ++i) {
        w.u16(static_cast<std::uint16_t>(pps_nal.size()));
        w.bytes(pps_nal);
    }
    fails_with(many, "33 PPS > limit 32");
}

TEST(annexb, idr_gets_aud_and_parameter_sets) {
    const auto c = config();
    std::string out = "prefix";
    const auto info = avcc_to_annexb(core::as_bytes(avcc({sei_nal, idr_nal})), c, out);
    ASSERT_TRUE(info) << info.err().message;
    EXPECT_EQ(out, "prefix" + aud + sc + sps_nal + sc + pps_nal + sc + sei_nal + sc + idr_nal);
    EXPECT_EQ(info->nal_count, 2U);
    EXPECT_TRUE(info->has_idr);
    EXPECT_TRUE(info->added_aud);
    EXPECT_TRUE(info->added_parameter_sets);
}

TEST(annexb, non_idr_only_gets_aud) {
    const auto c = config();
    std::string out;
    const auto info = avcc_to_annexb(core::as_bytes(avcc({slice_nal})), c, out);
    ASSERT_TRUE(info);
    EXPECT_EQ(out, aud + sc + slice_nal);
    EXPECT_FALSE(info->has_idr);
    EXPECT_FALSE(info->added_parameter_sets);
}

TEST(annexb, keeps_existing_aud_and_in_band_parameter_sets) {
    const auto c = config();
    const std::string own_aud("\x09\x10", 2);
    std::string out;
    // AUD present: not duplicated, parameter sets go after it.
    auto info = avcc_to_annexb(core::as_bytes(avcc({own_aud, idr_nal})), c, out);
    ASSERT_TRUE(info);
    EXPECT_EQ(out, sc + own_aud + sc + sps_nal + sc + pps_nal + sc + idr_nal);
    EXPECT_FALSE(info->added_aud);
    EXPECT_TRUE(info->added_parameter_sets);

    // SPS and PPS in band: nothing inserted.
    out.clear();
    info = avcc_to_annexb(core::as_bytes(avcc({sps_nal, pps_nal, idr_nal})), c, out);
    ASSERT_TRUE(info);
    EXPECT_EQ(out, aud + sc + sps_nal + sc + pps_nal + sc + idr_nal);
    EXPECT_FALSE(info->added_parameter_sets);

    // Only an SPS in band: the config's pair is inserted so the PPS is there too.
    out.clear();
    info = avcc_to_annexb(core::as_bytes(avcc({sps_nal, idr_nal})), c, out);
    ASSERT_TRUE(info);
    EXPECT_TRUE(info->added_parameter_sets);
    EXPECT_EQ(annexb_types(out), (std::vector<unsigned>{9, 7, 8, 7, 5}));
}

TEST(annexb, other_length_sizes_and_zero_length_nals) {
    for (const std::uint8_t length_byte : {0xFC, 0xFD}) { // 1- and 2-byte lengths
        const auto c = config(length_byte);
        std::string out;
        const auto au = avcc({slice_nal, "", slice_nal}, c.nal_length_size);
        const auto info = avcc_to_annexb(core::as_bytes(au), c, out);
        ASSERT_TRUE(info) << info.err().message;
        EXPECT_EQ(info->nal_count, 2U); // the empty one is skipped
        EXPECT_EQ(out, aud + sc + slice_nal + sc + slice_nal);
    }
}

TEST(annexb, empty_access_unit_appends_nothing) {
    std::string out = "x";
    const auto info = avcc_to_annexb({}, config(), out);
    ASSERT_TRUE(info);
    EXPECT_EQ(info->nal_count, 0U);
    EXPECT_EQ(out, "x");
}

TEST(annexb, rejects_overruns_and_leaves_output_untouched) {
    const auto c = config();
    const auto au = avcc({slice_nal, idr_nal});
    // Every truncation of a valid AU is an error (length field cut, or NAL cut short).
    for (std::size_t n = 1; n < au.size(); ++n) {
        if (n == 4 + slice_nal.size()) {
            continue; // exactly the first NAL: a valid AU
        }
        std::string out = "keep";
        const auto info = avcc_to_annexb(core::as_bytes(au).first(n), c, out);
        ASSERT_FALSE(info) << "prefix " << n;
        EXPECT_EQ(out, "keep");
    }
    std::string huge("\xFF\xFF\xFF\xFF\x65", 5);
    std::string out;
    const auto info = avcc_to_annexb(core::as_bytes(huge), c, out);
    ASSERT_FALSE(info);
    EXPECT_NE(info.err().message.find("overruns"), std::string::npos);
    EXPECT_TRUE(out.empty());
}

TEST(annexb, sample_file_access_units) {
    const auto f = testing::load_flv("video.flv");
    std::optional<avc_decoder_config> c;
    std::size_t idr_count = 0;
    std::size_t frames = 0;
    for (const auto& t : f.tags) {
        if (t.type != tag_type::video) {
            continue;
        }
        const auto tag = parse_video_tag(core::as_bytes(t.body));
        ASSERT_TRUE(tag);
        if (tag->packet_type == avc_packet_type::sequence_header) {
            auto parsed = parse_avc_decoder_config(tag->body);
            ASSERT_TRUE(parsed);
            c = std::move(*parsed);
            continue;
        }
        if (tag->packet_type == avc_packet_type::end_of_sequence) {
            continue; // ffmpeg ends the file with one
        }
        ASSERT_TRUE(c);
        std::string out;
        const auto info = avcc_to_annexb(tag->body, *c, out);
        ASSERT_TRUE(info) << info.err().message;
        ++frames;
        const auto types = annexb_types(out);
        ASSERT_FALSE(types.empty());
        EXPECT_EQ(types.front(), 9U) << "AUD first";
        EXPECT_EQ(std::count(types.begin(), types.end(), 9U), 1);
        // The AU's NAL bytes all survive: output = AUD + [SPS+PPS] + 4 bytes per NAL + body.
        EXPECT_EQ(out.size(),
                  (info->added_aud ? 6U : 0U) +
                      (info->added_parameter_sets ? c->annexb_parameter_sets.size() : 0U) +
                      tag->body.size());
        const bool idr = std::count(types.begin(), types.end(), 5U) > 0;
        EXPECT_EQ(idr, info->has_idr);
        EXPECT_EQ(idr, tag->frame_type == video_frame_type::keyframe);
        if (idr) {
            ++idr_count;
            // x264 sends SPS/PPS only in the record: they must now precede the IDR, once.
            EXPECT_EQ(std::count(types.begin(), types.end(), 7U), 1);
            EXPECT_EQ(std::count(types.begin(), types.end(), 8U), 1);
            EXPECT_EQ(types[1], 7U);
            EXPECT_EQ(types[2], 8U);
            EXPECT_NE(out.find(c->annexb_parameter_sets), std::string::npos);
        } else {
            EXPECT_EQ(std::count(types.begin(), types.end(), 7U), 0);
            EXPECT_EQ(std::count(types.begin(), types.end(), 8U), 0);
        }
    }
    EXPECT_EQ(frames, 50U);
    EXPECT_EQ(idr_count, 2U);
}

} // namespace
} // namespace livehouse::codec::flv
