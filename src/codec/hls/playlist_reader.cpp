// HLS media playlist reader (see playlist_reader.hpp).
#include "codec/hls/playlist_reader.hpp"

#include <charconv>
#include <cmath>
#include <fmt/format.h>

namespace livehouse::codec::hls {

namespace {

bool to_uint(std::string_view s, std::uint64_t& out) {
    if (s.empty()) {
        return false;
    }
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc{} && p == s.data() + s.size();
}

bool to_double(std::string_view s, double& out) {
    if (s.empty()) {
        return false;
    }
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc{} && p == s.data() + s.size() && std::isfinite(out) && out >= 0;
}

} // namespace

core::result<media_playlist> parse_media_playlist(std::string_view text,
                                                  const reader_limits& limits) {
    if (text.size() > limits.max_bytes) {
        return core::make_error(
            fmt::format("playlist: {} bytes, more than {}", text.size(), limits.max_bytes));
    }
    media_playlist p;
    p.segments.clear();
    bool first = true;
    bool have_target = false;
    double pending_duration = -1; // the last #EXTINF's duration, -1: none since the last URI
    bool pending_discontinuity = false;
    std::size_t line_no = 0;
    std::size_t pos = 0;
    while (pos <= text.size()) {
        auto end = text.find('\n', pos);
        if (end == std::string_view::npos) {
            end = text.size();
        }
        auto line = text.substr(pos, end - pos);
        pos = end + 1;
        ++line_no;
        if (!line.empty() && line.back() == '\r') {
            line.remove_suffix(1); // §4.1: lines end with LF or CRLF
        }
        if (line.size() > limits.max_line_bytes) {
            return core::make_error(fmt::format("playlist: line {} longer than {} bytes", line_no,
                                                limits.max_line_bytes));
        }
        if (first) {
            if (line != "#EXTM3U") {
                return core::make_error("playlist: the first line is not #EXTM3U");
            }
            first = false;
            continue;
        }
        if (line.empty()) {
            continue;
        }
        if (line.front() != '#') {
            if (pending_duration < 0) {
                return core::make_error(
                    fmt::format("playlist: line {}: a segment URI without #EXTINF", line_no));
            }
            if (p.segments.size() >= limits.max_segments) {
                return core::make_error(
                    fmt::format("playlist: more than {} segments", limits.max_segments));
            }
            segment_entry s;
            s.sequence = p.media_sequence + p.segments.size();
            s.duration_s = pending_duration;
            s.uri = std::string(line);
            s.discontinuity = pending_discontinuity;
            p.segments.push_back(std::move(s));
            pending_duration = -1;
            pending_discontinuity = false;
            continue;
        }
        const auto colon = line.find(':');
        const auto tag = line.substr(0, colon);
        const auto value =
            colon == std::string_view::npos ? std::string_view{} : line.substr(colon + 1);
        std::uint64_t n = 0;
        if (tag == "#EXT-X-TARGETDURATION") {
            if (!to_uint(value, n) || n > 86400) {
                return core::make_error(
                    fmt::format("playlist: line {}: bad EXT-X-TARGETDURATION", line_no));
            }
            p.target_duration_s = static_cast<int>(n);
            have_target = true;
        } else if (tag == "#EXT-X-MEDIA-SEQUENCE") {
            if (!to_uint(value, n) || !p.segments.empty()) {
                return core::make_error(
                    fmt::format("playlist: line {}: bad EXT-X-MEDIA-SEQUENCE", line_no));
            }
            p.media_sequence = n;
        } else if (tag == "#EXT-X-DISCONTINUITY-SEQUENCE") {
            if (!to_uint(value, n)) {
                return core::make_error(
                    fmt::format("playlist: line {}: bad EXT-X-DISCONTINUITY-SEQUENCE", line_no));
            }
            p.discontinuity_sequence = n;
        } else if (tag == "#EXTINF") {
            // §4.3.2.1: #EXTINF:<duration>,[<title>]
            double d = 0;
            if (!to_double(value.substr(0, value.find(',')), d)) {
                return core::make_error(fmt::format("playlist: line {}: bad EXTINF", line_no));
            }
            pending_duration = d;
        } else if (tag == "#EXT-X-DISCONTINUITY") {
            pending_discontinuity = true;
        } else if (tag == "#EXT-X-ENDLIST") {
            p.ended = true;
        } else if (tag == "#EXT-X-PLAYLIST-TYPE") {
            p.type = value == "VOD"     ? playlist_type::vod
                     : value == "EVENT" ? playlist_type::event
                                        : playlist_type::live;
        } else if (tag == "#EXT-X-VERSION") {
            if (to_uint(value, n) && n < 100) {
                p.version = static_cast<int>(n);
            }
        } else if (tag == "#EXT-X-INDEPENDENT-SEGMENTS") {
            p.independent_segments = true;
        }
        // Anything else (#EXT-X-PROGRAM-DATE-TIME, comments): skipped.
    }
    if (first) {
        return core::make_error("playlist: empty");
    }
    if (!have_target) {
        return core::make_error("playlist: no EXT-X-TARGETDURATION");
    }
    return p;
}

} // namespace livehouse::codec::hls
