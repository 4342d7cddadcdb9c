// One broadcast: its record, its lifecycle (idle -> live -> suspended -> live | ended) and its
// packager (segmenter + live window + archive).
//
// Threading: publisher-side calls (begin_publish, on_frame, end_publish) come from the one
// ingest session that holds the publish, on that session's thread; they take an internal mutex.
// Readers (origin, api) call snapshot() from any thread: it is an atomic load of an immutable
// snapshot (std::atomic_load of a shared_ptr), swapped the moment a segment closes or the status
// changes, so reading never waits on the packager.
//
// Segments: the live playlist and snapshot() name them seg-<sequence>.ts (media::segment_uri);
// the archive writes the same names under <data_dir>/vod/<id>/ plus index.m3u8 once ended. A
// segment that left the live playlist stays in snapshot()->segments for its duration + the
// playlist's duration (RFC 8216 §6.2.2) and is then only on disk; after the broadcast ends the
// ENDLIST playlist stays in the snapshot but its segments leave memory the same way, so an
// origin should fall back to the archive file when find() returns null.
// TARGETDURATION is fixed at the first segment (policy in media/segmenter.hpp).
#pragma once

#include "core/blob.hpp"
#include "core/bytes.hpp"
#include "core/clock.hpp"
#include "core/metrics.hpp"
#include "core/result.hpp"
#include "media/frame.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace livehouse::media {

enum class broadcast_status { idle, live, suspended, ended };

std::string_view to_string(broadcast_status s);
std::optional<broadcast_status> parse_broadcast_status(std::string_view s);

/// The persisted part of a broadcast.
struct broadcast_record {
    std::string id;
    std::string title;
    std::string stream_key;
    broadcast_status status = broadcast_status::idle;
    std::chrono::system_clock::time_point created_at{};
    std::optional<std::chrono::system_clock::time_point> started_at;
    std::optional<std::chrono::system_clock::time_point> ended_at;
};

/// A closed segment: immutable, shared by every viewer and by the archive writer.
struct segment {
    std::uint64_t sequence = 0;
    double duration_s = 0;
    bool discontinuity = false;
    std::chrono::system_clock::time_point program_date_time{};
    core::shared_blob data; ///< the whole MPEG-TS segment (sealed: viewers get it by sendfile)
    std::string etag;       ///< quoted, e.g. "\"b1-42\""
};

/// "seg-<sequence>.ts": a segment's URI in the live and VOD playlists (relative to them) and
/// its file name in the archive.
std::string segment_uri(std::uint64_t sequence);

/// What readers see. Immutable; replaced as a whole.
struct live_snapshot {
    broadcast_status status = broadcast_status::idle;
    core::shared_bytes playlist; ///< live media playlist text; null until the first segment
    std::string playlist_etag;   ///< quoted; changes whenever the playlist text changes
    int target_duration_s = 2;
    /// Segments in the playlist plus those that left it less than (their duration + the
    /// playlist's duration) ago (RFC 8216 §6.2.2), oldest first.
    std::vector<std::shared_ptr<const segment>> segments;

    /// The broadcast's media timeline, which is the VOD's: seconds of every segment closed so
    /// far (all of them, not only the window), and when the last one closed (clock::now()).
    /// Chat stamps each message with the position a viewer at the live edge is at, so a replay
    /// shows it at the same moment of the VOD.
    double closed_media_s = 0;
    std::chrono::steady_clock::time_point closed_at{};

    [[nodiscard]] std::shared_ptr<const segment> find(std::uint64_t sequence) const;
    /// The live edge's position on the media timeline at `now`: closed_media_s, plus the time
    /// since the last close while live (the open segment grows in real time), capped at three
    /// target durations so a stalled publisher cannot run the position ahead.
    [[nodiscard]] double position_s(std::chrono::steady_clock::time_point now) const;
};

struct packager_config {
    /// Segments are cut on the first keyframe past this.
    std::chrono::milliseconds target_segment{2000};
    /// Segments in the live playlist (more while fewer would not cover 3 target durations).
    int window_segments = 6;
    /// suspended -> ended.
    std::chrono::seconds grace_period{30};
    /// Archive under <data_dir>/vod/<id>/; empty: no archive.
    std::string data_dir;
    /// Optional instruments (owned by the metrics registry, which outlives every broadcast).
    core::counter* segments_produced = nullptr;
    core::counter* segment_bytes = nullptr;
    /// Seconds from the arrival of the frame that closed a segment (frame::received_at) to the
    /// new playlist being visible to readers: the ingest-to-playlist delay.
    core::histogram* playlist_delay = nullptr;
};

