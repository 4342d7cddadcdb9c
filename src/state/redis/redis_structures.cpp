// Counters, sorted sets and sets on Redis (redis_state.hpp).
#include "state/limits.hpp"
#include "state/redis/call.hpp"
#include "state/redis/redis_state.hpp"

namespace livehouse::state::redis {

// --- counters ----------------------------------------------------------------------------------

void redis_counters::incrby(std::string key, std::int64_t by, completion<std::int64_t> done) {
    if (auto e = check_key(key)) {
        done(std::move(*e));
        return;
    }
    auto route = key;
    call(*client_, {"INCRBY", std::move(key), std::to_string(by)}, std::move(route),
         std::move(done), as_int);
}

void redis_counters::get(std::string key, completion<std::int64_t> done) {
    if (auto e = check_key(key)) {
        done(std::move(*e));
        return;
    }
    auto route = key;
    call(*client_, {"GET", std::move(key)}, std::move(route), std::move(done),
         [](reply r) -> core::result<std::int64_t> {
             return r.is_nil() ? core::result<std::int64_t>(0) : to_int(r);
         });
}

void redis_counters::remove(std::string key, completion<bool> done) {
    if (auto e = check_key(key)) {
        done(std::move(*e));
        return;
    }
    auto route = key;
    call(*client_, {"DEL", std::move(key)}, std::move(route), std::move(done), as_bool);
}

// --- sorted sets -------------------------------------------------------------------------------

void redis_sorted_sets::increment(std::string key, std::string member, std::int64_t by,
                                  completion<std::int64_t> done) {
    if (auto e = check_key(key); e || (e = check_member(member))) {
        done(std::move(*e));
        return;
    }
    auto route = key;
    call(*client_, {"ZINCRBY", std::move(key), std::to_string(by), std::move(member)},
         std::move(route), std::move(done), as_int);
}

void redis_sorted_sets::top(std::string key, std::size_t n,
                            completion<std::vector<scored_member>> done) {
    if (auto e = check_key(key)) {
        done(std::move(*e));
        return;
    }
    if (n == 0) {
        done(std::vector<scored_member>{}); // ZREVRANGE 0 -1 would mean "all"
        return;
    }
    auto route = key;
    // ZREVRANGE: "Descending lexicographical order is used for elements with equal score."
    call(*client_, {"ZREVRANGE", std::move(key), "0", std::to_string(n - 1), "WITHSCORES"},
         std::move(route), std::move(done),
         [](reply r) -> core::result<std::vector<scored_member>> {
             if (!r.is_array() || r.elements.size() % 2 != 0) {
                 return core::make_error("redis: unexpected ZREVRANGE reply");
             }
             std::vector<scored_member> out;
             out.reserve(r.elements.size() / 2);
             for (std::size_t i = 0; i < r.elements.size(); i += 2) {
                 auto s = to_int(r.elements[i + 1]);
                 if (!s) {
                     return s.err();
                 }
                 out.push_back({std::move(r.elements[i].str), *s});
             }
             return out;
         });
}

void redis_sorted_sets::rank(std::string key, std::string member,
                             completion<std::optional<std::size_t>> done) {
    if (auto e = check_key(key); e || (e = check_member(member))) {
        done(std::move(*e));
        return;
    }
    auto route = key;
    call(*client_, {"ZREVRANK", std::move(key), std::move(member)}, std::move(route),
         std::move(done), [](reply r) -> core::result<std::optional<std::size_t>> {
             if (r.is_nil()) {
                 return std::optional<std::size_t>{};
             }
             auto v = to_int(r);
             if (!v) {
                 return v.err();
             }
             return std::optional<std::size_t>(static_cast<std::size_t>(*v));
         });
}

void redis_sorted_sets::score(std::string key, std::string member,
                              completion<std::optional<std::int64_t>> done) {
    if (auto e = check_key(key); e || (e = check_member(member))) {
        done(std::move(*e));
        return;
    }
    auto route = key;
    call(*client_, {"ZSCORE", std::move(key), std::move(member)}, std::move(route), std::move(done),
         [](reply r) -> core::result<std::optional<std::int64_t>> {
             if (r.is_nil()) {
                 return std::optional<std::int64_t>{};
             }
             auto v = to_int(r);
             if (!v) {
                 return v.err();
             }
             return std::optional<std::int64_t>(*v);
         });
}

void redis_sorted_sets::remove(std::string key, completion<bool> done) {
    if (auto e = check_key(key)) {
        done(std::move(*e));
        return;
    }
    auto route = key;
    call(*client_, {"DEL", std::move(key)}, std::move(route), std::move(done), as_bool);
}

// --- sets --------------------------------------------------------------------------------------

void redis_sets::add(std::string key, std::string member, completion<bool> done) {
    if (auto e = check_key(key); e || (e = check_member(member))) {
        done(std::move(*e));
        return;
    }
    auto route = key;
    call(*client_, {"SADD", std::move(key), std::move(member)}, std::move(route), std::move(done),
         as_bool);
}

void redis_sets::contains(std::string key, std::string member, completion<bool> done) {
    if (auto e = check_key(key); e || (e = check_member(member))) {
        done(std::move(*e));
        return;
    }
    auto route = key;
    call(*client_, {"SISMEMBER", std::move(key), std::move(member)}, std::move(route),
         std::move(done), as_bool);
}

void redis_sets::size(std::string key, completion<std::size_t> done) {
    if (auto e = check_key(key)) {
        done(std::move(*e));
        return;
    }
    auto route = key;
    call(*client_, {"SCARD", std::move(key)}, std::move(route), std::move(done),
         [](reply r) -> core::result<std::size_t> {
             auto v = to_int(r);
             if (!v) {
                 return v.err();
             }
             return static_cast<std::size_t>(*v);
         });
}

void redis_sets::remove(std::string key, completion<bool> done) {
    if (auto e = check_key(key)) {
        done(std::move(*e));
        return;
    }
    auto route = key;
    call(*client_, {"DEL", std::move(key)}, std::move(route), std::move(done), as_bool);
}

void redis_sets::remove_member(std::string key, std::string member, completion<bool> done) {
    if (auto e = check_key(key); e || (e = check_member(member))) {
        done(std::move(*e));
        return;
    }
    auto route = key;
    call(*client_, {"SREM", std::move(key), std::move(member)}, std::move(route), std::move(done),
         as_bool);
}

} // namespace livehouse::state::redis
