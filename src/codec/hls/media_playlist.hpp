// HLS media playlist renderer (RFC 8216). Pure: a description in, playlist text out, so every
// lifecycle state (live, suspended, republished, ended/VOD) is testable without a server.
//
// The renderer writes what it is given; the rules about how a live playlist may change between
// renders (RFC 8216 §6.2.1/§6.2.2: fixed target duration, growing sequence numbers, the
// three-target-duration minimum) belong to the caller (media::live_window), which owns the
// history. Limits: none of its own; the output is O(segments).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace livehouse::codec::hls {

struct segment_entry {
    std::uint64_t sequence = 0;
    double duration_s = 0;      ///< EXTINF, exact; rendered with millisecond precision
    std::string uri;            ///< relative to the playlist, e.g. "seg-42.ts"
    bool discontinuity = false; ///< EXT-X-DISCONTINUITY before this segment
    std::optional<std::chrono::system_clock::time_point> program_date_time;
};

enum class playlist_type { live, event, vod };

struct media_playlist {
    int version = 3;
    /// EXT-X-TARGETDURATION in whole seconds. RFC 8216 §4.3.3.1: "The EXTINF duration of each
    /// Media Segment in the Playlist file, when rounded to the nearest integer, MUST be less
    /// than or equal to the target duration" and §6.2.1 it MUST NOT change.
    int target_duration_s = 2;
    std::uint64_t media_sequence = 0;         ///< sequence of segments.front()
    std::uint64_t discontinuity_sequence = 0; ///< EXT-X-DISCONTINUITY-SEQUENCE (omitted when 0)
    playlist_type type = playlist_type::live;
    /// EXT-X-INDEPENDENT-SEGMENTS (RFC 8216 §4.3.5.1): every segment starts with a keyframe.
    bool independent_segments = false;
    bool ended = false; ///< EXT-X-ENDLIST
    std::vector<segment_entry> segments;
};

/// Renders the playlist text (LF line endings, trailing LF).
/// Preconditions: segments are in sequence order and contiguous, and media_sequence equals
/// segments.front().sequence when there are segments (checked with assert in debug builds);
/// durations are finite (a negative one is rendered as 0).
std::string render(const media_playlist& playlist);

/// Formats a PROGRAM-DATE-TIME value (RFC 8216 §4.3.2.6, ISO 8601 / RFC 3339) in UTC with
/// millisecond precision, e.g. "2026-01-01T00:00:02.000Z".
std::string format_program_date_time(std::chrono::system_clock::time_point t);

/// Media-playlist duration rounding used by RFC 8216 §4.3.3.1 ("rounded to the nearest
/// integer"), on the value as rendered (3 decimals): ties round up, as Apple's validator does.
int rounded_seconds(double duration_s);

} // namespace livehouse::codec::hls
