// memory_inventory: stock / sold / holds per key, never below zero.
#include "state/embedded/memory_inventory.hpp"

#include "media/ids.hpp"
#include "state/limits.hpp"

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
    if (auto e = check_key(key); e || (e = check_stock(stock))) {
        done(std::move(*e));
        return;
    }
    done(items_.with(key, [&](auto& m) {
        auto& it = m[key];
        expire(it);
        it.stock = stock;
        return available_of(it.stock, it.sold, it.held);
    }));
}

void memory_inventory::reserve(std::string key, std::int64_t n, std::chrono::milliseconds ttl,
                               completion<std::optional<std::string>> done) {
    if (auto e = check_key(key); e || (e = check_reserve(n, ttl))) {
        done(std::move(*e));
        return;
    }
    done(with_item(key, [&](item* it) -> std::optional<std::string> {
        if (it == nullptr || available_of(it->stock, it->sold, it->held) < n) {
            return std::nullopt;
        }
        // Unpredictable, like a stream key: a hold id is a capability.
        auto id = media::make_stream_key();
        const auto expiry = it->expiries.emplace(clock_.now() + ttl, id);
        it->holds.emplace(id, hold{n, expiry});
        it->held += n;
        return id;
    }));
}

void memory_inventory::settle(std::string key, std::string hold_id, bool confirm,
                              completion<bool> done) {
    if (auto e = check_key(key); e || (e = check_member(hold_id))) {
        done(std::move(*e));
        return;
    }
    done(with_item(key, [&](item* it) {
        if (it == nullptr) {
            return false;
        }
        auto h = it->holds.find(hold_id);
        if (h == it->holds.end()) {
            return false;
        }
        const auto quantity = drop(*it, h);
        if (confirm) {
            it->sold += quantity;
        }
        return true;
    }));
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
    done(with_item(key, [](item* it) -> std::int64_t {
        return it == nullptr ? 0 : available_of(it->stock, it->sold, it->held);
    }));
}

void memory_inventory::sold(std::string key, completion<std::int64_t> done) {
    if (auto e = check_key(key)) {
        done(std::move(*e));
        return;
    }
    done(with_item(key, [](item* it) -> std::int64_t { return it == nullptr ? 0 : it->sold; }));
}

} // namespace livehouse::state::embedded
