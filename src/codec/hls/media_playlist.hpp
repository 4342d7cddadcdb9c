// HLS media playlist renderer (RFC 8216). Pure: a description in, playlist text out, so every
// lifecycle state (live, suspended, republished, ended/VOD) is testable without a server.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace livehouse::codec::hls {

struct segment_entry {
    std::uint64_t sequence = 0;
    double duration_s = 0;  ///< EXTINF, exact; rendered with millisecond precision
    std::string uri;        ///< relative to the playlist, e.g. "seg-42.ts"
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
    bool ended = false; ///< EXT-X-ENDLIST
    std::vector<segment_entry> segments;
};

/// Renders the playlist text. Precondition: segments are in sequence order and contiguous.
std::string render(const media_playlist& playlist);

} // namespace livehouse::codec::hls
