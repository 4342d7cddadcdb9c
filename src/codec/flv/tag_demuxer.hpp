// Turns the stream of FLV audio/video tag payloads of one publish (RTMP messages of type 8/9, or
// FLV file tags) into elementary-stream frames ready for the MPEG-TS muxer: H.264 access units
// in Annex B (AUD, SPS/PPS before every IDR) and AAC frames with an ADTS header.
//
// It keeps the last sequence headers (AVCDecoderConfigurationRecord, AudioSpecificConfig) and
// applies them to the coded frames that follow. One demuxer per publish; not thread-safe.
// Limits: those of the parsers it calls (avc.hpp, aac.hpp); it adds no buffering: each call
// returns at most one frame, owning its payload, so the caller can move it into a
// core::shared_bytes without a copy.
#pragma once

#include "codec/flv/aac.hpp"
#include "codec/flv/avc.hpp"
#include "core/bytes.hpp"
#include "core/result.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace livehouse::codec::flv {

enum class es_kind : std::uint8_t { video, audio };

struct es_frame {
    es_kind kind = es_kind::video;
    std::int64_t dts_ms = 0; ///< the timestamp passed in
    std::int32_t cts_ms = 0; ///< video CompositionTime: pts = dts + cts; 0 for audio
    /// Video: the AU contains an IDR slice (a clean random access point; the FLV FrameType is
    /// not trusted for this, as open-GOP encoders mark non-IDR I frames "key"). Audio: true.
    bool keyframe = false;
    std::string payload; ///< Annex B access unit, or one ADTS frame
};

class tag_demuxer {
  public:
    /// Feeds one video tag payload with its timestamp (ms).
    /// Returns a frame for coded video; nullopt for a sequence header (stored), end of sequence,
    /// a command frame or an empty AU. Errors are per tag and leave the demuxer's state as it
    /// was (the caller may drop the tag and carry on, or end the publish): an unsupported codec,
    /// a malformed header or config, coded video before any sequence header, a bad NAL length.
    core::result<std::optional<es_frame>> on_video(std::int64_t dts_ms, core::bytes_view payload);

    /// Feeds one audio tag payload with its timestamp (ms). Returns a frame for a raw AAC frame;
    /// nullopt for a sequence header (stored) or an empty frame. Errors as on_video, plus an
    /// object type or frame size that ADTS cannot carry.
    core::result<std::optional<es_frame>> on_audio(std::int64_t dts_ms, core::bytes_view payload);

    /// The last AVC sequence header accepted, if any.
    [[nodiscard]] const std::optional<avc_decoder_config>& video_config() const {
        return video_config_;
    }
    /// The last AAC sequence header accepted, if any.
    [[nodiscard]] const std::optional<audio_specific_config>& audio_config() const {
        return audio_config_;
    }
    /// Bumped on every accepted sequence header (either track): lets a caller notice a
    /// mid-stream configuration change (e.g. a resolution switch) and start a new segment.
    [[nodiscard]] std::uint32_t config_generation() const { return generation_; }

  private:
    std::optional<avc_decoder_config> video_config_;
    std::optional<audio_specific_config> audio_config_;
    std::uint32_t generation_ = 0;
};

} // namespace livehouse::codec::flv
