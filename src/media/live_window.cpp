// Live window: which segments the live playlist lists and which stay fetchable. See the header
// for the RFC 8216 §6.2.2 clauses implemented.
#include "media/live_window.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <fmt/format.h>

namespace livehouse::media {

std::string segment_uri(std::uint64_t sequence) {
    return fmt::format("seg-{}.ts", sequence);
}

live_window::live_window(int window_segments)
    : window_segments_(static_cast<std::size_t>(std::max(1, window_segments))) {}

std::uint64_t live_window::media_sequence() const {
    return window_.empty() ? next_sequence_ : window_.front().seg->sequence;
}

namespace {

std::int64_t to_ms(double seconds) {
    return seconds > 0 ? std::llround(seconds * 1000.0) : 0;
}

std::chrono::steady_clock::duration available_for(std::int64_t ms) {
    return std::chrono::duration_cast<std::chrono::steady_clock::duration>(
        std::chrono::milliseconds(ms));
}

} // namespace

void live_window::remove_front(std::chrono::steady_clock::time_point now) {
    auto& e = window_.front();
    duration_ms_ -= e.duration_ms;
    if (e.seg->discontinuity) {
        // §6.2.2: removing an EXT-X-DISCONTINUITY tag MUST increment the sequence.
        ++discontinuity_sequence_;
    }
    lingering_.push_back(
        {std::move(e.seg), now + available_for(e.duration_ms + e.longest_playlist_ms)});
    window_.pop_front();
}

void live_window::push(std::shared_ptr<const segment> s, int target_duration_s,
                       std::chrono::steady_clock::time_point now) {
    assert(!closed_);
    assert(window_.empty() && lingering_.empty() ? true : s->sequence == next_sequence_);
    next_sequence_ = s->sequence + 1;
    const auto ms = to_ms(s->duration_s);
    duration_ms_ += ms;
    window_.push_back({std::move(s), ms, 0});

    // §6.2.2: never below three target durations; beyond that, keep window_segments.
    const std::int64_t min_duration_ms = 3000LL * target_duration_s;
    while (window_.size() > max_segments ||
           (window_.size() > window_segments_ &&
            duration_ms_ - window_.front().duration_ms >= min_duration_ms)) {
        remove_front(now);
    }
    for (auto& e : window_) {
        e.longest_playlist_ms = std::max(e.longest_playlist_ms, duration_ms_);
    }
}

void live_window::close(std::chrono::steady_clock::time_point now) {
    if (closed_) {
        return;
    }
    closed_ = true;
    // The ENDLIST playlist keeps listing these; they stay in memory as long as §6.2.2 asks of a
    // removed segment, then the archive on disk answers for them.
    for (auto& e : window_) {
        lingering_.push_back({e.seg, now + available_for(e.duration_ms + e.longest_playlist_ms)});
    }
}

bool live_window::expire(std::chrono::steady_clock::time_point now) {
    // Expiry times are not monotonic (a long segment may outlive a later short one), so scan
    // all; lingering_ is short (a window's worth).
    const auto before = lingering_.size();
    std::erase_if(lingering_, [now](const lingering& l) { return l.until <= now; });
    return lingering_.size() != before;
}

codec::hls::media_playlist live_window::playlist(int target_duration_s) const {
    codec::hls::media_playlist p;
    p.target_duration_s = target_duration_s;
    p.media_sequence = media_sequence();
    p.discontinuity_sequence = discontinuity_sequence_;
    p.ended = closed_;
    p.segments.reserve(window_.size());
    for (const auto& e : window_) {
        const auto& s = *e.seg;
        p.segments.push_back({s.sequence, s.duration_s, segment_uri(s.sequence), s.discontinuity,
                              s.program_date_time});
    }
    return p;
}

std::vector<std::shared_ptr<const segment>> live_window::segments() const {
    std::vector<std::shared_ptr<const segment>> out;
    out.reserve(lingering_.size() + window_.size());
    for (const auto& l : lingering_) {
        out.push_back(l.seg);
    }
    if (!closed_) {
        for (const auto& e : window_) {
            out.push_back(e.seg);
        }
    }
    // After close() the window's segments are (also) in lingering_; expiry may have removed
    // some from the middle, so keep sequence order for live_snapshot::find's binary search.
    std::sort(out.begin(), out.end(),
              [](const auto& a, const auto& b) { return a->sequence < b->sequence; });
    return out;
}

} // namespace livehouse::media
