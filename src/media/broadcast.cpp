// One broadcast's lifecycle and packager. See broadcast.hpp for the contract and
// segmenter.hpp / live_window.hpp / archive.hpp for the rules each part implements.
//
// Locking: `mutex` guards the packager state; `notify_mutex` is taken first by every status
// change and held while the observer runs, so observers see changes in order without the
// packager lock being held across foreign code. on_frame takes only `mutex`.
#include "media/broadcast.hpp"

#include "codec/hls/media_playlist.hpp"
#include "media/archive.hpp"
#include "media/live_window.hpp"
#include "media/segmenter.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace livehouse::media {

namespace {

int ceil_seconds(std::chrono::milliseconds d) {
    return static_cast<int>(std::max<std::int64_t>(1, (d.count() + 999) / 1000));
}

/// FNV-1a 64: a strong ETag for the playlist text (same text, same tag, across restarts).
std::uint64_t fnv1a(std::string_view s) {
    std::uint64_t h = 14695981039346656037ULL;
    for (unsigned char c : s) {
        h = (h ^ c) * 1099511628211ULL;
    }
    return h;
}

} // namespace

double live_snapshot::position_s(std::chrono::steady_clock::time_point now) const {
    if (status != broadcast_status::live || now < closed_at) {
        return closed_media_s;
    }
    const double open_s = std::chrono::duration<double>(now - closed_at).count();
    return closed_media_s + std::min(open_s, 3.0 * target_duration_s);
}

std::shared_ptr<const segment> live_snapshot::find(std::uint64_t sequence) const {
    const auto it = std::lower_bound(
        segments.begin(), segments.end(), sequence,
        [](const std::shared_ptr<const segment>& s, std::uint64_t q) { return s->sequence < q; });
    if (it == segments.end() || (*it)->sequence != sequence) {
        return nullptr;
    }
    return *it;
}

struct broadcast::impl {
    impl(broadcast_record r, const packager_config& c, const core::clock& cl, task_runner io,
         status_observer obs)
        : config(c), clock(cl), observer(std::move(obs)),
          arch(archive::create(c.data_dir, r.id, std::move(io))), record(std::move(r)),
          window(c.window_segments) {}

    const packager_config config;
    const core::clock& clock;
    const status_observer observer;
    const std::shared_ptr<archive> arch; ///< null: archiving off

    std::mutex notify_mutex;
    mutable std::mutex mutex;
    broadcast_record record;
    live_window window;
    std::optional<segmenter> seg; ///< present while live
    std::optional<int> target_duration_s;
    std::uint64_t next_sequence = 0;
    bool next_discontinuity = false;
    std::chrono::system_clock::time_point open_pdt{};
    std::chrono::steady_clock::time_point suspended_at{};
    double closed_media_s = 0; ///< every closed segment's duration, summed
    std::chrono::steady_clock::time_point closed_at{};
    core::shared_bytes playlist;
    std::string playlist_etag;

    /// Only ever accessed through std::atomic_load / std::atomic_store. Why not
    /// std::atomic<std::shared_ptr>: libstdc++ 12's load() releases its internal lock with a
    /// relaxed store, a formal data race with the next store() that TSan reports
    /// (google/sanitizers#1558). The free functions lock a striped mutex pool for the few
    /// instructions of a refcount copy: readers never wait on the packager's mutex.
    std::shared_ptr<const live_snapshot> snap;

    void notify(const broadcast_record& r) const {
        if (observer) {
            observer(r);
        }
    }

    void render_playlist() {
        if (!target_duration_s) {
            return; // no segment yet: no playlist
        }
        auto text = codec::hls::render(window.playlist(*target_duration_s));
        playlist_etag = fmt::format("\"{:016x}\"", fnv1a(text));
        playlist = core::make_shared_bytes(std::move(text));
    }

    void publish_snapshot() {
        auto s = std::make_shared<live_snapshot>();
        s->status = record.status;
        s->playlist = playlist;
        s->playlist_etag = playlist_etag;
        s->target_duration_s = target_duration_s.value_or(ceil_seconds(config.target_segment));
        s->segments = window.segments();
        s->closed_media_s = closed_media_s;
        s->closed_at = closed_at;
        std::atomic_store(&snap, std::shared_ptr<const live_snapshot>(std::move(s)));
    }

    void close_segment(cut_segment c, std::chrono::steady_clock::time_point received_at) {
        if (!target_duration_s) {
            target_duration_s = seg->target_duration_s();
        }
        auto s = std::make_shared<segment>();
        s->sequence = next_sequence++;
        s->duration_s = static_cast<double>(c.duration_ms) / 1000.0;
        // RFC 8216 §6.2.1 / §4.3.2.3: a republish (new encoder session, timestamps restart,
        // muxer continuity counters reset) is a discontinuity; so is a timestamp jump.
        s->discontinuity = c.discontinuity || next_discontinuity;
        next_discontinuity = false;
        s->program_date_time = open_pdt;
        open_pdt += std::chrono::milliseconds(c.duration_ms);
        // A sealed memory file: every viewer's socket gets the same pages by sendfile(2)
        // instead of a copy per viewer, and the archive copies it in the kernel (core/blob.hpp).
        s->data = std::move(c.data);
        s->etag = fmt::format("\"{}-{}\"", record.id, s->sequence);

        const auto now = clock.now();
        closed_media_s += s->duration_s;
        closed_at = now;
        window.push(s, *target_duration_s, now);
        window.expire(now);
        if (arch) {
            arch->add(s);
        }
        render_playlist();
        publish_snapshot();
        if (config.segments_produced != nullptr) {
            config.segments_produced->inc();
        }
        if (config.segment_bytes != nullptr) {
            config.segment_bytes->inc(s->data->size());
        }
        if (config.playlist_delay != nullptr &&
            received_at != std::chrono::steady_clock::time_point{}) {
            config.playlist_delay->observe(
                std::chrono::duration<double>(std::chrono::steady_clock::now() - received_at)
                    .count());
        }
    }

