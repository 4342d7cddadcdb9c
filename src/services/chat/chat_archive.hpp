// The chat archive of a broadcast (seed 001: "archived chat as JSON files indexed in the
// database so replays show chat in sync"): when the broadcast ends its whole room log is
// written next to the VOD as <data_dir>/vod/<id>/chat.json and indexed with
// state::records::put_archive (kind "chat"). The replay API reads a window of it by media
// position: GET /api/v1/broadcasts/{id}/chat?from=<s>&to=<s>.
//
// File format (docs/API.md): {"broadcast_id":"...","next_offset":N,"entries":[<log entries
// as stored: messages and deletes, in offset order>]}. Readers apply the deletes.
#pragma once

#include "core/result.hpp"
#include "state/room_log.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace livehouse::services::chat {

/// Largest archive file read back (a log of max_log entries of a few hundred bytes each).
inline constexpr std::size_t max_archive_bytes = 256UL * 1024 * 1024;
/// Most messages one replay window returns (then "truncated": true).
inline constexpr std::size_t max_replay_messages = 2000;

/// The whole log of `key`, oldest first, in pages of state::max_room_log_read; at most `cap`
/// entries (the newest are the ones dropped past the cap: a log that keeps growing while it is
/// read still ends). Completes once, on any thread.
void read_whole_log(state::room_log& log, std::string key, std::size_t cap,
                    std::function<void(core::result<state::log_slice>)> done);

/// The archive file's text.
std::string render_archive(std::string_view broadcast_id, const state::log_slice& log);

/// A message visible in a replay: not deleted, with its position.
struct replay_message {
    std::uint64_t offset = 0;
    double position_s = 0;
    std::string json; ///< the entry as stored
};

/// The messages of `entries` (log entries as stored, in offset order) after applying deletes,
/// whose position is in [from_s, to_s), at most max_replay_messages (`truncated` says if more
/// were there). Entries that do not parse are skipped.
std::vector<replay_message> replay_window(const std::vector<std::string_view>& entries,
                                          double from_s, double to_s, bool* truncated);

/// The entries of an archive file's text. Errors: not an archive.
core::result<std::vector<std::string>> archive_entries(std::string_view file_text);

/// {"broadcast_id":...,"from":...,"to":...,"source":...,"truncated":...,"messages":[...]}
std::string render_replay(std::string_view broadcast_id, double from_s, double to_s,
                          std::string_view source, const std::vector<replay_message>& messages,
                          bool truncated);

} // namespace livehouse::services::chat
