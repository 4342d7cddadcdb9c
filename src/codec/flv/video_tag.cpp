// FLV VIDEODATA parser; see video_tag.hpp.
#include "codec/flv/video_tag.hpp"

#include <string>

namespace livehouse::codec::flv {

namespace {

const char* codec_name(unsigned id) {
    // FLV spec §E.4.3.1 CodecID values, for readable "unsupported" errors.
    switch (id) {
    case 2:
        return "Sorenson H.263";
    case 3:
        return "Screen video";
    case 4:
        return "On2 VP6";
    case 5:
        return "On2 VP6 with alpha";
    case 6:
        return "Screen video v2";
    case 12:
        return "HEVC (non-standard CodecID 12)";
    default:
        return "unknown";
    }
}

} // namespace

core::result<video_tag> parse_video_tag(core::bytes_view payload) {
    core::byte_reader r(payload);
    const auto first = r.u8();
    if (!first) {
        return core::make_error("flv video: empty tag");
    }
    // Enhanced RTMP (v1, 2023) sets the top bit ("IsExHeader") and carries a FourCC instead of
    // CodecID; we do not support HEVC/AV1/VP9 yet, so refuse it explicitly rather than misparse.
    if ((*first & 0x80U) != 0) {
        return core::make_error("flv video: unsupported video codec (Enhanced RTMP extended "
                                "header; only AVC/H.264 is supported)");
    }
    const unsigned frame_type = *first >> 4U;
    const unsigned codec_id = *first & 0x0FU;
    if (frame_type < 1 || frame_type > 5) {
        return core::make_error("flv video: reserved frame type " + std::to_string(frame_type));
    }
    if (codec_id != codec_id_avc) {
        return core::make_error("flv video: unsupported video codec id " +
                                std::to_string(codec_id) + " (" + codec_name(codec_id) +
                                "); only AVC/H.264 (7) is supported");
    }

    // §E.4.3.1: "AVCPacketType IF CodecID == 7 UI8" then "CompositionTime IF CodecID == 7 SI24".
    const auto packet_type = r.u8();
    const auto cts = r.u24();
    if (!packet_type || !cts) {
        return core::make_error("flv video: AVC header truncated (" +
                                std::to_string(payload.size()) + " < 5 bytes)");
    }
    if (*packet_type > 2) {
        return core::make_error("flv video: reserved AVCPacketType " +
                                std::to_string(*packet_type));
    }

    video_tag tag;
    tag.frame_type = static_cast<video_frame_type>(frame_type);
    tag.codec_id = static_cast<std::uint8_t>(codec_id);
    tag.packet_type = static_cast<avc_packet_type>(*packet_type);
    // SI24: sign-extend bit 23.
    tag.composition_time_ms = (*cts & 0x800000U) != 0 ? static_cast<std::int32_t>(*cts) - 0x1000000
                                                      : static_cast<std::int32_t>(*cts);
    tag.body = r.rest();
    return tag;
}

} // namespace livehouse::codec::flv
