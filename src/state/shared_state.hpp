// The shared-state interfaces the services use: counters, sorted sets and sets (this file), with
// one contract for every backend — the embedded one (in-process; the default) and the server one
// (Redis / Redis Cluster, to come). Only what the services need, with Redis's semantics, so that
// a test that passes on one backend means the same on the other (tests/unit/state/
// shared_state_contract_test.cpp runs one suite against each).
//
// Calls are asynchronous: each takes a completion handler that is called exactly once with the
// result or an error (a refused argument, a lost connection, ...). The handler may run before the
// call returns (embedded: the operation is a few memory accesses) or later on another thread
// (server: when the reply arrives on the connection's event loop); it must be cheap and must not
// block. Keys are built with state::key_space; the backends check only the size limits of
// keys.hpp.
//
// Thread safety: every call may come from any thread.
#pragma once

#include "core/result.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace livehouse::state {

template <typename T> using completion = std::function<void(core::result<T>)>;

/// Integer counters (Redis strings holding integers: INCRBY, GET, DEL).
class counters {
  public:
    virtual ~counters() = default;
    /// Adds `by` (may be negative) to the counter, creating it at 0; completes with the new
    /// value. Error if the result would leave the signed 64-bit range (Redis: "increment or
    /// decrement would overflow"); the counter is then unchanged.
    virtual void incrby(std::string key, std::int64_t by, completion<std::int64_t> done) = 0;
    /// The counter's value; 0 if it does not exist.
    virtual void get(std::string key, completion<std::int64_t> done) = 0;
    /// Removes the counter; completes with whether it existed.
    virtual void remove(std::string key, completion<bool> done) = 0;
};

struct scored_member {
    std::string member;
    std::int64_t score = 0;
    friend bool operator==(const scored_member&, const scored_member&) = default;
};

/// Sorted sets with integer scores (ZINCRBY, ZREVRANGE ... WITHSCORES, ZREVRANK, ZSCORE, DEL).
/// Order: score descending; equal scores by member descending, byte-wise (ZREVRANGE's order).
/// Scores are integers because what livehouse ranks are counts; Redis keeps them as doubles,
/// exact up to 2^53, far beyond any count.
class sorted_sets {
  public:
    virtual ~sorted_sets() = default;
    /// Adds `by` to the member's score (creating both at 0); completes with the new score.
    virtual void increment(std::string key, std::string member, std::int64_t by,
                           completion<std::int64_t> done) = 0;
    /// The first `n` members in order (fewer if the set is smaller; empty if absent).
    virtual void top(std::string key, std::size_t n,
                     completion<std::vector<scored_member>> done) = 0;
    /// The member's 0-based position in order; nullopt if it is not in the set.
    virtual void rank(std::string key, std::string member,
                      completion<std::optional<std::size_t>> done) = 0;
    /// The member's score; nullopt if it is not in the set.
    virtual void score(std::string key, std::string member,
                       completion<std::optional<std::int64_t>> done) = 0;
    /// Removes the whole set; completes with whether it existed.
    virtual void remove(std::string key, completion<bool> done) = 0;
};

/// Sets of strings (SADD, SISMEMBER, SCARD, DEL, SREM).
class sets {
  public:
    virtual ~sets() = default;
    /// Completes with true if the member was added, false if it was already there.
    virtual void add(std::string key, std::string member, completion<bool> done) = 0;
    virtual void contains(std::string key, std::string member, completion<bool> done) = 0;
    /// Number of members; 0 if the set does not exist.
    virtual void size(std::string key, completion<std::size_t> done) = 0;
    /// Removes the whole set; completes with whether it existed.
    virtual void remove(std::string key, completion<bool> done) = 0;
    /// Removes one member (SREM); completes with whether it was there.
    virtual void remove_member(std::string key, std::string member, completion<bool> done) = 0;
};

} // namespace livehouse::state
