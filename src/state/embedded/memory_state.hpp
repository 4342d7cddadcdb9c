// The embedded backend's in-process structures for counters, sorted sets and sets: what one
// livehouse node uses when no Redis is configured. Same contract as the server backend
// (state/shared_state.hpp); every handler runs before the call returns.
//
// Concurrency: keys are spread over `stripes` maps, each behind its own mutex, so calls on
// different keys from different event-loop threads rarely wait on each other; a call holds one
// stripe's mutex for a few map operations and never while its handler runs (a handler may call
// back into the store).
//
// Sorted sets: a GNU order-statistics tree (libstdc++'s policy-based data structures) keyed by
// (score, member) gives the rank of a member in O(log n), and a hash map from member to score
// finds its entry; top-N walks the tree from the largest entry.
//
// Nothing here survives a restart: the services flush what must last to the relational records
// (seed 002's flush of love totals when a broadcast ends).
#pragma once

#include "state/shared_state.hpp"

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace livehouse::state::embedded {

inline constexpr std::size_t stripes = 16;

/// Key -> Value maps spread over `stripes` shards by key hash, each behind its own mutex: the
/// one locking pattern of every embedded structure.
template <typename Value> class striped_map {
  public:
    using map = std::unordered_map<std::string, Value>;

    /// Runs fn(map&) with the key's shard locked and returns its result. fn must not call back
    /// into the store (completion handlers run after with() returns).
    template <typename Fn> decltype(auto) with(const std::string& key, Fn&& fn) {
        auto& s = shards_[std::hash<std::string>{}(key) % stripes];
        std::lock_guard lock(s.mutex);
        return std::forward<Fn>(fn)(s.entries);
    }

  private:
    struct shard {
        std::mutex mutex;
        map entries;
    };
    std::array<shard, stripes> shards_;
};

class memory_counters final : public counters {
  public:
    void incrby(std::string key, std::int64_t by, completion<std::int64_t> done) override;
    void get(std::string key, completion<std::int64_t> done) override;
    void remove(std::string key, completion<bool> done) override;

  private:
    striped_map<std::int64_t> values_;
};

class memory_sorted_sets final : public sorted_sets {
  public:
    memory_sorted_sets();
    ~memory_sorted_sets() override;
    memory_sorted_sets(const memory_sorted_sets&) = delete;
    memory_sorted_sets& operator=(const memory_sorted_sets&) = delete;

    void increment(std::string key, std::string member, std::int64_t by,
                   completion<std::int64_t> done) override;
    void top(std::string key, std::size_t n, completion<std::vector<scored_member>> done) override;
    void rank(std::string key, std::string member,
              completion<std::optional<std::size_t>> done) override;
    void score(std::string key, std::string member,
               completion<std::optional<std::int64_t>> done) override;
    void remove(std::string key, completion<bool> done) override;

  private:
    struct zset; // the tree + the member index (memory_sorted_sets.cpp)
    striped_map<std::unique_ptr<zset>> sets_;
};

class memory_sets final : public sets {
  public:
    void add(std::string key, std::string member, completion<bool> done) override;
    void contains(std::string key, std::string member, completion<bool> done) override;
    void size(std::string key, completion<std::size_t> done) override;
    void remove(std::string key, completion<bool> done) override;
    void remove_member(std::string key, std::string member, completion<bool> done) override;

  private:
    striped_map<std::unordered_set<std::string>> sets_;
};

} // namespace livehouse::state::embedded
