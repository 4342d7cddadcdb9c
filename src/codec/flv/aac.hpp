// AAC helpers for FLV/RTMP ingest: the AudioSpecificConfig (ISO/IEC 14496-3 §1.6.2.1, the body of
// an AAC sequence-header tag) and the 7-byte ADTS header (ISO/IEC 14496-3 §1.A.2.2, Table 1.A.5 /
// ISO/IEC 13818-7 §6.2) that MPEG-TS carriage of AAC (stream_type 0x0F) needs before every raw
// frame.
//
// Limits: only the fields ADTS needs are parsed; channelConfiguration 0 (a program config
// element) and explicit sampling frequencies that have no ADTS index are refused. HE-AAC
// (SBR/PS, object types 5/29) with explicit hierarchical signalling is reduced to its core
// object type, as ADTS carries HE-AAC with implicit SBR signalling.
#pragma once

#include "core/bytes.hpp"
#include "core/result.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace livehouse::codec::flv {

inline constexpr std::size_t adts_header_size = 7;
/// aac_frame_length is 13 bits and includes the header.
inline constexpr std::size_t max_adts_frame_size = 8191;

struct audio_specific_config {
    /// audioObjectType of the core codec (2 = AAC LC). For an HE-AAC config (5 or 29 signalled
    /// explicitly) this is the underlying object type that follows the SBR extension fields.
    std::uint8_t object_type = 2;
    std::uint8_t sampling_index = 4;   ///< samplingFrequencyIndex of the core codec, 0..12
    std::uint32_t sample_rate = 44100; ///< core sampling rate in Hz
    std::uint8_t channel_config = 2;   ///< channelConfiguration, 1..7
    bool sbr = false;                  ///< explicit SBR (object type 5 or 29)
    bool ps = false;                   ///< explicit parametric stereo (object type 29)
    /// Decoder output rate: the SBR extension rate when sbr, else sample_rate.
    std::uint32_t output_sample_rate = 44100;
    /// 1024, or 960 when GASpecificConfig's frameLengthFlag is set. Core samples per frame; the
    /// duration of one frame is samples_per_frame / sample_rate seconds (also with SBR).
    std::uint16_t samples_per_frame = 1024;

    /// RFC 6381 §3.3 codecs parameter, e.g. "mp4a.40.2" (the explicit HE object type if any).
    [[nodiscard]] std::string codec_string() const;
};

/// ISO/IEC 14496-3 Table 1.18: samplingFrequencyIndex -> Hz. nullopt for 13..15.
std::optional<std::uint32_t> sample_rate_hz(std::uint8_t sampling_index);

/// Parses an AudioSpecificConfig (the body of an AAC sequence-header tag); trailing bytes are
/// ignored. Errors: truncation, object type 0, reserved sampling index 13/14, an explicit
/// frequency with no table entry, channelConfiguration 0 (PCE) or 8..15.
core::result<audio_specific_config> parse_audio_specific_config(core::bytes_view asc);

/// Appends the 7-byte ADTS header for a raw AAC frame of `raw_size` bytes: MPEG-4 ID,
/// protection_absent 1 (no CRC), profile = object type - 1, frame length = 7 + raw_size,
/// buffer fullness 0x7FF (VBR), one raw data block. Errors (nothing appended): an object type
/// ADTS cannot signal (profile is 2 bits: only 1..4), or a frame longer than 8191 bytes.
core::result<void> write_adts_header(const audio_specific_config& config, std::size_t raw_size,
                                     std::string& out);

/// Appends the ADTS header and then `raw`: one complete ADTS frame. Errors as
/// write_adts_header; nothing is appended on error.
core::result<void> append_adts_frame(const audio_specific_config& config, core::bytes_view raw,
                                     std::string& out);

} // namespace livehouse::codec::flv
