// Frames -> MPEG-TS segments. The cutting and TARGETDURATION policy is in segmenter.hpp.
#include "media/segmenter.hpp"

#include <algorithm>
#include <spdlog/spdlog.h>

namespace livehouse::media {

namespace {

constexpr std::size_t index(track t) {
    return static_cast<std::size_t>(t);
}

constexpr std::int64_t ticks_90khz(std::int64_t ms) {
    return ms * 90;
}

int ceil_seconds(std::chrono::milliseconds d) {
    return static_cast<int>(std::max<std::int64_t>(1, (d.count() + 999) / 1000));
}

} // namespace

segmenter::segmenter(track_set tracks, segmenter_config config)
    : tracks_(tracks), main_track_(tracks.video ? track::video : track::audio),
      config_(std::move(config)), muxer_(codec::mpegts::stream_set{tracks.video, tracks.audio}),
      target_duration_s_(config_.target_duration_s) {}

std::int64_t segmenter::limit_ms() const {
    // A duration of T s + 500 ms renders as "T.500" and rounds up past T (§4.3.3.1).
    const int t = target_duration_s_ ? *target_duration_s_
                                     : first_segment_cap_factor * ceil_seconds(config_.target);
    return static_cast<std::int64_t>(t) * 1000 + 500;
}

std::int64_t segmenter::open_duration_ms() const {
    // The main track measures from the segment start; the other track from its own first frame
    // in this segment, so a track still on an old timeline (after the main track jumped) cannot
    // make the segment look hours long.
    std::int64_t d = 0;
    for (auto t : {track::video, track::audio}) {
        const auto i = index(t);
        if (!in_segment_[i]) {
            continue;
        }
        const auto from = t == main_track_ ? start_dts_ms_ : seg_first_dts_ms_[i];
        d = std::max(d, last_dts_ms_[i] + interval_ms_[i] - from);
    }
    return d;
}

void segmenter::open(const frame& f, bool discontinuity) {
    open_ = true;
    start_dts_ms_ = f.dts_ms;
    open_discontinuity_ = discontinuity;
    open_keyframe_ = f.kind == track::audio ? !tracks_.video : f.keyframe;
    in_segment_ = {};
    // Why reserve: a segment is appended to frame by frame; growing from empty means a dozen
    // reallocations of a megabyte-sized buffer. The previous size is a good guess (a no-op
    // once the reused buffer is that big).
    buffer_.reserve(last_segment_size_ + last_segment_size_ / 8);
    // RFC 8216 §3.2: "Each Transport Stream segment MUST contain ... a PAT and a PMT" before the
    // first PES, so every segment decodes on its own.
    muxer_.write_tables(buffer_);
}

cut_segment segmenter::close(std::int64_t duration_ms) {
    // Never let a rendered EXTINF round past TARGETDURATION (§4.3.3.1); a cut that lands past
    // the limit (an irregular frame gap) under-reports by at most that gap.
    duration_ms = std::clamp<std::int64_t>(duration_ms, 0, limit_ms() - 1);
    if (!target_duration_s_) {
        // Policy 1 (header): T = max(ceil(target), round(first segment)).
        target_duration_s_ =
            std::max(ceil_seconds(config_.target), static_cast<int>((duration_ms + 500) / 1000));
    }
    cut_segment out;
    out.start_dts_ms = start_dts_ms_;
    out.duration_ms = duration_ms;
    out.discontinuity = open_discontinuity_;
    out.starts_with_keyframe = open_keyframe_;
    last_segment_size_ = buffer_.size();
    // The segment leaves as a sealed memory file (the one copy viewers and the archive share);
    // the buffer keeps its capacity for the next segment, so its pages are not given back and
    // faulted in again every two seconds.
    out.data = core::blob::seal(buffer_);
    buffer_.clear();
    open_ = false;
    return out;
}

void segmenter::write(const frame& f) {
    const auto i = index(f.kind);
    if (!in_segment_[i]) {
        in_segment_[i] = true;
        seg_first_dts_ms_[i] = f.dts_ms;
    }
    const auto payload = core::as_bytes(*f.payload);
    if (f.kind == track::video) {
        muxer_.write_video(ticks_90khz(f.dts_ms + f.cts_ms), ticks_90khz(f.dts_ms), f.keyframe,
                           payload, buffer_);
    } else {
        muxer_.write_audio(ticks_90khz(f.dts_ms), payload, buffer_);
    }
}

std::optional<cut_segment> segmenter::push(const frame& f) {
    const bool declared = f.kind == track::video ? tracks_.video : tracks_.audio;
    if (!declared || !f.payload) {
        ++dropped_frames_;
        return std::nullopt;
    }
    const auto i = index(f.kind);
    const bool main = f.kind == main_track_;
    const bool cut_point = main && (f.kind == track::audio || f.keyframe);

    bool jump = false;
    if (seen_[i]) {
        const auto delta = f.dts_ms - last_dts_ms_[i];
        if (delta < 0 || delta > max_frame_gap_ms) {
            jump = true;
        } else if (delta > 0) {
            interval_ms_[i] = delta;
        }
    }
    seen_[i] = true;

    if (!open_) {
        last_dts_ms_[i] = f.dts_ms;
        if (!cut_point) {
            // Nothing before the first video keyframe: a segment must start decodable.
            ++dropped_frames_;
            return std::nullopt;
        }
        open(f, false);
        write(f);
        return std::nullopt;
    }

    std::optional<cut_segment> out;
    if (jump && main) {
        // Rule 3: the timeline broke; end the segment where its own frames end.
        out = close(open_duration_ms());
        last_dts_ms_[i] = f.dts_ms;
        open(f, true);
        write(f);
        return out;
    }
    if (jump) {
        // The other track jumped: restart its in-segment clock (see open_duration_ms).
        seg_first_dts_ms_[i] = f.dts_ms;
    }
    last_dts_ms_[i] = f.dts_ms;

    // How long the segment would be if cut at this frame, measured on this frame's track.
    std::int64_t elapsed = 0;
    if (main) {
        elapsed = f.dts_ms - start_dts_ms_;
    } else if (in_segment_[i]) {
        elapsed = f.dts_ms - seg_first_dts_ms_[i];
    }
    const bool too_big = buffer_.size() + f.payload->size() > config_.max_segment_bytes;
    if (cut_point && elapsed >= config_.target.count()) {
        out = close(elapsed);
        open(f, false);
    } else if (elapsed + interval_ms_[i] >= limit_ms() || (too_big && main && in_segment_[i])) {
        // Rule 2: waiting for a keyframe would break the TARGETDURATION MUST (or the memory cap).
        ++forced_cuts_;
        if (forced_cuts_ == 1 || forced_cuts_ % 100 == 0) {
            spdlog::warn("{}: no keyframe within {} ms or segment over {} bytes: cut mid-GOP "
                         "({} such cuts this publish)",
                         config_.log_name, limit_ms(), config_.max_segment_bytes, forced_cuts_);
        }
        out = close(elapsed);
        open(f, false);
    } else if (too_big) {
        ++dropped_frames_;
        return std::nullopt;
    }
    write(f);
    return out;
}

std::optional<cut_segment> segmenter::flush() {
    if (!open_) {
        return std::nullopt;
    }
    return close(open_duration_ms());
}

} // namespace livehouse::media
