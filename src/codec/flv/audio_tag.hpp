// FLV AUDIODATA tag payload parser (FLV spec v10.1 §E.4.2.1). Shared by RTMP ingest (audio
// message, type 8) and the FLV file reader (tag type 8).
//
// Only AAC (SoundFormat 10) is supported; every other format is refused with an "unsupported"
// error. Pure and allocation-free: the result views into the caller's buffer.
#pragma once

#include "core/bytes.hpp"
#include "core/result.hpp"

#include <cstdint>

namespace livehouse::codec::flv {

inline constexpr std::uint8_t sound_format_aac = 10;

/// FLV spec §E.4.2.1 AACPacketType (UI8, present when SoundFormat == 10).
enum class aac_packet_type : std::uint8_t {
    sequence_header = 0, ///< body is an AudioSpecificConfig
    raw = 1,             ///< body is one raw AAC frame (no ADTS header)
};

struct audio_tag {
    std::uint8_t sound_format = sound_format_aac;
    /// SoundRate/SoundSize/SoundType as sent. §E.4.2.1: for AAC "always 3" (44 kHz) and stereo;
    /// decoders must use the AudioSpecificConfig instead, so these are informational only.
    std::uint8_t sound_rate = 3;
    bool sample_16bit = true;
    bool stereo = true;
    aac_packet_type packet_type = aac_packet_type::raw;
    /// The AACAUDIODATA body after the 2-byte header; views into the parsed payload.
    core::bytes_view body;
};

/// Parses the 2-byte AUDIODATA/AACAUDIODATA header of `payload` (the whole tag/message body).
/// The returned body views into `payload`, valid for as long as `payload` is.
/// Errors: empty or 1-byte payload, a SoundFormat other than AAC ("unsupported audio format
/// ..."), AACPacketType > 1.
core::result<audio_tag> parse_audio_tag(core::bytes_view payload);

} // namespace livehouse::codec::flv
