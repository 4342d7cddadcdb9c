// The on-disk archive of one broadcast: every closed segment as <data_dir>/vod/<id>/seg-<seq>.ts
// and, when the broadcast ends, the VOD playlist <data_dir>/vod/<id>/index.m3u8
// (EXT-X-PLAYLIST-TYPE:VOD, EXT-X-ENDLIST, EXT-X-DISCONTINUITY where a publish restarted or a
// segment is missing).
//
// Writes run on the task_runner, never on the publisher's thread, and are serialized per
// archive (a queue drained by one task at a time), so the playlist is always written after the
// segments it lists even when the runner is a thread pool. Every file is written to "<name>.tmp"
// and renamed, so a reader (the origin) never sees a partial file. A manifest, segments.log, gets
// one line per segment written; recover() rebuilds the VOD playlist from it after a crash.
// Durability: rename without fsync — survives a process crash, not necessarily a power loss.
//
// Limits and policy: at most max_pending segment writes are queued; past that (a disk slower
// than the stream) a segment is left out of the archive, counted and logged, and the VOD
// playlist marks the gap with EXT-X-DISCONTINUITY. A failed write is logged and counted the
// same way; it never reaches the publisher.
#pragma once

#include "core/result.hpp"
#include "media/broadcast.hpp"

#include <atomic>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace livehouse::media {

inline constexpr std::string_view vod_playlist_name = "index.m3u8";
inline constexpr std::string_view archive_manifest_name = "segments.log";

/// <data_dir>/vod/<id>. Precondition: is_valid_broadcast_id(id).
std::filesystem::path archive_dir(std::string_view data_dir, std::string_view id);

/// One archived segment, as recorded in the manifest.
struct archived_segment {
    std::uint64_t sequence = 0;
    std::int64_t duration_ms = 0;
    bool discontinuity = false;
    std::int64_t program_date_time_ms = 0; ///< Unix epoch milliseconds
};

/// Renders the VOD playlist of `segments` (in sequence order). TARGETDURATION is the largest of
/// `min_target_duration_s` and every rounded duration, so the VOD is valid even if the live
/// playlist's had to be smaller. Segments are numbered from 0; URIs keep the real sequence.
std::string render_vod_playlist(const std::vector<archived_segment>& segments,
                                int min_target_duration_s);

/// Parses a manifest; malformed lines (a line cut short by a crash) are skipped.
std::vector<archived_segment> parse_archive_manifest(std::string_view text);

/// Writes `data` to `path` atomically (temp file + rename). Errors name the path and errno.
core::result<void> write_file_atomic(const std::filesystem::path& path, std::string_view data);
/// The same for a blob; a sealed one is copied inside the kernel (sendfile to the file).
core::result<void> write_file_atomic(const std::filesystem::path& path, const core::blob& data);

class archive : public std::enable_shared_from_this<archive> {
    struct token {};

  public:
    static constexpr std::size_t max_pending = 32;

    /// Null when archiving is off (`data_dir` empty) or `id` is not a safe path component.
    /// A null `io` runs the writes inline.
    static std::shared_ptr<archive> create(std::string_view data_dir, std::string_view id,
                                           task_runner io);
    archive(token, std::filesystem::path dir, task_runner io);

    /// Queues the write of one closed segment. Call in sequence order, from one thread at a time.
    void add(std::shared_ptr<const segment> s);
    /// Queues the write of the VOD playlist over every segment written so far. Call once, after
    /// the last add(). No playlist is written for an archive without segments.
    void finish(int target_duration_s);

    /// After a crash: if <data_dir>/vod/<id> has a manifest but no VOD playlist, writes the
    /// playlist from the manifest (on `io`).
    static void recover(std::string_view data_dir, std::string_view id, task_runner io);

    [[nodiscard]] const std::filesystem::path& dir() const { return dir_; }
    [[nodiscard]] std::uint64_t segments_written() const { return written_count_.load(); }
    /// Segments left out: queue full or write failed.
    [[nodiscard]] std::uint64_t segments_lost() const { return lost_count_.load(); }
    [[nodiscard]] bool playlist_written() const { return playlist_written_.load(); }

  private:
    void enqueue(std::function<void()> job);
    void drain();
    void write_segment(const segment& s);
    void write_playlist(int target_duration_s);

    std::filesystem::path dir_;
    task_runner io_;

    std::mutex mutex_;
    std::deque<std::function<void()>> queue_;
    bool draining_ = false;
    std::size_t pending_segments_ = 0;

    // Touched only by jobs, which run one at a time (the queue mutex orders them).
    bool dir_ready_ = false;
    std::vector<archived_segment> written_;

    std::atomic<std::uint64_t> written_count_{0};
    std::atomic<std::uint64_t> lost_count_{0};
    std::atomic<bool> playlist_written_{false};
};

} // namespace livehouse::media
