// One elementary-stream access unit handed from ingest to the packager, already in the form the
// MPEG-TS muxer wants: video as an Annex B access unit (AUD, and SPS/PPS before every IDR),
// audio as one ADTS frame. Timestamps are the publisher's RTMP timestamps in milliseconds,
// widened to 64 bits by the chunk reader (extended timestamps, 32-bit wrap).
#pragma once

#include "core/bytes.hpp"

#include <chrono>
#include <cstdint>

namespace livehouse::media {

enum class track { video, audio };

struct frame {
    track kind = track::video;
    std::int64_t dts_ms = 0;
    std::int32_t cts_ms = 0; ///< composition time offset (video only): pts = dts + cts
    bool keyframe = false;   ///< video IDR; always true for audio
    core::shared_bytes payload;
    /// When ingest finished receiving the frame's last byte (real steady time; used only to
    /// measure the ingest-to-playlist delay). Default: unknown.
    std::chrono::steady_clock::time_point received_at{};
};

/// Which elementary streams a publish carries (from onMetaData and the sequence headers).
struct track_set {
    bool video = false;
    bool audio = false;
};

} // namespace livehouse::media
