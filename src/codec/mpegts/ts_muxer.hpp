// MPEG-TS muxer (ISO/IEC 13818-1) for HLS segments: PAT, PMT, PES with PTS/DTS, PCR on the
// video PID (audio PID when audio-only), continuity counters, adaptation-field stuffing.
// Pure: appends 188-byte packets to a caller-owned buffer, never does I/O.
//
// PIDs: PMT 0x1000, video (H.264, stream_type 0x1B) 0x100, audio (AAC ADTS, stream_type 0x0F)
// 0x101. Continuity counters persist across segments (one muxer per publish).
#pragma once

#include <cstdint>
#include <string>

#include "core/bytes.hpp"

namespace livehouse::codec::mpegts {

inline constexpr std::size_t packet_size = 188;
inline constexpr std::uint16_t pmt_pid = 0x1000;
inline constexpr std::uint16_t video_pid = 0x100;
inline constexpr std::uint16_t audio_pid = 0x101;

struct stream_set {
    bool video = false;
    bool audio = false;
};

class ts_muxer {
public:
    explicit ts_muxer(stream_set streams);

    /// Appends PAT and PMT. Call at the start of every segment so each segment decodes alone
    /// (RFC 8216 §3.2: "Each Media Segment MUST ... contain a PAT and a PMT" in practice).
    void write_tables(std::string& out);

    /// Appends one video access unit as a PES. pts/dts in 90 kHz units. `annexb` is a complete
    /// Annex B access unit. A keyframe sets random_access_indicator; PCR is carried on it.
    void write_video(std::int64_t pts, std::int64_t dts, bool keyframe, core::bytes_view annexb,
                     std::string& out);

    /// Appends one audio frame (ADTS header + raw AAC) as a PES with PTS only.
    void write_audio(std::int64_t pts, core::bytes_view adts, std::string& out);

    [[nodiscard]] const stream_set& streams() const { return streams_; }

private:
    void write_pes(std::uint16_t pid, std::uint8_t stream_id, std::int64_t pts, std::int64_t dts,
                   bool with_dts, bool random_access, bool with_pcr, core::bytes_view payload,
                   std::string& out);

    stream_set streams_;
    std::uint8_t cc_pat_ = 0;
    std::uint8_t cc_pmt_ = 0;
    std::uint8_t cc_video_ = 0;
    std::uint8_t cc_audio_ = 0;
};

} // namespace livehouse::codec::mpegts
