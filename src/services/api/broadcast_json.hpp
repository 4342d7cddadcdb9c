// JSON views of a broadcast for the API: the broadcast object and the cheap status document.
//
// Times are RFC 3339 UTC with millisecond precision ("2026-01-01T00:00:00.000Z", RFC 3339 §5.6
// date-time with time-offset "Z"). The stream key is included only when the caller says the
// reader is an admin: it is the publish credential.
#pragma once

#include "media/broadcast.hpp"
#include "services/api/public_urls.hpp"

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace livehouse::services::api {

/// Appends `tp` as an RFC 3339 UTC timestamp with milliseconds to `out`.
void append_rfc3339(std::string& out, std::chrono::system_clock::time_point tp);
[[nodiscard]] std::string format_rfc3339(std::chrono::system_clock::time_point tp);

/// The broadcast object: id, title, status, created_at, started_at, ended_at (string or null),
/// rtmp_url, stream_key (only when include_stream_key), hls_url, vod_url, watch_url, status_url.
[[nodiscard]] nlohmann::json broadcast_json(const media::broadcast_record& record,
                                            const public_urls& urls, bool include_stream_key);

/// EXT-X-MEDIA-SEQUENCE of the snapshot's playlist (RFC 8216 §4.3.3.2), or nullopt when there
/// is no playlist yet. Reads the tag from the playlist text so it is exactly what players see.
[[nodiscard]] std::optional<std::uint64_t> media_sequence(const media::live_snapshot& snapshot);

/// When the snapshot last changed as a reader can tell: the end of its newest segment
/// (program date-time + duration), or nullopt before the first segment.
[[nodiscard]] std::optional<std::chrono::system_clock::time_point>
snapshot_updated_at(const media::live_snapshot& snapshot);

/// The status document, rendered without building a JSON tree:
///   {"id":"<id>","status":"live","media_sequence":12,"target_duration":2,
///    "updated_at":"2026-01-01T00:00:10.000Z"}
/// media_sequence is null before the first playlist. `updated_at`, when given, overrides
/// snapshot_updated_at() (the caller may know a later change, e.g. the end time); null when
/// neither is known.
/// Precondition: `id` is a registry id ([a-z0-9]+), so it needs no JSON escaping.
[[nodiscard]] std::string
render_status(std::string_view id, const media::live_snapshot& snapshot,
              std::optional<std::chrono::system_clock::time_point> updated_at = std::nullopt);

} // namespace livehouse::services::api
