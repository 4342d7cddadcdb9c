// Love counts: per broadcast, the total of heart taps and each viewer's own, with retries
// counted once — seed 002's INCRBY counter and ZREVRANGE ranking, made safe to retry.
//
// Why one operation and not INCRBY + ZINCRBY + SADD from the service: the three must change
// together or not at all, or a node dying between them counts a batch in the total but not in
// the ranking, or marks it seen without counting it. Redis runs apply() as one Lua script on
// the shard that owns the broadcast's hash tag (one round trip for every batch a node gathered
// in a flush, so a request costs far less than one command); embedded runs it under a lock.
//
// Contract:
// - apply(key, batches) counts each batch whose (user, batch_id) is not among that user's last
//   love_seen_window batch ids of this key, in order: the total goes up by its taps, the user's
//   score by the same, and the broadcast's timeline (taps per video second) by its per_second
//   counts; it completes with, per batch, whether it was counted, and the total after the
//   whole apply. A batch of 0 taps is counted (and remembered) but changes no score.
// - total(key), top(key, n) (score descending, ties by user descending, like sorted_sets),
//   score(key, user), timeline(key) read what apply wrote.
// - remove(key) drops the total, the ranking and the timeline (the broadcast's counts are in the
// database).
//   Whether batch ids applied before it are still remembered after is unspecified: embedded
//   drops them, Redis lets the per-user lists expire (love_seen_ttl) rather than scan for them.
// - key: within the key limits with a non-empty hash tag ("love|live|{b42}"); the backend
//   derives its keys from it (same tag, same slot). Limits: at most max_love_apply batches
//   per apply, taps 0..max_love_taps each, user and batch_id within the member limit.
#pragma once

#include "codec/love/love_journal.hpp"
#include "state/shared_state.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace livehouse::state {

inline constexpr std::size_t max_love_apply = 10'000;
inline constexpr std::int64_t max_love_taps = 1'000'000;
/// The latest video second a timeline keeps (a week).
inline constexpr std::int64_t max_love_second = 7 * 24 * 3600;
/// Batch ids remembered per user and broadcast: a retry must come within the user's next 32
/// batches (about a minute at one batch every 2 s).
inline constexpr std::size_t love_seen_window = 32;
/// Redis: a user's list of batch ids expires this long after their last batch.
inline constexpr std::chrono::seconds love_seen_ttl{3600};

/// A viewer's batch as counted: user, batch id, taps, taps per video second (the record type is
/// the journal codec's, codec/love/love_journal.hpp, so the embedded journal stores it as is).
using love_batch_entry = codec::love::counted_batch;

/// Taps per video second of a broadcast, by second ascending.
using love_timeline = std::vector<std::pair<std::int64_t, std::int64_t>>;

struct love_applied {
    std::vector<bool> counted; ///< one per batch, in order
    std::int64_t total = 0;    ///< the broadcast's total after the apply
};

class love_counts {
  public:
    virtual ~love_counts() = default;
    virtual void apply(std::string key, std::vector<love_batch_entry> batches,
                       completion<love_applied> done) = 0;
    virtual void total(std::string key, completion<std::int64_t> done) = 0;
    virtual void top(std::string key, std::size_t n,
                     completion<std::vector<scored_member>> done) = 0;
    virtual void score(std::string key, std::string user,
                       completion<std::optional<std::int64_t>> done) = 0;
    virtual void timeline(std::string key, completion<love_timeline> done) = 0;
    virtual void remove(std::string key, completion<void> done) = 0;
};

} // namespace livehouse::state
