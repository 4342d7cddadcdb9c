// The embedded inventory (state/inventory.hpp's contract): per key, the stock, the sold count
// and the live holds, behind the key's stripe mutex; expired holds are dropped whenever the key
// is touched, before anything is counted.
#pragma once

#include "core/clock.hpp"
#include "state/embedded/memory_state.hpp"
#include "state/inventory.hpp"

#include <array>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>

namespace livehouse::state::embedded {

class memory_inventory final : public inventory {
  public:
    /// `clock` must outlive the inventory (tests pass a manual_clock to expire holds).
    explicit memory_inventory(const core::clock& clock) : clock_(clock) {}

    void set_stock(std::string key, std::int64_t stock, completion<std::int64_t> done) override;
    void reserve(std::string key, std::int64_t n, std::chrono::milliseconds ttl,
                 completion<std::optional<std::string>> done) override;
    void confirm(std::string key, std::string hold_id, completion<bool> done) override;
    void release(std::string key, std::string hold_id, completion<bool> done) override;
    void available(std::string key, completion<std::int64_t> done) override;
    void sold(std::string key, completion<std::int64_t> done) override;

  private:
    using expiry_index = std::multimap<std::chrono::steady_clock::time_point, std::string>;
    struct hold {
        std::int64_t quantity = 0;
        expiry_index::iterator expiry; ///< its entry in item::expiries
    };
    struct item {
        std::int64_t stock = 0;
        std::int64_t sold = 0;
        std::int64_t held = 0; ///< sum of the live holds' quantities
        std::unordered_map<std::string, hold> holds;
        /// Holds by expiry time: expiring is a walk from the front, O(expired), not a scan of
        /// every hold (a flash sale has thousands live at once).
        expiry_index expiries;
    };
    /// Drops the item's expired holds. Call with its shard locked.
    void expire(item& it) const;
    /// Runs fn(item*) with the key's shard locked and the item's expired holds dropped; the
    /// pointer is null when the key has no item. Returns fn's result.
    template <typename Fn> decltype(auto) with_item(const std::string& key, Fn&& fn) {
        return items_.with(key, [&](auto& m) {
            auto found = m.find(key);
            item* it = found == m.end() ? nullptr : &found->second;
            if (it != nullptr) {
                expire(*it);
            }
            return fn(it);
        });
    }
    /// Removes a hold (and its expiry entry) from the item; returns its quantity.
    static std::int64_t drop(item& it, std::unordered_map<std::string, hold>::iterator h);
    /// Settles a live hold (confirm: it becomes sold; release: it is given back).
    void settle(std::string key, std::string hold_id, bool confirm, completion<bool> done);

    const core::clock& clock_;
    striped_map<item> items_;
};

} // namespace livehouse::state::embedded
