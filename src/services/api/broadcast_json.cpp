#include "services/api/broadcast_json.hpp"

#include <charconv>
#include <fmt/format.h>
#include <iterator>

namespace livehouse::services::api {

void append_rfc3339(std::string& out, std::chrono::system_clock::time_point tp) {
    using namespace std::chrono;
    const auto ms = floor<milliseconds>(tp);
    const auto day = floor<days>(ms);
    const year_month_day ymd{day};
    const hh_mm_ss hms{ms - day};
    fmt::format_to(std::back_inserter(out), "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
                   static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                   static_cast<unsigned>(ymd.day()), hms.hours().count(), hms.minutes().count(),
                   hms.seconds().count(), hms.subseconds().count());
}

std::string format_rfc3339(std::chrono::system_clock::time_point tp) {
    std::string s;
    s.reserve(24);
    append_rfc3339(s, tp);
    return s;
}

namespace {

nlohmann::json optional_time(const std::optional<std::chrono::system_clock::time_point>& tp) {
    return tp ? nlohmann::json(format_rfc3339(*tp)) : nlohmann::json(nullptr);
}

} // namespace

nlohmann::json broadcast_json(const media::broadcast_record& record, const public_urls& urls,
                              bool include_stream_key) {
    nlohmann::json j = nlohmann::json::object();
    j["id"] = record.id;
    j["title"] = record.title;
    j["status"] = std::string(media::to_string(record.status));
    j["created_at"] = format_rfc3339(record.created_at);
    j["started_at"] = optional_time(record.started_at);
    j["ended_at"] = optional_time(record.ended_at);
    j["rtmp_url"] = urls.rtmp_url();
    if (include_stream_key) {
        j["stream_key"] = record.stream_key;
    }
    j["hls_url"] = urls.hls_url(record.id);
    j["vod_url"] = urls.vod_url(record.id);
    j["watch_url"] = urls.watch_url(record.id);
    j["status_url"] = urls.status_url(record.id);
    return j;
}

std::optional<std::uint64_t> media_sequence(const media::live_snapshot& snapshot) {
    if (!snapshot.playlist) {
        return std::nullopt;
    }
    // RFC 8216 §4.3.3.2 "#EXT-X-MEDIA-SEQUENCE:<number>"; it sits in the playlist header, before
    // the first segment, so the search stops at the first EXTINF.
    constexpr std::string_view tag = "#EXT-X-MEDIA-SEQUENCE:";
    const std::string_view text = *snapshot.playlist;
    const auto header_end = text.find("#EXTINF");
    const auto pos = text.substr(0, header_end).find(tag);
    if (pos == std::string_view::npos) {
        // §4.3.3.2: "If the Media Playlist file does not contain an EXT-X-MEDIA-SEQUENCE tag,
        // then the Media Sequence Number of the first Media Segment in the Media Playlist
        // SHALL be considered to be 0."
        return 0;
    }
    const char* first = text.data() + pos + tag.size();
    std::uint64_t value = 0;
    const auto [ptr, ec] = std::from_chars(first, text.data() + text.size(), value);
    if (ec != std::errc{} || ptr == first) {
        return std::nullopt;
    }
    return value;
}

std::optional<std::chrono::system_clock::time_point>
snapshot_updated_at(const media::live_snapshot& snapshot) {
    if (snapshot.segments.empty()) {
        return std::nullopt;
    }
    const auto& last = *snapshot.segments.back();
    return last.program_date_time + std::chrono::duration_cast<std::chrono::system_clock::duration>(
                                        std::chrono::duration<double>(last.duration_s));
}

std::string render_status(std::string_view id, const media::live_snapshot& snapshot,
                          std::optional<std::chrono::system_clock::time_point> updated_at) {
    std::string out;
    out.reserve(160); // one allocation: the longest id (64) still fits
    auto it = std::back_inserter(out);
    it = fmt::format_to(it, R"({{"id":"{}","status":"{}","media_sequence":)", id,
                        media::to_string(snapshot.status));
    if (const auto seq = media_sequence(snapshot)) {
        it = fmt::format_to(it, "{}", *seq);
    } else {
        out += "null";
    }
    // position: where updated_at is on the media timeline (the VOD's seconds), so a player can
    // tell the broadcast's time of what it shows (love taps are stamped with it).
    fmt::format_to(std::back_inserter(out),
                   R"(,"target_duration":{},"position":{:.3f},"updated_at":)",
                   snapshot.target_duration_s, snapshot.closed_media_s);
    if (!updated_at) {
        updated_at = snapshot_updated_at(snapshot);
    }
    if (updated_at) {
        out += '"';
        append_rfc3339(out, *updated_at);
        out += '"';
    } else {
        out += "null";
    }
    out += '}';
    return out;
}

} // namespace livehouse::services::api
