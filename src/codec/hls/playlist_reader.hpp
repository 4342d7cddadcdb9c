// HLS media playlist reader (RFC 8216 §4): the load tester's viewers (tools/stress) read the
// playlists a server sends, as players do. The inverse of media_playlist.hpp's renderer, for the
// tags a live or VOD media playlist carries; other tags are skipped (§4.1: "Clients SHOULD
// ignore" tags they do not recognize).
//
// Limits (explicit, a refusal beyond): text <= max_bytes, a line <= max_line_bytes, at most
// max_segments segments. Refused: no #EXTM3U first line (§4.3.1.1 "MUST be the first line"),
// a segment URI without #EXTINF before it (§4.3.2.1 "REQUIRED for each Media Segment"), a
// missing or non-numeric EXT-X-TARGETDURATION (§4.3.3.1 REQUIRED), negative or non-finite
// durations. Sans-I/O: text in, a playlist or a message out; never throws.
#pragma once

#include "codec/hls/media_playlist.hpp"
#include "core/result.hpp"

#include <cstddef>
#include <string_view>

namespace livehouse::codec::hls {

struct reader_limits {
    std::size_t max_bytes = 1024 * 1024;
    std::size_t max_line_bytes = 4096;
    std::size_t max_segments = 100000;
};

/// Segments get sequence = EXT-X-MEDIA-SEQUENCE + their index (§4.3.3.2).
core::result<media_playlist> parse_media_playlist(std::string_view text,
                                                  const reader_limits& limits = {});

} // namespace livehouse::codec::hls
