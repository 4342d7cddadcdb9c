// MPEG-TS muxer (ISO/IEC 13818-1) for HLS segments: PAT, PMT, PES with PTS/DTS, PCR on the
// video PID (audio PID when audio-only), continuity counters, adaptation-field stuffing.
// Pure: appends 188-byte packets to a caller-owned buffer, never does I/O.
//
// PIDs: PMT 0x1000, video (H.264, stream_type 0x1B) 0x100, audio (AAC ADTS, stream_type 0x0F)
// 0x101. Continuity counters persist across segments (one muxer per publish).
//
// PCR: base = the DTS of the PES it starts (no extra offset: the muxer takes the caller's
// timestamps as decode times; a caller that wants T-STD buffering headroom shifts PTS/DTS).
// It is carried on the first packet of every video keyframe, of the first PES after
// write_tables(), and otherwise at least every pcr_interval_90k of DTS (ISO/IEC 13818-1
// §2.7.2: the PCR interval "shall not exceed 0.1 s"). When audio-only, the audio PID carries it.
//
// Performance: each call grows the output once (geometrically) and fills 188-byte packets in
// place: no per-packet allocation, one copy of the payload.
#pragma once

#include "core/bytes.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

namespace livehouse::codec::mpegts {

inline constexpr std::size_t packet_size = 188;
inline constexpr std::uint16_t pmt_pid = 0x1000;
inline constexpr std::uint16_t video_pid = 0x100;
inline constexpr std::uint16_t audio_pid = 0x101;
inline constexpr std::uint8_t stream_type_h264 = 0x1B;
inline constexpr std::uint8_t stream_type_aac_adts = 0x0F;
/// Longest DTS gap between PCRs on the PCR PID: 40 ms, so 25-30 fps video or AAC at any rate
/// stays well inside the 100 ms bound.
inline constexpr std::int64_t pcr_interval_90k = 3600;
/// Timestamps are 33-bit counters of a 90 kHz clock; values written are taken modulo 2^33.
inline constexpr std::int64_t timestamp_mask = (std::int64_t{1} << 33) - 1;

struct stream_set {
    bool video = false;
    bool audio = false;
};

/// One muxer per publish; not thread-safe (it owns the continuity counters and PCR schedule).
class ts_muxer {
  public:
    explicit ts_muxer(stream_set streams);

    /// Appends PAT and PMT (one packet each) and makes the next PES on the PCR PID carry a PCR.
    /// Call at the start of every segment so each segment decodes alone (RFC 8216 §3.2: a TS
    /// segment holds a single program and should start with a PAT and a PMT, absent EXT-X-MAP).
    void write_tables(std::string& out);

    /// Appends one video access unit as a PES. pts/dts in 90 kHz units. `annexb` is a complete
    /// Annex B access unit. A keyframe sets random_access_indicator; PCR is carried on it.
    /// DTS is written only when it differs from PTS. PES_packet_length is 0 when the PES is
    /// longer than 65535 bytes (allowed for video only, §2.4.3.7). Precondition: streams().video
    /// (otherwise the PID is missing from the PMT and demuxers ignore it). `annexb` is copied;
    /// it need not outlive the call.
    void write_video(std::int64_t pts, std::int64_t dts, bool keyframe, core::bytes_view annexb,
                     std::string& out);

    /// Appends one audio frame (ADTS header + raw AAC) as a PES with PTS only. When the muxer
    /// has no video, audio carries the PCR and marks random_access_indicator with it.
    /// Precondition: streams().audio.
    void write_audio(std::int64_t pts, core::bytes_view adts, std::string& out);

    [[nodiscard]] const stream_set& streams() const { return streams_; }
    /// The PID that carries the PCR: video if present, else audio, else 0x1FFF (none).
    [[nodiscard]] std::uint16_t pcr_pid() const;

  private:
    void write_pes(std::uint16_t pid, std::uint8_t stream_id, std::int64_t pts, std::int64_t dts,
                   bool with_dts, bool random_access, bool with_pcr, core::bytes_view payload,
                   std::string& out);
    bool take_pcr(std::int64_t dts, bool force);
    std::uint8_t& cc_for(std::uint16_t pid);

    stream_set streams_;
    std::uint8_t cc_pat_ = 0;
    std::uint8_t cc_pmt_ = 0;
    std::uint8_t cc_video_ = 0;
    std::uint8_t cc_audio_ = 0;
    std::int64_t last_pcr_ = 0; ///< DTS (unmasked) of the last PCR written
    bool pcr_due_ = true;       ///< next PES on the PCR PID carries a PCR
};

} // namespace livehouse::codec::mpegts
