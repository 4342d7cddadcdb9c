// edge_cache (see edge_cache.hpp).
#include "services/edge/edge_cache.hpp"

#include <algorithm>

namespace livehouse::services::edge {

namespace {
/// What an object costs beyond its strings: the node, the shared_ptr blocks, the queues.
constexpr std::size_t object_overhead = 256;
} // namespace

std::int64_t cached_object::current_age_s(steady_time now) const {
    const auto resident = std::chrono::duration_cast<std::chrono::seconds>(now - received).count();
    return age_s + std::max<std::int64_t>(0, resident);
}

std::size_t cached_object::charge(std::string_view key) const {
    std::size_t n = object_overhead + key.size() + content_type.size() + cache_control.size() +
                    etag.size() + (body ? body->size() : 0);
    for (const auto& [name, value] : headers) {
        n += name.size() + value.size();
    }
    return n;
}

edge_cache::edge_cache(options o) : capacity_(o.capacity_bytes), retry_after_(o.retry_after) {
    const std::size_t n = std::max<std::size_t>(1, o.shards);
    shards_.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        shards_.push_back(std::make_unique<shard>(o.capacity_bytes / n));
    }
}

edge_cache::shard& edge_cache::shard_for(std::string_view key) {
    return *shards_[std::hash<std::string_view>{}(key) % shards_.size()];
}

edge_cache::lookup_result edge_cache::lookup(std::string_view key, steady_time now, waiter& w) {
    auto& s = shard_for(key);
    object_ptr dropped; // destroyed after the lock
    std::lock_guard lock(s.mutex);
    object_ptr object;
    if (auto* found = s.objects.find(key)) {
        if ((*found)->body && (*found)->body->current() == core::filling_bytes::state::failed) {
            // Its upstream broke off mid-body: never serve it again.
            dropped = std::move(*found);
            s.objects.erase(key);
        } else {
            object = *found;
        }
    }
    if (object && now < object->fresh_until) {
        return {outcome::hit, std::move(object), false};
    }
    if (auto b = s.backoff.find(key); b != s.backoff.end()) {
        if (now >= b->second) {
            s.backoff.erase(b);
        } else if (object && now < object->error_until) {
            return {outcome::stale, std::move(object), false}; // the upstream is failing
        }
    }
    auto in_flight = s.flights.find(key);
    if (object && now < object->revalidate_until) {
        if (in_flight != s.flights.end()) {
            return {outcome::stale, std::move(object), false};
        }
        s.flights.emplace(std::string(key), flight{});
        return {outcome::stale, std::move(object), true};
    }
    if (in_flight != s.flights.end()) {
        in_flight->second.waiters.push_back(std::move(w));
        return {outcome::joined, nullptr, false};
    }
    flight f;
    f.waiters.push_back(std::move(w));
    s.flights.emplace(std::string(key), std::move(f));
    return {outcome::fetch, nullptr, false};
}

edge_cache::resolution edge_cache::resolve(std::string_view key, const object_ptr& object,
                                           bool store) {
    auto& s = shard_for(key);
    resolution out;
    std::vector<object_ptr> evicted; // destroyed after the lock
    {
        std::lock_guard lock(s.mutex);
        if (auto it = s.flights.find(key); it != s.flights.end()) {
            out.waiters = std::move(it->second.waiters);
            s.flights.erase(it);
        }
        if (auto b = s.backoff.find(key); b != s.backoff.end()) {
            s.backoff.erase(b);
        }
        if (store && object) {
            if (auto old = s.objects.erase(key)) {
                evicted.push_back(std::move(*old));
            }
            // Too large for the shard: handed back at once, i.e. not stored.
            auto gone = s.objects.insert(std::string(key), object, object->charge(key));
            for (auto& g : gone) {
                evicted.push_back(std::move(g));
            }
        }
    }
    return out;
}

edge_cache::resolution edge_cache::fail(std::string_view key, steady_time now) {
    auto& s = shard_for(key);
    resolution out;
    std::lock_guard lock(s.mutex);
    if (auto it = s.flights.find(key); it != s.flights.end()) {
        out.waiters = std::move(it->second.waiters);
        s.flights.erase(it);
    }
    if (auto* found = s.objects.peek(key)) {
        if (now < (*found)->error_until && (*found)->body &&
            (*found)->body->current() != core::filling_bytes::state::failed) {
            out.stale = *found;
            s.backoff.insert_or_assign(std::string(key), now + retry_after_);
        }
    }
    return out;
}

std::vector<waiter> edge_cache::drain() {
    std::vector<waiter> out;
    for (auto& s : shards_) {
        std::lock_guard lock(s->mutex);
        for (auto& [key, f] : s->flights) {
            for (auto& w : f.waiters) {
                out.push_back(std::move(w));
            }
        }
        s->flights.clear();
    }
    return out;
}

void edge_cache::erase(std::string_view key) {
    auto& s = shard_for(key);
    std::optional<object_ptr> gone;
    std::lock_guard lock(s.mutex);
    gone = s.objects.erase(key);
    if (auto b = s.backoff.find(key); b != s.backoff.end()) {
        s.backoff.erase(b);
    }
}

std::size_t edge_cache::bytes() const {
    std::size_t n = 0;
    for (const auto& s : shards_) {
        std::lock_guard lock(s->mutex);
        n += s->objects.bytes();
    }
    return n;
}

std::size_t edge_cache::objects() const {
    std::size_t n = 0;
    for (const auto& s : shards_) {
        std::lock_guard lock(s->mutex);
        n += s->objects.size();
    }
    return n;
}

std::uint64_t edge_cache::evictions() const {
    std::uint64_t n = 0;
    for (const auto& s : shards_) {
        std::lock_guard lock(s->mutex);
        n += s->objects.evictions();
    }
    return n;
}

std::size_t edge_cache::in_flight() const {
    std::size_t n = 0;
    for (const auto& s : shards_) {
        std::lock_guard lock(s->mutex);
        n += s->flights.size();
    }
    return n;
}

} // namespace livehouse::services::edge
