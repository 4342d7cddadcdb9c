// memory_sets: SADD / SISMEMBER / SCARD / DEL on striped hash maps of hash sets.
#include "state/embedded/limits.hpp"
#include "state/embedded/memory_state.hpp"

namespace livehouse::state::embedded {

void memory_sets::add(std::string key, std::string member, completion<bool> done) {
    if (auto e = check_key(key); e || (e = check_member(member))) {
        done(std::move(*e));
        return;
    }
    bool added = false;
    {
        auto& s = stripes_[stripe_of(key)];
        std::lock_guard lock(s.mutex);
        added = s.sets[key].insert(std::move(member)).second;
    }
    done(added);
}

void memory_sets::contains(std::string key, std::string member, completion<bool> done) {
    if (auto e = check_key(key); e || (e = check_member(member))) {
        done(std::move(*e));
        return;
    }
    bool found = false;
    {
        auto& s = stripes_[stripe_of(key)];
        std::lock_guard lock(s.mutex);
        if (auto it = s.sets.find(key); it != s.sets.end()) {
            found = it->second.contains(member);
        }
    }
    done(found);
}

void memory_sets::size(std::string key, completion<std::size_t> done) {
    if (auto e = check_key(key)) {
        done(std::move(*e));
        return;
    }
    std::size_t n = 0;
    {
        auto& s = stripes_[stripe_of(key)];
        std::lock_guard lock(s.mutex);
        if (auto it = s.sets.find(key); it != s.sets.end()) {
            n = it->second.size();
        }
    }
    done(n);
}

void memory_sets::remove(std::string key, completion<bool> done) {
    if (auto e = check_key(key)) {
        done(std::move(*e));
        return;
    }
    bool existed = false;
    {
        auto& s = stripes_[stripe_of(key)];
        std::lock_guard lock(s.mutex);
        existed = s.sets.erase(key) > 0;
    }
    done(existed);
}

} // namespace livehouse::state::embedded
