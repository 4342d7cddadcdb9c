// memory_sorted_sets: ZINCRBY / ZREVRANGE WITHSCORES / ZREVRANK / ZSCORE / DEL on an
// order-statistics tree per key (see memory_state.hpp).
#include "state/embedded/memory_state.hpp"
#include "state/limits.hpp"

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
    const bool overflow = sets_.with(key, [&](auto& m) {
        auto& z = m[key];
        if (!z) {
            z = std::make_unique<zset>();
        }
        auto it = z->scores.find(member);
        const std::int64_t old = it == z->scores.end() ? 0 : it->second;
        // A new member starts at 0, which cannot overflow: a refusal creates nothing.
        if (__builtin_add_overflow(old, by, &value)) {
            return true;
        }
        if (it != z->scores.end()) {
            z->tree.erase(entry{old, member});
            it->second = value;
        } else {
            z->scores.emplace(member, value);
        }
        z->tree.insert(entry{value, std::move(member)});
        return false;
    });
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
    done(sets_.with(key, [&](auto& m) {
        std::vector<scored_member> out;
        if (auto it = m.find(key); it != m.end()) {
            const auto& tree = it->second->tree;
            out.reserve(std::min(n, tree.size()));
            for (auto t = tree.end(); t != tree.begin() && out.size() < n;) {
                --t;
                out.push_back({t->second, t->first});
            }
        }
        return out;
    }));
}

void memory_sorted_sets::rank(std::string key, std::string member,
                              completion<std::optional<std::size_t>> done) {
    if (auto e = check_key(key); e || (e = check_member(member))) {
        done(std::move(*e));
        return;
    }
    done(sets_.with(key, [&](auto& m) -> std::optional<std::size_t> {
        auto it = m.find(key);
        if (it == m.end()) {
            return std::nullopt;
        }
        const auto& z = *it->second;
        auto s = z.scores.find(member);
        if (s == z.scores.end()) {
            return std::nullopt;
        }
        // order_of_key: entries strictly before ours in ascending order.
        return z.tree.size() - 1 - z.tree.order_of_key(entry{s->second, member});
    }));
}

void memory_sorted_sets::score(std::string key, std::string member,
                               completion<std::optional<std::int64_t>> done) {
    if (auto e = check_key(key); e || (e = check_member(member))) {
        done(std::move(*e));
        return;
    }
    done(sets_.with(key, [&](auto& m) -> std::optional<std::int64_t> {
        auto it = m.find(key);
        if (it == m.end()) {
            return std::nullopt;
        }
        auto s = it->second->scores.find(member);
        return s == it->second->scores.end() ? std::nullopt : std::optional(s->second);
    }));
}

void memory_sorted_sets::remove(std::string key, completion<bool> done) {
    if (auto e = check_key(key)) {
        done(std::move(*e));
        return;
    }
    done(sets_.with(key, [&](auto& m) { return m.erase(key) > 0; }));
}

} // namespace livehouse::state::embedded
