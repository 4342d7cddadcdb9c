// memory_counters: INCRBY / GET / DEL on a striped map.
#include "state/embedded/memory_state.hpp"
#include "state/limits.hpp"

namespace livehouse::state::embedded {

void memory_counters::incrby(std::string key, std::int64_t by, completion<std::int64_t> done) {
    if (auto e = check_key(key)) {
        done(std::move(*e));
        return;
    }
    std::int64_t value = 0;
    const bool overflow = values_.with(key, [&](auto& m) {
        auto& v = m[key];
        // Redis (incrDecrCommand): "increment or decrement would overflow" leaves the value.
        // A new counter is 0 and 0 + by cannot overflow, so a refusal never leaves a new key.
        if (__builtin_add_overflow(v, by, &value)) {
            return true;
        }
        v = value;
        return false;
    });
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
    done(values_.with(key, [&](auto& m) -> std::int64_t {
        auto it = m.find(key);
        return it == m.end() ? 0 : it->second;
    }));
}

void memory_counters::remove(std::string key, completion<bool> done) {
    if (auto e = check_key(key)) {
        done(std::move(*e));
        return;
    }
    done(values_.with(key, [&](auto& m) { return m.erase(key) > 0; }));
}

} // namespace livehouse::state::embedded
