// Atomic inventory: a stock of items (tickets, scratch cards, fan-meeting slots) that buyers
// hold for a limited time before they pay (seed 000: the ticket purchase flow reserve ->
// purchase). Never sells more than the stock, under any concurrency, on any backend.
// Embedded: one mutex per stripe of keys. Server backend (to come): one Lua script per
// operation in Redis, so each is atomic on the key's shard.
//
// available = stock - sold - items in live holds. A hold that is neither confirmed nor released
// within its time to live expires and its items become available again (checked when the key
// is next touched, so no timer is needed). Hold ids are unpredictable tokens; the services tie
// them to the user who made them.
#pragma once

#include "state/shared_state.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace livehouse::state {

class inventory {
  public:
    virtual ~inventory() = default;

    /// Sets the key's stock (items ever sellable, >= 0; sold and held items count against it,
    /// so lowering it below them leaves nothing available but undoes no sale). Completes with
    /// the number available afterwards.
    virtual void set_stock(std::string key, std::int64_t stock, completion<std::int64_t> done) = 0;
    /// Holds `n` (>= 1) items for `ttl`: completes with the hold's id, or nullopt when fewer than
    /// `n` are available (nothing is held then).
    virtual void reserve(std::string key, std::int64_t n, std::chrono::milliseconds ttl,
                         completion<std::optional<std::string>> done) = 0;
    /// Turns a live hold into a sale: true; false if the hold is unknown, expired or settled.
    virtual void confirm(std::string key, std::string hold_id, completion<bool> done) = 0;
    /// Gives a live hold's items back: true; false if unknown, expired or settled.
    virtual void release(std::string key, std::string hold_id, completion<bool> done) = 0;
    /// Items neither sold nor in a live hold.
    virtual void available(std::string key, completion<std::int64_t> done) = 0;
    /// Items sold (confirmed holds).
    virtual void sold(std::string key, completion<std::int64_t> done) = 0;
};

} // namespace livehouse::state
