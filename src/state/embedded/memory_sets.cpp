// memory_sets: SADD / SISMEMBER / SCARD / DEL / SREM on a striped map of hash sets.
#include "state/embedded/memory_state.hpp"
#include "state/limits.hpp"

namespace livehouse::state::embedded {

void memory_sets::add(std::string key, std::string member, completion<bool> done) {
    if (auto e = check_key(key); e || (e = check_member(member))) {
        done(std::move(*e));
        return;
    }
    done(sets_.with(key, [&](auto& m) { return m[key].insert(std::move(member)).second; }));
}

void memory_sets::contains(std::string key, std::string member, completion<bool> done) {
    if (auto e = check_key(key); e || (e = check_member(member))) {
        done(std::move(*e));
        return;
    }
    done(sets_.with(key, [&](auto& m) {
        auto it = m.find(key);
        return it != m.end() && it->second.contains(member);
    }));
}

void memory_sets::size(std::string key, completion<std::size_t> done) {
    if (auto e = check_key(key)) {
        done(std::move(*e));
        return;
    }
    done(sets_.with(key, [&](auto& m) -> std::size_t {
        auto it = m.find(key);
        return it == m.end() ? 0 : it->second.size();
    }));
}

void memory_sets::remove(std::string key, completion<bool> done) {
    if (auto e = check_key(key)) {
        done(std::move(*e));
        return;
    }
    done(sets_.with(key, [&](auto& m) { return m.erase(key) > 0; }));
}

void memory_sets::remove_member(std::string key, std::string member, completion<bool> done) {
    if (auto e = check_key(key); e || (e = check_member(member))) {
        done(std::move(*e));
        return;
    }
    done(sets_.with(key, [&](auto& m) {
        auto it = m.find(key);
        if (it == m.end() || it->second.erase(member) == 0) {
            return false;
        }
        if (it->second.empty()) {
            m.erase(it); // as Redis: a set with no member does not exist
        }
        return true;
    }));
}

} // namespace livehouse::state::embedded
