// FLV VIDEODATA tag payload parser (FLV spec v10.1 §E.4.3.1). The same bytes arrive as the body
// of an RTMP video message (type 9) and of an FLV file tag of type 9, so RTMP ingest and the FLV
// file reader share this parser.
//
// Only AVC (CodecID 7) is supported; every other codec, and the Enhanced-RTMP extended header
// (high bit of the first byte: HEVC/AV1 FourCC), is refused with an "unsupported" error.
// Pure and allocation-free: the result views into the caller's buffer.
#pragma once

#include "core/bytes.hpp"
#include "core/result.hpp"

#include <cstdint>

namespace livehouse::codec::flv {

/// FLV spec §E.4.3.1 FrameType (UB[4]).
enum class video_frame_type : std::uint8_t {
    keyframe = 1,           ///< "key frame (for AVC, a seekable frame)"
    inter = 2,              ///< "inter frame (for AVC, a non-seekable frame)"
    disposable_inter = 3,   ///< H.263 only
    generated_keyframe = 4, ///< server use only
    command = 5,            ///< "video info/command frame": no picture, body is one UI8
};

/// FLV spec §E.4.3.1 AVCPacketType (UI8, present when CodecID == 7).
enum class avc_packet_type : std::uint8_t {
    sequence_header = 0, ///< body is an AVCDecoderConfigurationRecord
    nalu = 1,            ///< body is one access unit of length-prefixed NAL units
    end_of_sequence = 2, ///< body is empty (or ignored)
};

inline constexpr std::uint8_t codec_id_avc = 7;

struct video_tag {
    video_frame_type frame_type = video_frame_type::inter;
    std::uint8_t codec_id = codec_id_avc;
    avc_packet_type packet_type = avc_packet_type::nalu;
    /// CompositionTime (SI24), milliseconds: pts = dts + composition_time_ms. The spec says it
    /// is 0 unless packet_type is nalu; we report what the peer sent.
    std::int32_t composition_time_ms = 0;
    /// The AVCVIDEOPACKET body after the 5-byte header; views into the parsed payload.
    core::bytes_view body;

    [[nodiscard]] bool is_command() const { return frame_type == video_frame_type::command; }
};

/// Parses the 5-byte VIDEODATA/AVCVIDEOPACKET header of `payload` (the whole tag/message body).
/// The returned body views into `payload`, valid for as long as `payload` is.
/// Errors: empty or short header (< 5 bytes), reserved frame type 0 or 6..7, a codec other than
/// AVC or an Enhanced-RTMP extended header ("unsupported video codec ..."), AVCPacketType > 2.
core::result<video_tag> parse_video_tag(core::bytes_view payload);

} // namespace livehouse::codec::flv
