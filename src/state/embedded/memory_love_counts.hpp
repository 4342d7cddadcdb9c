// Love counts in memory (state/love_counts.hpp): per key, the total, the ranking (the
// order-statistics tree of memory_sorted_sets, under "<key>:ranking") and each user's last
// love_seen_window batch ids. An apply runs under the key's stripe lock, so it is atomic
// against other applies of the broadcast; a read may see an apply's total before its
// ranking (the ranking is a separate structure, updated right after, under the same lock).
#pragma once

#include "state/embedded/memory_state.hpp"
#include "state/love_counts.hpp"

#include <deque>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

namespace livehouse::state::embedded {

/// Everything memory_love_counts holds for one key (what a journal snapshot stores).
using love_key_state = codec::love::journal_state;

class memory_love_counts final : public love_counts {
  public:
    void apply(std::string key, std::vector<love_batch_entry> batches,
               completion<love_applied> done) override;
    void total(std::string key, completion<std::int64_t> done) override;
    void top(std::string key, std::size_t n, completion<std::vector<scored_member>> done) override;
    void score(std::string key, std::string user,
               completion<std::optional<std::int64_t>> done) override;
    void timeline(std::string key, completion<love_timeline> done) override;
    void remove(std::string key, completion<void> done) override;

    /// apply() without the completion: the result, synchronously.
    core::result<love_applied> apply_now(const std::string& key,
                                         const std::vector<love_batch_entry>& batches);
    /// The key's whole state (users in no particular order); empty for an unknown key.
    love_key_state export_key(const std::string& key);
    /// Replaces the key's state with `s` (as export_key gave it).
    void import_key(const std::string& key, const love_key_state& s);

  private:
    struct broadcast_counts {
        std::int64_t total = 0;
        std::map<std::int64_t, std::int64_t> timeline;                 ///< video second -> taps
        std::unordered_map<std::string, std::deque<std::string>> seen; ///< user -> batch ids
    };
    striped_map<broadcast_counts> counts_;
    memory_sorted_sets ranking_;
};

} // namespace livehouse::state::embedded
