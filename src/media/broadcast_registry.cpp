// All broadcasts of this node. The registry's mutex guards only the list; broadcasts are called
// outside it, and observers are called with no registry lock held.
#include "media/archive.hpp"
#include "media/broadcast.hpp"
#include "media/ids.hpp"

#include <algorithm>
#include <spdlog/spdlog.h>

namespace livehouse::media {

struct broadcast_registry::observer_slot {
    std::mutex mutex;
    change_observer fn;

    void operator()(const broadcast_record& r) {
        change_observer f;
        {
            std::lock_guard lock(mutex);
            f = fn;
        }
        if (f) {
            f(r);
        }
    }
};

broadcast_registry::broadcast_registry(packager_config config, const core::clock& clock,
                                       task_runner io)
    : config_(std::move(config)), clock_(clock), io_(std::move(io)),
      observer_(std::make_shared<observer_slot>()) {}

void broadcast_registry::on_change(change_observer observer) {
    std::lock_guard lock(observer_->mutex);
    observer_->fn = std::move(observer);
}

std::shared_ptr<broadcast> broadcast_registry::make(broadcast_record record) {
    return std::make_shared<broadcast>(
        std::move(record), config_, clock_, io_,
        [slot = observer_](const broadcast_record& r) { (*slot)(r); });
}

namespace {

int list_rank(broadcast_status s) {
    switch (s) {
    case broadcast_status::live:
    case broadcast_status::suspended:
        return 0;
    case broadcast_status::idle:
        return 1;
    case broadcast_status::ended:
        break;
    }
    return 2;
}

} // namespace

void broadcast_registry::restore(std::vector<broadcast_record> records) {
    for (auto& r : records) {
        const bool crashed =
            r.status == broadcast_status::live || r.status == broadcast_status::suspended;
        if (crashed) {
            // The process that held the publish is gone; nothing can resume it.
            r.status = broadcast_status::ended;
            if (!r.ended_at) {
                r.ended_at = clock_.wall();
            }
        }
        const auto id = r.id;
        std::shared_ptr<broadcast> b;
        {
            std::lock_guard lock(mutex_);
            if (by_id_.contains(id)) {
                spdlog::warn("registry: restore: duplicate broadcast id '{}' skipped", id);
                continue;
            }
            b = make(std::move(r));
            broadcasts_.push_back(b);
            by_id_.emplace(id, b);
        }
        if (crashed) {
            (*observer_)(b->record());
        }
        if (b->record().status == broadcast_status::ended) {
            archive::recover(config_.data_dir, id, io_);
        }
    }
}

std::shared_ptr<broadcast> broadcast_registry::create(std::string title) {
    broadcast_record r;
    r.title = std::move(title);
    r.stream_key = make_stream_key();
    r.status = broadcast_status::idle;
    r.created_at = clock_.wall();
    std::shared_ptr<broadcast> b;
    {
        std::lock_guard lock(mutex_);
        do {
            r.id = make_broadcast_id();
        } while (by_id_.contains(r.id));
        b = make(std::move(r));
        broadcasts_.push_back(b);
        by_id_.emplace(b->id(), b);
    }
    (*observer_)(b->record());
    return b;
}

std::shared_ptr<broadcast> broadcast_registry::find(std::string_view id) const {
    std::lock_guard lock(mutex_);
    const auto it = by_id_.find(id);
    return it == by_id_.end() ? nullptr : it->second;
}

std::shared_ptr<broadcast> broadcast_registry::find_by_stream_key(std::string_view key) const {
    std::lock_guard lock(mutex_);
    std::shared_ptr<broadcast> found;
    // Compare against every key in constant time, without stopping at a match: the time taken
    // says nothing about which key, or how much of one, a guess matched.
    for (const auto& b : broadcasts_) {
        if (constant_time_equal(b->stream_key(), key)) {
            found = b;
        }
    }
    return found;
}

std::vector<std::shared_ptr<broadcast>> broadcast_registry::list() const {
    std::vector<std::shared_ptr<broadcast>> all;
    {
        std::lock_guard lock(mutex_);
        all = broadcasts_;
    }
    struct keyed {
        int rank;
        std::chrono::system_clock::time_point created_at;
        std::shared_ptr<broadcast> b;
    };
    std::vector<keyed> k;
    k.reserve(all.size());
    for (auto& b : all) {
        const auto r = b->record();
        k.push_back({list_rank(r.status), r.created_at, std::move(b)});
    }
    std::sort(k.begin(), k.end(), [](const keyed& a, const keyed& b) {
        if (a.rank != b.rank) {
            return a.rank < b.rank;
        }
        if (a.created_at != b.created_at) {
            return a.created_at > b.created_at; // newest first
        }
        return a.b->id() < b.b->id(); // a stable order for equal times
    });
    std::vector<std::shared_ptr<broadcast>> out;
    out.reserve(k.size());
    for (auto& e : k) {
        out.push_back(std::move(e.b));
    }
    return out;
}

bool broadcast_registry::end(std::string_view id) {
    auto b = find(id);
    if (!b) {
        return false;
    }
    b->end();
    return true;
}

void broadcast_registry::tick() {
    std::vector<std::shared_ptr<broadcast>> all;
    {
        std::lock_guard lock(mutex_);
        all = broadcasts_;
    }
    for (const auto& b : all) {
        // Idle broadcasts have no timers and nothing in memory to expire.
        if (b->snapshot()->status != broadcast_status::idle) {
            b->tick();
        }
    }
}

void broadcast_registry::shutdown() {
    std::vector<std::shared_ptr<broadcast>> all;
    {
        std::lock_guard lock(mutex_);
        all = broadcasts_;
    }
    for (const auto& b : all) {
        const auto s = b->snapshot()->status;
        if (s == broadcast_status::live || s == broadcast_status::suspended) {
            b->end();
        }
    }
}

std::size_t broadcast_registry::live_count() const {
    std::lock_guard lock(mutex_);
    return static_cast<std::size_t>(
        std::count_if(broadcasts_.begin(), broadcasts_.end(), [](const auto& b) {
            return b->snapshot()->status == broadcast_status::live;
        }));
}

} // namespace livehouse::media