    void flush_publish() {
        if (!seg) {
            return;
        }
        if (auto c = seg->flush()) {
            close_segment(std::move(*c), {});
        }
        if (seg->dropped_frames() > 0) {
            spdlog::debug("broadcast {}: {} frames dropped this publish", record.id,
                          seg->dropped_frames());
        }
        seg.reset();
    }

    void end_locked() {
        flush_publish();
        record.status = broadcast_status::ended;
        record.ended_at = clock.wall();
        window.close(clock.now());
        render_playlist(); // the same list, now with EXT-X-ENDLIST
        if (arch) {
            arch->finish(target_duration_s.value_or(ceil_seconds(config.target_segment)));
        }
        publish_snapshot();
    }
};

broadcast::broadcast(broadcast_record record, const packager_config& config,
                     const core::clock& clock, task_runner io, status_observer on_status)
    : id_(record.id), stream_key_(record.stream_key),
      impl_(std::make_unique<impl>(std::move(record), config, clock, std::move(io),
                                   std::move(on_status))) {
    auto& st = impl_->record.status;
    if (st == broadcast_status::live || st == broadcast_status::suspended) {
        // No publisher can be attached to a new object: wait out the grace period.
        st = broadcast_status::suspended;
        impl_->suspended_at = clock.now();
    }
    impl_->publish_snapshot();
}

broadcast::~broadcast() = default;

broadcast_record broadcast::record() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->record;
}

std::shared_ptr<const live_snapshot> broadcast::snapshot() const {
    return std::atomic_load(&impl_->snap);
}

core::result<void> broadcast::begin_publish(track_set tracks) {
    std::lock_guard notify_lock(impl_->notify_mutex);
    broadcast_record changed;
    {
        std::lock_guard lock(impl_->mutex);
        auto& m = *impl_;
        if (m.record.status == broadcast_status::live) {
            return core::make_error("already publishing");
        }
        if (m.record.status == broadcast_status::ended) {
            return core::make_error("broadcast has ended");
        }
        if (!tracks.video && !tracks.audio) {
            return core::make_error("publish has neither audio nor video");
        }
        segmenter_config sc;
        sc.target = m.config.target_segment;
        sc.target_duration_s = m.target_duration_s;
        sc.log_name = "broadcast " + id_;
        m.seg.emplace(tracks, std::move(sc));
        // A resume continues the playlist; its first segment gets EXT-X-DISCONTINUITY.
        m.next_discontinuity = m.next_sequence > 0;
        m.record.status = broadcast_status::live;
        // The open segment starts now: the live position grows from the closed media time.
        m.closed_at = m.clock.now();
        if (!m.record.started_at) {
            m.record.started_at = m.clock.wall();
        }
        m.publish_snapshot();
        changed = m.record;
    }
    impl_->notify(changed);
    return {};
}

void broadcast::on_frame(const frame& f) {
    std::lock_guard lock(impl_->mutex);
    auto& m = *impl_;
    if (m.record.status != broadcast_status::live || !m.seg) {
        return; // a late frame from a publish that already ended
    }
    const bool was_open = m.seg->has_open_segment();
    auto cut = m.seg->push(f);
    if (!was_open && m.seg->has_open_segment()) {
        // EXT-X-PROGRAM-DATE-TIME: the first segment of a publish starts now; later ones
        // follow by media duration.
        m.open_pdt = m.clock.wall();
    }
    if (cut) {
        m.close_segment(std::move(*cut), f.received_at);
    }
}

void broadcast::end_publish() {
    std::lock_guard notify_lock(impl_->notify_mutex);
    broadcast_record changed;
    {
        std::lock_guard lock(impl_->mutex);
        auto& m = *impl_;
        if (m.record.status != broadcast_status::live) {
            return;
        }
        m.flush_publish();
        m.record.status = broadcast_status::suspended;
        m.suspended_at = m.clock.now();
        m.publish_snapshot();
        changed = m.record;
    }
    impl_->notify(changed);
}

void broadcast::end() {
    std::lock_guard notify_lock(impl_->notify_mutex);
    broadcast_record changed;
    {
        std::lock_guard lock(impl_->mutex);
        if (impl_->record.status == broadcast_status::ended) {
            return;
        }
        impl_->end_locked();
        changed = impl_->record;
    }
    impl_->notify(changed);
}

bool broadcast::tick() {
    std::lock_guard notify_lock(impl_->notify_mutex);
    broadcast_record changed;
    bool ended_now = false;
    {
        std::lock_guard lock(impl_->mutex);
        auto& m = *impl_;
        const auto now = m.clock.now();
        if (m.record.status == broadcast_status::suspended &&
            now - m.suspended_at >= m.config.grace_period) {
            m.end_locked();
            changed = m.record;
            ended_now = true;
        }
        if (m.window.expire(now)) {
            m.publish_snapshot();
        }
    }
    if (ended_now) {
        impl_->notify(changed);
    }
    return ended_now;
}

} // namespace livehouse::media
