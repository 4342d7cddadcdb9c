// edge_cache: the edge tier's objects in memory, bounded in bytes, with the fetches in flight
// that concurrent misses join instead of each asking the upstream (request coalescing).
//
// Seed 003 (Facebook Live): "if 100 requests for the same segment arrive at a proxy at the
// same time, only one goes to the origin; the others wait in a queue for the response". Here a
// key has at most one fetch in flight; every request for it that cannot be answered from the
// cache registers a waiter on that fetch and is called back when the response head arrives —
// an event, no polling — and then streams the body from the same core::filling_bytes while it
// arrives.
//
// Freshness (RFC 9111 §4.2, RFC 5861), per object, computed when it is stored:
//   now < fresh_until        -> hit
//   now < revalidate_until   -> stale-while-revalidate: served as is; the first such lookup
//                               starts one background refresh (never two in flight per key)
//   otherwise                -> the request waits for a fetch; if that fails, an object still
//                               before error_until is served instead (stale-if-error), and
//                               for retry_after the key is not fetched again: its lookups are
//                               answered with that object (an upstream that is down gets about
//                               one request per key per retry_after, not one per viewer)
// A 404 is an object like any other (negative caching: the origin's max-age=1, or [edge]
// negative_ttl_s when it says nothing), so a suspended broadcast costs the origin about one
// request per second per edge, not one per player retry.
//
// Eviction is S3-FIFO (core/s3_fifo.hpp) per shard, so a segment read by every viewer in a
// burst and never again does not push out the playlists read all the time. Bound: the bytes of
// stored objects (body + headers + key) never exceed capacity_bytes; an evicted object still
// being sent lives on in its sessions' references until they finish (at most one write
// timeout), but is no longer counted.
//
// Thread-safety: every member is safe from any thread (a mutex per shard). Waiters are never
// called under a lock: resolve/fail return them and the caller calls them.
#pragma once

#include "core/filling_bytes.hpp"
#include "core/s3_fifo.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace livehouse::services::edge {

using steady_time = std::chrono::steady_clock::time_point;

/// One upstream response: immutable once made (the body fills on its own).
struct cached_object {
    unsigned status = 200;
    std::string content_type;
    std::string cache_control; ///< forwarded as received: the next tier computes the same
    std::string etag;
    std::vector<std::pair<std::string, std::string>> headers; ///< other forwarded headers
    bool cors = false;
    bool accept_ranges = false;
    core::shared_filling_bytes body;
    steady_time received{};
    std::int64_t age_s = 0; ///< the Age the upstream reported (RFC 9111 §4.2.3)
    steady_time fresh_until{};
    steady_time revalidate_until{};
    steady_time error_until{};
    bool storable = false;

    /// Age to send downstream (RFC 9111 §5.1): upstream's age + the time spent here.
    [[nodiscard]] std::int64_t current_age_s(steady_time now) const;
    /// Bytes this object counts for in the cache.
    [[nodiscard]] std::size_t charge(std::string_view key) const;
};

using object_ptr = std::shared_ptr<const cached_object>;

/// Called once when the fetch a request joined resolves: the object, or null and why.
/// How a fetch ended for those waiting on it: `error` empty when the object is fresh from the
/// upstream; else why not (the object, if any, is a stale copy), and whether it timed out (a
/// gateway timeout rather than a bad gateway).
struct fetch_status {
    std::string error;
    bool timed_out = false;
};
using waiter = std::function<void(const object_ptr& object, const fetch_status& status)>;

class edge_cache {
  public:
    struct options {
        std::size_t capacity_bytes = 256 * 1024 * 1024;
        std::size_t shards = 16;
        std::chrono::milliseconds retry_after{std::chrono::seconds(1)};
    };

    enum class outcome {
        hit,    ///< `object` is fresh: answer with it
        stale,  ///< `object` is stale but may be served while revalidating; if `refresh`,
                ///< this caller must start the one background refresh
        joined, ///< a fetch was in flight: the waiter is registered on it
        fetch,  ///< the waiter is registered and is the first: this caller starts the fetch
    };
    struct lookup_result {
        outcome result = outcome::fetch;
        object_ptr object;
        bool refresh = false;
    };

    /// What resolve/fail hand back: the waiters to call (outside any lock), and for fail()
    /// the stored object that is still allowed for stale-if-error (null when none).
    struct resolution {
        std::vector<waiter> waiters;
        object_ptr stale;
    };

    explicit edge_cache(options o);

    /// `w` is registered only for outcomes joined and fetch (moved from then).
    lookup_result lookup(std::string_view key, steady_time now, waiter& w);
    /// The fetch for `key` has its response: stored when `store` (replacing the old one),
    /// and the fetch's waiters handed back.
    resolution resolve(std::string_view key, const object_ptr& object, bool store);
    /// The fetch for `key` failed: its waiters, and the old object if still before its
    /// error_until at `now`.
    resolution fail(std::string_view key, steady_time now);
    /// Every waiter of every fetch in flight, which are forgotten (shutdown).
    std::vector<waiter> drain();
    /// Forgets `key` (and nothing in flight).
    void erase(std::string_view key);

    [[nodiscard]] std::size_t bytes() const;
    [[nodiscard]] std::size_t objects() const;
    [[nodiscard]] std::uint64_t evictions() const;
    [[nodiscard]] std::size_t in_flight() const;
    [[nodiscard]] std::size_t capacity() const { return capacity_; }

  private:
    struct flight {
        std::vector<waiter> waiters;
    };
    struct string_hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept {
            return std::hash<std::string_view>{}(s);
        }
    };
    struct shard {
        explicit shard(std::size_t bytes) : objects(bytes) {}
        mutable std::mutex mutex;
        core::s3_fifo<object_ptr> objects;
        std::unordered_map<std::string, flight, string_hash, std::equal_to<>> flights;
        /// Keys whose last fetch failed while a stale copy could stand in: not fetched again
        /// before the time. Entries leave on the next lookup after it, or a good fetch.
        std::unordered_map<std::string, steady_time, string_hash, std::equal_to<>> backoff;
    };

    shard& shard_for(std::string_view key);

    std::size_t capacity_;
    std::chrono::milliseconds retry_after_;
    std::vector<std::unique_ptr<shard>> shards_;
};

} // namespace livehouse::services::edge
