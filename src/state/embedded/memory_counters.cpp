// memory_counters: INCRBY / GET / DEL on striped hash maps.
#include "state/embedded/limits.hpp"
#include "state/embedded/memory_state.hpp"

namespace livehouse::state::embedded {

void memory_counters::incrby(std::string key, std::int64_t by, completion<std::int64_t> done) {
    if (auto e = check_key(key)) {
        done(std::move(*e));
        return;
    }
    std::int64_t value = 0;
    bool overflow = false;
    {
        auto& s = stripes_[stripe_of(key)];
        std::lock_guard lock(s.mutex);
        auto& v = s.values[key];
        // Redis (incrDecrCommand): "increment or decrement would overflow" leaves the value.
        // A new counter is 0 and 0 + by cannot overflow, so a refusal never leaves a new key.
        overflow = __builtin_add_overflow(v, by, &value);
        if (!overflow) {
            v = value;
        }
    }
    if (overflow) {
        done(core::make_error("state: increment or decrement would overflow"));
        return;
    }
    done(value);
}

void memory_counters::get(std::string key, completion<std::int64_t> done) {
    if (auto e = check_key(key)) {
        done(std::move(*e));
        return;
    }
    std::int64_t value = 0;
    {
        auto& s = stripes_[stripe_of(key)];
        std::lock_guard lock(s.mutex);
        if (auto it = s.values.find(key); it != s.values.end()) {
            value = it->second;
        }
    }
    done(value);
}

void memory_counters::remove(std::string key, completion<bool> done) {
    if (auto e = check_key(key)) {
        done(std::move(*e));
        return;
    }
    bool existed = false;
    {
        auto& s = stripes_[stripe_of(key)];
        std::lock_guard lock(s.mutex);
        existed = s.values.erase(key) > 0;
    }
    done(existed);
}

} // namespace livehouse::state::embedded