/// Runs a blocking task (archive file writes) off the event loops. Tests run it inline.
using task_runner = std::function<void(std::function<void()>)>;

/// Called with the new record after every status change of one broadcast.
using status_observer = std::function<void(const broadcast_record&)>;

class broadcast {
  public:
    /// `record.status` is the starting state: idle or ended as given; live or suspended (no
    /// publisher can be attached yet) start as suspended, so the grace period ends them.
    /// `on_status` is called after every status change, outside the packager's lock but in
    /// status-change order (calls are serialized per broadcast); it may read record() and
    /// snapshot() but must not call begin_publish/end_publish/end/tick (self-deadlock), and
    /// should be quick (it runs on the thread that caused the change). `io` null: inline.
    broadcast(broadcast_record record, const packager_config& config, const core::clock& clock,
              task_runner io, status_observer on_status = {});
    ~broadcast();
    broadcast(const broadcast&) = delete;
    broadcast& operator=(const broadcast&) = delete;

    [[nodiscard]] const std::string& id() const { return id_; }
    /// The publisher's secret; never changes (lock-free, unlike record()).
    [[nodiscard]] const std::string& stream_key() const { return stream_key_; }
    [[nodiscard]] broadcast_record record() const;
    [[nodiscard]] std::shared_ptr<const live_snapshot> snapshot() const;

    /// Starts (or resumes, after suspended) a publish. Errors: already live (a second
    /// publisher), or ended. A resume continues the same playlist with EXT-X-DISCONTINUITY.
    core::result<void> begin_publish(track_set tracks);
    /// One frame of the current publish. Closes a segment on the first keyframe at or past the
    /// target duration (audio-only: on the first audio frame past it).
    void on_frame(const frame& f);
    /// The publisher went away: closes the open segment, status -> suspended.
    void end_publish();
    /// Ends the broadcast (admin delete, grace period over, shutdown): closes any open
    /// segment, writes the VOD playlist, status -> ended. Idempotent.
    void end();
    /// suspended for longer than the grace period -> end(). Returns true if it ended now.
    bool tick();

  private:
    struct impl;
    std::string id_;
    std::string stream_key_;
    std::unique_ptr<impl> impl_;
};

/// All broadcasts of this node. Thread-safe.
class broadcast_registry {
  public:
    using change_observer = std::function<void(const broadcast_record&)>;

    broadcast_registry(packager_config config, const core::clock& clock, task_runner io);

    /// Called with the new record after every create and status change (persistence hook).
    /// Same rules as broadcast's status_observer; replaces any earlier observer.
    void on_change(change_observer observer);
    /// Re-adds records loaded from the store at start-up; ones left live/suspended by a crash
    /// are ended (ended_at = now; the observer hears of it) and their VOD playlist is rebuilt
    /// from the archive manifest. Records whose id is already present are skipped.
    void restore(std::vector<broadcast_record> records);

    std::shared_ptr<broadcast> create(std::string title);
    [[nodiscard]] std::shared_ptr<broadcast> find(std::string_view id) const;
    [[nodiscard]] std::shared_ptr<broadcast> find_by_stream_key(std::string_view key) const;
    /// Live (and suspended) first, then idle, then ended; newest first within each.
    [[nodiscard]] std::vector<std::shared_ptr<broadcast>> list() const;
    /// Ends the broadcast (idempotent). False if there is no such id.
    bool end(std::string_view id);
    /// Drives grace periods; call about once a second.
    void tick();
    /// Ends every live or suspended broadcast (SIGTERM).
    void shutdown();
    /// Broadcasts whose status is live (a publisher attached; suspended ones not counted).
    [[nodiscard]] std::size_t live_count() const;

    [[nodiscard]] const packager_config& config() const { return config_; }

  private:
    struct observer_slot;
    std::shared_ptr<broadcast> make(broadcast_record record);

    packager_config config_;
    const core::clock& clock_;
    task_runner io_;
    mutable std::mutex mutex_;
    std::vector<std::shared_ptr<broadcast>> broadcasts_;
    std::map<std::string, std::shared_ptr<broadcast>, std::less<>> by_id_; ///< index of broadcasts_
    /// Shared with every broadcast's status_observer, so a broadcast that outlives the registry
    /// (held by a session) never calls into a dead one.
    std::shared_ptr<observer_slot> observer_;
};

} // namespace livehouse::media
