// Frames of one publish -> MPEG-TS segments (codec::mpegts::ts_muxer), cut on keyframes.
//
// Cutting rules (main track = video when the publish has video, else audio):
// - A segment starts on a video keyframe (audio-only: any audio frame) and begins with PAT+PMT,
//   so it decodes alone. Frames before the first video keyframe are dropped (audio included:
//   at most one GOP of it), and so are frames of a track the publish did not declare.
// - It is cut on the first main-track keyframe whose dts - segment start >= target
//   (audio-only: the first audio frame past it). Duration = next segment start - this start;
//   the last segment of a publish ends at its latest frame's dts + one frame interval of that
//   frame's track (the last positive dts delta on the track; 33 ms video / 21 ms audio before
//   any delta is seen).
//
// TARGETDURATION policy. RFC 8216 §4.3.3.1: "The EXTINF duration of each Media Segment in the
// Playlist file, when rounded to the nearest integer, MUST be less than or equal to the target
// duration", and the target duration can never change (§6.2.1 only allows appending, removing
// from the front, incrementing the sequence tags and adding EXT-X-ENDLIST). So:
// 1. TARGETDURATION T = max(ceil(target), round(first segment)) is fixed when the broadcast's
//    first segment closes and handed to every later publish. With OBS / ffmpeg -g defaults
//    (2 s GOPs, 2 s target) segments are exactly 2.000 s and T = 2; a 4 s-GOP encoder gets 4 s
//    segments and T = 4 instead of a playlist that breaks the MUST on every segment.
// 2. The MUST beats the SHOULD of keyframe-aligned cuts (§3: "SHOULD attempt to divide the
//    source media at points that support effective decode"): if no keyframe comes and the
//    track's next frame would push the duration to T + 0.5 s (rounding up past T), the
//    segment is cut at the current frame (of either track) even mid-GOP, and a warning is
//    logged. Such a segment does not start with a keyframe, which is why livehouse never
//    declares EXT-X-INDEPENDENT-SEGMENTS. Durations are measured per track (the main track
//    from the segment start, the other from its own first frame in the segment), so the same
//    rule keeps an A/V publish whose video stalled (camera off, audio still flowing) cutting
//    segments on audio. A cut that lands past the limit anyway (a frame gap longer than the
//    previous interval) is reported as T + 0.499 s: EXTINF under-states it by that gap.
//    Before T is known the same safety cut applies at 5 * ceil(target) (an encoder with no
//    IDRs at all, e.g. x264 intra-refresh, still gets bounded segments).
// 3. A main-track dts that goes backwards or jumps forward by more than 2 s is a timestamp
//    discontinuity: the segment is cut there (ending at its last frame + one interval) and
//    the next one is flagged `discontinuity` (-> EXT-X-DISCONTINUITY), even mid-GOP. A jump on
//    the other track only restarts that track's duration clock.
// Known limit: if the very first segment is cut short (rule 3, or the publish ends early), T
//    falls back to ceil(target) and a longer-GOP stream later gets mid-GOP cuts (rule 2).
//
// Timestamps: 90 kHz = ms * 90 (dts), pts = (dts + cts) * 90; the muxer wraps at 33 bits.
// Memory: a segment is capped at max_segment_bytes: a main-track frame that would pass it cuts
// the segment (rule 2 path), any other frame that would is dropped.
// Not thread-safe: one segmenter per publish, driven by the publishing session.
#pragma once

#include "codec/mpegts/ts_muxer.hpp"
#include "core/blob.hpp"
#include "core/bytes.hpp"
#include "media/frame.hpp"

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace livehouse::media {

/// A segment the segmenter just closed.
struct cut_segment {
    core::shared_blob data; ///< the whole MPEG-TS segment (PAT, PMT, PES), sealed (core/blob)
    std::int64_t start_dts_ms = 0; ///< dts of its first main-track frame
    std::int64_t duration_ms = 0;  ///< rendered as EXTINF; rounds to <= the target duration
    bool discontinuity = false;    ///< a timestamp discontinuity precedes it (rule 3)
    bool starts_with_keyframe = true;
};

struct segmenter_config {
    std::chrono::milliseconds target{2000};
    /// TARGETDURATION already fixed by an earlier publish of the same broadcast, if any.
    std::optional<int> target_duration_s;
    std::size_t max_segment_bytes = 64U << 20U;
    std::string log_name = "segmenter"; ///< context for log lines, e.g. "broadcast abc123"
};

class segmenter {
  public:
    /// Jump larger than this between two main-track frames is a timestamp discontinuity.
    static constexpr std::int64_t max_frame_gap_ms = 2000;
    /// Before TARGETDURATION is known, a segment is force-cut at this many target durations.
    static constexpr int first_segment_cap_factor = 5;

    segmenter(track_set tracks, segmenter_config config);

    /// Adds one frame. Returns the segment this frame closed, if any (the frame itself then
    /// starts the next segment). Never fails: frames that cannot be used are dropped and
    /// counted (dropped_frames()). `f.payload` is read, not retained.
    std::optional<cut_segment> push(const frame& f);

    /// Closes the open segment at the end of the publish. Returns nothing if none is open.
    std::optional<cut_segment> flush();

    [[nodiscard]] bool has_open_segment() const { return open_; }
    /// Fixed at the first cut (see the policy above); nullopt before it.
    [[nodiscard]] std::optional<int> target_duration_s() const { return target_duration_s_; }
    [[nodiscard]] std::uint64_t dropped_frames() const { return dropped_frames_; }
    [[nodiscard]] std::uint64_t forced_cuts() const { return forced_cuts_; }

  private:
    [[nodiscard]] std::int64_t limit_ms() const;
    [[nodiscard]] std::int64_t open_duration_ms() const;
    void open(const frame& f, bool discontinuity);
    cut_segment close(std::int64_t duration_ms);
    void write(const frame& f);

    track_set tracks_;
    track main_track_;
    segmenter_config config_;
    codec::mpegts::ts_muxer muxer_;
    std::optional<int> target_duration_s_;

    bool open_ = false;
    std::string buffer_;
    std::size_t last_segment_size_ = 0;
    std::int64_t start_dts_ms_ = 0;
    // Per track, indexed by static_cast<std::size_t>(track).
    std::array<bool, 2> seen_{};                      ///< a frame of the track came this publish
    std::array<std::int64_t, 2> last_dts_ms_{};       ///< its last dts
    std::array<std::int64_t, 2> interval_ms_{33, 21}; ///< its last positive dts delta
    std::array<bool, 2> in_segment_{};                ///< the open segment holds a frame of it
    std::array<std::int64_t, 2> seg_first_dts_ms_{};  ///< first dts in the open segment
    bool open_discontinuity_ = false;
    bool open_keyframe_ = true;

    std::uint64_t dropped_frames_ = 0;
    std::uint64_t forced_cuts_ = 0;
};

} // namespace livehouse::media
