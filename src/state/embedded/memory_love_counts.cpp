// memory_love_counts (see memory_love_counts.hpp).
#include "state/embedded/memory_love_counts.hpp"

#include "state/love_counts_checks.hpp"

#include <algorithm>

namespace livehouse::state::embedded {

namespace {
std::string ranking_key(const std::string& key) {
    return key + ":ranking";
}
} // namespace

void memory_love_counts::apply(std::string key, std::vector<love_batch_entry> batches,
                               completion<love_applied> done) {
    done(apply_now(key, batches));
}

core::result<love_applied>
memory_love_counts::apply_now(const std::string& key,
                              const std::vector<love_batch_entry>& batches) {
    if (auto e = check_love_apply(key, batches)) {
        return std::move(*e);
    }
    love_applied out;
    out.counted.reserve(batches.size());
    std::optional<core::error> failed;
    counts_.with(key, [&](auto& m) {
        auto& c = m[key];
        for (const auto& b : batches) {
            auto& seen = c.seen[b.user];
            if (std::find(seen.begin(), seen.end(), b.batch_id) != seen.end()) {
                out.counted.push_back(false);
                continue;
            }
            seen.push_back(b.batch_id);
            if (seen.size() > love_seen_window) {
                seen.pop_front();
            }
            out.counted.push_back(true);
            c.total += b.taps;
            for (const auto& [second, count] : b.per_second) {
                c.timeline[second] += count;
            }
            if (b.taps > 0) {
                // Synchronous (memory_sorted_sets completes before returning), inside the
                // stripe lock: the ranking moves with the total.
                ranking_.increment(ranking_key(key), b.user, b.taps,
                                   [&](core::result<std::int64_t> r) {
                                       if (!r && !failed) {
                                           failed = r.err();
                                       }
                                   });
            }
        }
        out.total = c.total;
    });
    if (failed) {
        return std::move(*failed);
    }
    return out;
}

love_key_state memory_love_counts::export_key(const std::string& key) {
    love_key_state out;
    counts_.with(key, [&](auto& m) {
        const auto it = m.find(key);
        if (it == m.end()) {
            return;
        }
        const auto& c = it->second;
        out.total = c.total;
        out.timeline.assign(c.timeline.begin(), c.timeline.end());
        out.users.reserve(c.seen.size());
        for (const auto& [user, ids] : c.seen) {
            love_key_state::user u{user, 0, {ids.begin(), ids.end()}};
            // Synchronous, inside the stripe lock (as in apply_now): no apply moves it meanwhile.
            ranking_.score(ranking_key(key), user,
                           [&](core::result<std::optional<std::int64_t>> r) {
                               if (r && *r) {
                                   u.score = **r;
                               }
                           });
            out.users.push_back(std::move(u));
        }
    });
    return out;
}

void memory_love_counts::import_key(const std::string& key, const love_key_state& s) {
    ranking_.remove(ranking_key(key), [](core::result<bool>) {});
    counts_.with(key, [&](auto& m) {
        auto& c = m[key];
        c = broadcast_counts{};
        c.total = s.total;
        c.timeline.insert(s.timeline.begin(), s.timeline.end());
        for (const auto& u : s.users) {
            c.seen[u.id].assign(u.seen.begin(), u.seen.end());
            if (u.score != 0) {
                ranking_.increment(ranking_key(key), u.id, u.score,
                                   [](core::result<std::int64_t>) {});
            }
        }
    });
}

void memory_love_counts::total(std::string key, completion<std::int64_t> done) {
    if (auto e = check_love_key(key)) {
        done(std::move(*e));
        return;
    }
    done(counts_.with(key, [&](auto& m) -> std::int64_t {
        const auto it = m.find(key);
        return it == m.end() ? 0 : it->second.total;
    }));
}

void memory_love_counts::top(std::string key, std::size_t n,
                             completion<std::vector<scored_member>> done) {
    if (auto e = check_love_key(key)) {
        done(std::move(*e));
        return;
    }
    ranking_.top(ranking_key(key), n, std::move(done));
}

void memory_love_counts::score(std::string key, std::string user,
                               completion<std::optional<std::int64_t>> done) {
    if (auto e = check_love_key(key)) {
        done(std::move(*e));
        return;
    }
    ranking_.score(ranking_key(key), std::move(user), std::move(done));
}

void memory_love_counts::timeline(std::string key, completion<love_timeline> done) {
    if (auto e = check_love_key(key)) {
        done(std::move(*e));
        return;
    }
    done(counts_.with(key, [&](auto& m) {
        love_timeline out;
        if (const auto it = m.find(key); it != m.end()) {
            out.assign(it->second.timeline.begin(), it->second.timeline.end());
        }
        return out;
    }));
}

void memory_love_counts::remove(std::string key, completion<void> done) {
    if (auto e = check_love_key(key)) {
        done(std::move(*e));
        return;
    }
    counts_.with(key, [&](auto& m) { m.erase(key); });
    ranking_.remove(ranking_key(key), [done = std::move(done)](core::result<bool> r) {
        if (!r) {
            done(r.err());
            return;
        }
        done({});
    });
}

} // namespace livehouse::state::embedded
