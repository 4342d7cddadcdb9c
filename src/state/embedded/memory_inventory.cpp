// memory_inventory: stock / sold / holds per key, never below zero.
#include "state/embedded/memory_inventory.hpp"

#include "media/ids.hpp"
#include "state/embedded/limits.hpp"

#include <algorithm>

namespace livehouse::state::embedded {

namespace {

std::int64_t available_of(std::int64_t stock, std::int64_t sold, std::int64_t held) {
    return std::max<std::int64_t>(0, stock - sold - held);
}

} // namespace

std::int64_t memory_inventory::drop(item& it, std::unordered_map<std::string, hold>::iterator h) {
    const auto quantity = h->second.quantity;
    it.held -= quantity;
    it.expiries.erase(h->second.expiry);
    it.holds.erase(h);
    return quantity;
}

void memory_inventory::expire(item& it) const {
    const auto now = clock_.now();
    while (!it.expiries.empty() && it.expiries.begin()->first <= now) {
        drop(it, it.holds.find(it.expiries.begin()->second));
    }
}

void memory_inventory::set_stock(std::string key, std::int64_t stock,
                                 completion<std::int64_t> done) {
    if (auto e = check_key(key)) {
        done(std::move(*e));
        return;
    }
    if (stock < 0) {
        done(core::make_error("state: stock must be >= 0"));
        return;
    }
    std::int64_t avail = 0;
    {
        auto& s = stripes_[stripe_of(key)];
        std::lock_guard lock(s.mutex);
        auto& it = s.items[key];
        expire(it);
        it.stock = stock;
        avail = available_of(it.stock, it.sold, it.held);
    }
    done(avail);
}

void memory_inventory::reserve(std::string key, std::int64_t n, std::chrono::milliseconds ttl,
                               completion<std::optional<std::string>> done) {
    if (auto e = check_key(key)) {
        done(std::move(*e));
        return;
    }
    if (n < 1 || ttl.count() <= 0) {
        done(core::make_error("state: reserve needs n >= 1 and a positive hold time"));
        return;
    }
    std::optional<std::string> id;
    {
        auto& s = stripes_[stripe_of(key)];
        std::lock_guard lock(s.mutex);
        auto found = s.items.find(key);
        if (found != s.items.end()) {
            auto& it = found->second;
            expire(it);
            if (available_of(it.stock, it.sold, it.held) >= n) {
                // Unpredictable, like a stream key: a hold id is a capability.
                id = media::make_stream_key();
                const auto expiry = it.expiries.emplace(clock_.now() + ttl, *id);
                it.holds.emplace(*id, hold{n, expiry});
                it.held += n;
            }
        }
    }
    done(std::move(id));
}

void memory_inventory::settle(std::string key, std::string hold_id, bool confirm,
                              completion<bool> done) {
    if (auto e = check_key(key); e || (e = check_member(hold_id))) {
        done(std::move(*e));
        return;
    }
    bool settled = false;
    {
        auto& s = stripes_[stripe_of(key)];
        std::lock_guard lock(s.mutex);
        if (auto found = s.items.find(key); found != s.items.end()) {
            auto& it = found->second;
            expire(it);
            if (auto h = it.holds.find(hold_id); h != it.holds.end()) {
                const auto quantity = drop(it, h);
                if (confirm) {
                    it.sold += quantity;
                }
                settled = true;
            }
        }
    }
    done(settled);
}

void memory_inventory::confirm(std::string key, std::string hold_id, completion<bool> done) {
    settle(std::move(key), std::move(hold_id), true, std::move(done));
}

void memory_inventory::release(std::string key, std::string hold_id, completion<bool> done) {
    settle(std::move(key), std::move(hold_id), false, std::move(done));
}

void memory_inventory::available(std::string key, completion<std::int64_t> done) {
    if (auto e = check_key(key)) {
        done(std::move(*e));
        return;
    }
    std::int64_t avail = 0;
    {
        auto& s = stripes_[stripe_of(key)];
        std::lock_guard lock(s.mutex);
        if (auto found = s.items.find(key); found != s.items.end()) {
            expire(found->second);
            avail = available_of(found->second.stock, found->second.sold, found->second.held);
        }
    }
    done(avail);
}

void memory_inventory::sold(std::string key, completion<std::int64_t> done) {
    if (auto e = check_key(key)) {
        done(std::move(*e));
        return;
    }
    std::int64_t n = 0;
    {
        auto& s = stripes_[stripe_of(key)];
        std::lock_guard lock(s.mutex);
        if (auto found = s.items.find(key); found != s.items.end()) {
            n = found->second.sold;
        }
    }
    done(n);
}

} // namespace livehouse::state::embedded
