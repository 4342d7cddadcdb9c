// H.264 helpers for FLV/RTMP ingest: the AVCDecoderConfigurationRecord (ISO/IEC 14496-15
// §5.2.4.1, the body of an AVC sequence-header tag) and conversion of one AVCC access unit
// (length-prefixed NAL units, the body of an AVC NALU tag) to Annex B for MPEG-TS.
//
// Limits: at most 32 SPS and 32 PPS per record; every length is checked against the bytes that
// remain. The record owns copies of its parameter sets (parsed once per publish, not per frame);
// the Annex B conversion appends to a caller-owned string and allocates nothing else.
#pragma once

#include "core/bytes.hpp"
#include "core/result.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace livehouse::codec::flv {

/// H.264 nal_unit_type values we act on (ITU-T H.264 Table 7-1).
enum class nal_type : std::uint8_t {
    non_idr_slice = 1,
    idr_slice = 5,
    sei = 6,
    sps = 7,
    pps = 8,
    access_unit_delimiter = 9,
};

inline constexpr std::size_t max_parameter_sets = 32;

struct avc_decoder_config {
    std::uint8_t version = 1;
    std::uint8_t profile = 0;         ///< AVCProfileIndication (profile_idc)
    std::uint8_t compatibility = 0;   ///< profile_compatibility (constraint flags)
    std::uint8_t level = 0;           ///< AVCLevelIndication (level_idc)
    std::uint8_t nal_length_size = 4; ///< lengthSizeMinusOne + 1: 1, 2 or 4
    std::vector<std::string> sps;     ///< raw NAL units (header byte included), no start codes
    std::vector<std::string> pps;
    /// Every SPS then every PPS, each behind a 4-byte start code: what avcc_to_annexb inserts
    /// before an IDR, precomputed so the hot path is a single append.
    std::string annexb_parameter_sets;

    /// RFC 6381 §3.3 codecs parameter, e.g. "avc1.42c01e" (for an HLS master playlist).
    [[nodiscard]] std::string codec_string() const;
};

/// Parses an AVCDecoderConfigurationRecord (the body of an AVC sequence-header tag).
/// Errors: truncation anywhere, configurationVersion != 1, lengthSizeMinusOne == 2 (§5.2.4.1.2:
/// "the value of this field shall be one of 0, 1, or 3"), more than 32 SPS or PPS, an empty
/// parameter set, or one whose nal_unit_type is not 7 (SPS) / 8 (PPS). Trailing bytes (the
/// High-profile chroma/bit-depth extension) are ignored.
core::result<avc_decoder_config> parse_avc_decoder_config(core::bytes_view record);

struct annexb_info {
    std::size_t nal_count = 0;         ///< NAL units in the input AU (zero-length ones skipped)
    bool has_idr = false;              ///< the AU contains an IDR slice: a random access point
    bool added_aud = false;            ///< we prepended an access unit delimiter
    bool added_parameter_sets = false; ///< we inserted the config's SPS+PPS before the IDR
};

/// Converts one AVCC access unit to Annex B, appending to `out` with 4-byte start codes.
/// - ISO/IEC 13818-1 §2.14 (H.264 in TS) wants every AU to begin with an access unit delimiter:
///   if the AU carries none we prepend `00 00 00 01 09 f0` (primary_pic_type 7: any slice).
/// - Before an AU containing an IDR that lacks an SPS or a PPS, the config's SPS and PPS are
///   inserted (after the AUD), so every keyframe, hence every HLS segment, decodes alone.
///   Non-IDR AUs are passed through unchanged apart from the AUD.
/// An AU with no NAL units appends nothing (nal_count == 0). `config` supplies the NAL length
/// size and parameter sets. Errors: a truncated length field or a NAL length that overruns the
/// AU; on error `out` is restored to its size on entry.
core::result<annexb_info> avcc_to_annexb(core::bytes_view au, const avc_decoder_config& config,
                                         std::string& out);

} // namespace livehouse::codec::flv
