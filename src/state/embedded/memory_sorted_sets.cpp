// memory_sorted_sets: ZINCRBY / ZREVRANGE WITHSCORES / ZREVRANK / ZSCORE / DEL on an
// order-statistics tree per key (see memory_state.hpp).
#include "state/embedded/limits.hpp"
#include "state/embedded/memory_state.hpp"

#include <ext/pb_ds/assoc_container.hpp>
#include <ext/pb_ds/tree_policy.hpp>
#include <utility>

namespace livehouse::state::embedded {

namespace {

// Ascending (score, member): the contract's order (score descending, ties by member
// descending) is this tree read from the end.
using entry = std::pair<std::int64_t, std::string>;
using order_tree =
    __gnu_pbds::tree<entry, __gnu_pbds::null_type, std::less<>, __gnu_pbds::rb_tree_tag,
                     __gnu_pbds::tree_order_statistics_node_update>;

} // namespace

struct memory_sorted_sets::zset {
    order_tree tree;
    std::unordered_map<std::string, std::int64_t> scores;
};

memory_sorted_sets::memory_sorted_sets() = default;
memory_sorted_sets::~memory_sorted_sets() = default;

void memory_sorted_sets::increment(std::string key, std::string member, std::int64_t by,
                                   completion<std::int64_t> done) {
    if (auto e = check_key(key); e || (e = check_member(member))) {
        done(std::move(*e));
        return;
    }
    std::int64_t value = 0;
    bool overflow = false;
    {
        auto& s = stripes_[stripe_of(key)];
        std::lock_guard lock(s.mutex);
        auto& z = s.sets[key];
        if (!z) {
            z = std::make_unique<zset>();
        }
        auto it = z->scores.find(member);
        const std::int64_t old = it == z->scores.end() ? 0 : it->second;
        overflow = __builtin_add_overflow(old, by, &value);
        if (!overflow) {
            if (it != z->scores.end()) {
                z->tree.erase(entry{old, member});
                it->second = value;
            } else {
                z->scores.emplace(member, value);
            }
            z->tree.insert(entry{value, std::move(member)});
        } // (a new member starts at 0, which cannot overflow: a refusal creates nothing)
    }
    if (overflow) {
        done(core::make_error("state: increment would overflow the score"));
        return;
    }
    done(value);
}

void memory_sorted_sets::top(std::string key, std::size_t n,
                             completion<std::vector<scored_member>> done) {
    if (auto e = check_key(key)) {
        done(std::move(*e));
        return;
    }
    std::vector<scored_member> out;
    {
        auto& s = stripes_[stripe_of(key)];
        std::lock_guard lock(s.mutex);
        if (auto it = s.sets.find(key); it != s.sets.end()) {
            const auto& tree = it->second->tree;
            out.reserve(std::min(n, tree.size()));
            for (auto t = tree.end(); t != tree.begin() && out.size() < n;) {
                --t;
                out.push_back({t->second, t->first});
            }
        }
    }
    done(std::move(out));
}

void memory_sorted_sets::rank(std::string key, std::string member,
                              completion<std::optional<std::size_t>> done) {
    if (auto e = check_key(key); e || (e = check_member(member))) {
        done(std::move(*e));
        return;
    }
    std::optional<std::size_t> r;
    {
        auto& s = stripes_[stripe_of(key)];
        std::lock_guard lock(s.mutex);
        if (auto it = s.sets.find(key); it != s.sets.end()) {
            const auto& z = *it->second;
            if (auto m = z.scores.find(member); m != z.scores.end()) {
                // order_of_key: entries strictly before ours in ascending order.
                r = z.tree.size() - 1 - z.tree.order_of_key(entry{m->second, member});
            }
        }
    }
    done(r);
}

void memory_sorted_sets::score(std::string key, std::string member,
                               completion<std::optional<std::int64_t>> done) {
    if (auto e = check_key(key); e || (e = check_member(member))) {
        done(std::move(*e));
        return;
    }
    std::optional<std::int64_t> v;
    {
        auto& s = stripes_[stripe_of(key)];
        std::lock_guard lock(s.mutex);
        if (auto it = s.sets.find(key); it != s.sets.end()) {
            if (auto m = it->second->scores.find(member); m != it->second->scores.end()) {
                v = m->second;
            }
        }
    }
    done(v);
}

void memory_sorted_sets::remove(std::string key, completion<bool> done) {
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
