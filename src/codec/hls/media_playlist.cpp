// RFC 8216 media playlist rendering. See media_playlist.hpp.
//
// Numbers are formatted with fmt (locale-independent: a server with a German locale must still
// write "2.000", not "2,000"). Durations are rendered from whole milliseconds so that the text,
// rounded_seconds() and the caller's target-duration arithmetic all agree on the same value.
#include "codec/hls/media_playlist.hpp"

#include <cassert>
#include <cmath>
#include <fmt/format.h>
#include <iterator>

namespace livehouse::codec::hls {

namespace {

std::int64_t duration_ms(double duration_s) {
    if (!(duration_s > 0) || !std::isfinite(duration_s)) {
        return 0;
    }
    return std::llround(duration_s * 1000.0);
}

std::string_view type_name(playlist_type t) {
    switch (t) {
    case playlist_type::event:
        return "EVENT";
    case playlist_type::vod:
        return "VOD";
    case playlist_type::live:
        break;
    }
    return {};
}

} // namespace

int rounded_seconds(double duration_s) {
    return static_cast<int>((duration_ms(duration_s) + 500) / 1000);
}

std::string format_program_date_time(std::chrono::system_clock::time_point t) {
    using namespace std::chrono;
    const auto ms = floor<milliseconds>(t);
    const auto day = floor<days>(ms);
    const year_month_day ymd{day};
    const hh_mm_ss<milliseconds> hms{ms - day};
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", static_cast<int>(ymd.year()),
                       static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                       hms.hours().count(), hms.minutes().count(), hms.seconds().count(),
                       hms.subseconds().count());
}

std::string render(const media_playlist& p) {
    assert(p.segments.empty() || p.media_sequence == p.segments.front().sequence);

    std::string out;
    out.reserve(160 + p.segments.size() * 96);
    auto it = std::back_inserter(out);

    // RFC 8216 §4.3.1.1: "The EXTM3U tag indicates that the file is an Extended M3U Playlist
    // file. It MUST be the first line of every Media Playlist". §4.3.1.2: version 3 is what a
    // decimal-floating-point EXTINF needs (§7).
    fmt::format_to(it, "#EXTM3U\n#EXT-X-VERSION:{}\n", p.version);
    // RFC 8216 §4.3.3.1: "The EXT-X-TARGETDURATION tag specifies the maximum Media Segment
    // duration. ... This tag is REQUIRED."
    fmt::format_to(it, "#EXT-X-TARGETDURATION:{}\n", p.target_duration_s);
    // RFC 8216 §4.3.3.2: "The EXT-X-MEDIA-SEQUENCE tag indicates the Media Sequence Number of
    // the first Media Segment that appears in a Playlist file." Always written, even when 0, so
    // a reader never has to know the default.
    fmt::format_to(it, "#EXT-X-MEDIA-SEQUENCE:{}\n", p.media_sequence);
    // RFC 8216 §4.3.3.3: "If the Media Playlist does not contain an EXT-X-DISCONTINUITY-SEQUENCE
    // tag, then the Discontinuity Sequence Number of the first Media Segment in the Playlist
    // SHALL be considered to be 0." It "MUST appear before the first Media Segment".
    if (p.discontinuity_sequence != 0) {
        fmt::format_to(it, "#EXT-X-DISCONTINUITY-SEQUENCE:{}\n", p.discontinuity_sequence);
    }
    // RFC 8216 §4.3.3.5: EXT-X-PLAYLIST-TYPE is EVENT or VOD; a sliding-window live playlist
    // has none.
    if (auto name = type_name(p.type); !name.empty()) {
        fmt::format_to(it, "#EXT-X-PLAYLIST-TYPE:{}\n", name);
    }
    if (p.independent_segments) {
        out += "#EXT-X-INDEPENDENT-SEGMENTS\n";
    }

    [[maybe_unused]] std::uint64_t expected = p.media_sequence;
    for (const auto& s : p.segments) {
        assert(s.sequence == expected++);
        // RFC 8216 §4.3.2.3: "The EXT-X-DISCONTINUITY tag indicates a discontinuity between the
        // Media Segment that follows it and the one that preceded it."
        if (s.discontinuity) {
            out += "#EXT-X-DISCONTINUITY\n";
        }
        // RFC 8216 §4.3.2.6: "The EXT-X-PROGRAM-DATE-TIME tag associates the first sample of a
        // Media Segment with an absolute date and/or time ... SHOULD provide millisecond
        // accuracy."
        if (s.program_date_time) {
            fmt::format_to(it, "#EXT-X-PROGRAM-DATE-TIME:{}\n",
                           format_program_date_time(*s.program_date_time));
        }
        // RFC 8216 §4.3.2.1: "#EXTINF:<duration>,[<title>]" — decimal seconds (version >= 3).
        const auto ms = duration_ms(s.duration_s);
        fmt::format_to(it, "#EXTINF:{}.{:03},\n{}\n", ms / 1000, ms % 1000, s.uri);
    }

    // RFC 8216 §4.3.3.4: "The EXT-X-ENDLIST tag indicates that no more Media Segments will be
    // added to the Media Playlist file."
    if (p.ended) {
        out += "#EXT-X-ENDLIST\n";
    }
    return out;
}

} // namespace livehouse::codec::hls
