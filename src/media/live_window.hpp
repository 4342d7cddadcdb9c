// The sliding window of a live broadcast's segments and the live playlist rendered from it.
//
// RFC 8216 §6.2.2 rules this class implements:
// - "The server MUST NOT remove a Media Segment from a Playlist file without an EXT-X-ENDLIST
//   tag if that would produce a Playlist whose duration is less than three times the target
//   duration." The window keeps the newest `window_segments` segments, and more while fewer
//   would not cover 3 target durations (hard cap: max_segments).
// - "When the server removes a Media Segment URI from the Playlist, the corresponding Media
//   Segment MUST remain available to clients for a period of time equal to the duration of the
//   segment plus the duration of the longest Playlist file distributed by the server containing
//   that segment." Removed segments linger (segments()) until then; expire() drops them.
// - "If the server removes an EXT-X-DISCONTINUITY tag from the Playlist, it MUST increment the
//   value of the EXT-X-DISCONTINUITY-SEQUENCE tag": removing a segment flagged discontinuity
//   increments discontinuity_sequence().
// - §6.2.1: EXT-X-MEDIA-SEQUENCE only grows (segments are removed from the front only).
//
// Not thread-safe: owned by one broadcast, under its mutex. Readers get immutable snapshots.
#pragma once

#include "codec/hls/media_playlist.hpp"
#include "media/broadcast.hpp"

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

namespace livehouse::media {

class live_window {
  public:
    /// Hard cap on segments in the playlist, whatever their durations (bounds memory).
    static constexpr std::size_t max_segments = 512;

    explicit live_window(int window_segments);

    /// Appends a closed segment (its sequence must be the next one) and removes old ones per
    /// §6.2.2. `target_duration_s` is the broadcast's fixed TARGETDURATION; `now` the time
    /// of the change, from which removed segments' availability is counted.
    void push(std::shared_ptr<const segment> s, int target_duration_s,
              std::chrono::steady_clock::time_point now);

    /// The broadcast ended: the playlist gets EXT-X-ENDLIST and every segment becomes a
    /// lingering one (available for its duration + the playlist's duration, then dropped; the
    /// archive serves them after that).
    void close(std::chrono::steady_clock::time_point now);

    /// Drops lingering segments whose availability period is over. True if any was dropped.
    bool expire(std::chrono::steady_clock::time_point now);

    /// The live playlist (EXT-X-ENDLIST once closed).
    [[nodiscard]] codec::hls::media_playlist playlist(int target_duration_s) const;
    /// Lingering + playlist segments, in sequence order (oldest first).
    [[nodiscard]] std::vector<std::shared_ptr<const segment>> segments() const;

    [[nodiscard]] std::size_t size() const { return window_.size(); }
    [[nodiscard]] std::uint64_t media_sequence() const;
    [[nodiscard]] std::uint64_t discontinuity_sequence() const { return discontinuity_sequence_; }
    [[nodiscard]] double duration_s() const { return static_cast<double>(duration_ms_) / 1000; }
    [[nodiscard]] bool closed() const { return closed_; }

  private:
    struct entry {
        std::shared_ptr<const segment> seg;
        std::int64_t duration_ms = 0;
        std::int64_t longest_playlist_ms = 0; ///< longest playlist that contained it
    };
    struct lingering {
        std::shared_ptr<const segment> seg;
        std::chrono::steady_clock::time_point until;
    };

    void remove_front(std::chrono::steady_clock::time_point now);

    std::size_t window_segments_;
    std::deque<entry> window_;
    std::deque<lingering> lingering_;
    std::int64_t duration_ms_ = 0;
    // Integer milliseconds: summing doubles drifts, and the 3-target-duration test must not
    // flip on 6.0000000001 vs 6.
    std::uint64_t next_sequence_ = 0;
    std::uint64_t discontinuity_sequence_ = 0;
    bool closed_ = false;
};

} // namespace livehouse::media
