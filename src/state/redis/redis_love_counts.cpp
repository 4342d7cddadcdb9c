// Love counts on Redis (redis_state.hpp for the layout). apply is one Lua script: for each
// batch, LPOS on the user's list of recent batch ids; if absent, LPUSH + LTRIM + EXPIRE it and
// ZINCRBY the ranking; then one INCRBY of the total by what was counted. Atomic on the shard
// that owns K's hash tag: a node dying mid-flush leaves either all of its batches counted or
// none (a script is not interrupted; it is not rolled back on an error, which is why every
// argument is checked before it is sent). The per-user lists are not declared in KEYS (their
// names depend on the batches); they carry K's hash tag, so a cluster finds them in K's slot.
// LPOS needs Redis 6.0.6 or newer (Debian 12: 7.0).
#include "state/love_counts_checks.hpp"
#include "state/redis/call.hpp"
#include "state/redis/redis_state.hpp"
#include "state/redis/script.hpp"

#include <algorithm>
#include <fmt/format.h>

namespace livehouse::state::redis {

namespace {

// KEYS: total, ranking, timeline. ARGV: window, ttl seconds, seen-list prefix, then per batch:
// user, batch id, taps, per-second counts ("second:count second:count ..."). Returns
// {total, {1|0 per batch}}.
constexpr std::string_view apply_script = R"lua(
local window = tonumber(ARGV[1])
local ttl = tonumber(ARGV[2])
local prefix = ARGV[3]
local counted = {}
local add = 0
for i = 4, #ARGV, 4 do
  local user, id, taps, secs = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2]), ARGV[i + 3]
  local seen = prefix .. user
  if redis.call('LPOS', seen, id) then
    counted[#counted + 1] = 0
  else
    redis.call('LPUSH', seen, id)
    redis.call('LTRIM', seen, 0, window - 1)
    redis.call('EXPIRE', seen, ttl)
    if taps > 0 then redis.call('ZINCRBY', KEYS[2], taps, user) end
    for s, c in string.gmatch(secs, '(%d+):(%d+)') do redis.call('HINCRBY', KEYS[3], s, c) end
    add = add + taps
    counted[#counted + 1] = 1
  end
end
local total = redis.call('INCRBY', KEYS[1], add)
return {total, counted}
)lua";

const script& applier() {
    static const script s{std::string(apply_script)};
    return s;
}

std::string total_key(const std::string& key) {
    return key + ":total";
}
std::string ranking_key(const std::string& key) {
    return key + ":ranking";
}
std::string timeline_key(const std::string& key) {
    return key + ":timeline";
}
std::string seen_prefix(const std::string& key) {
    return key + ":seen:";
}

} // namespace

void redis_love_counts::apply(std::string key, std::vector<love_batch_entry> batches,
                              completion<love_applied> done) {
    if (auto e = check_love_apply(key, batches)) {
        done(std::move(*e));
        return;
    }
    std::vector<std::string> args;
    args.reserve(3 + 4 * batches.size());
    args.push_back(std::to_string(love_seen_window));
    args.push_back(std::to_string(love_seen_ttl.count()));
    args.push_back(seen_prefix(key));
    for (auto& b : batches) {
        args.push_back(std::move(b.user));
        args.push_back(std::move(b.batch_id));
        args.push_back(std::to_string(b.taps));
        std::string secs;
        for (const auto& [second, count] : b.per_second) {
            fmt::format_to(std::back_inserter(secs), "{}{}:{}", secs.empty() ? "" : " ", second,
                           count);
        }
        args.push_back(std::move(secs));
    }
    const auto n = batches.size();
    applier().run(*client_, key, {total_key(key), ranking_key(key), timeline_key(key)}, args,
                  complete_with<love_applied>(
                      std::move(done), [n](const reply& r) -> core::result<love_applied> {
                          if (!r.is_array() || r.elements.size() != 2 ||
                              !r.elements[1].is_array() || r.elements[1].elements.size() != n) {
                              return core::make_error("redis: unexpected love apply reply");
                          }
                          auto total = to_int(r.elements[0]);
                          if (!total) {
                              return total.err();
                          }
                          love_applied out;
                          out.total = *total;
                          out.counted.reserve(n);
                          for (const auto& c : r.elements[1].elements) {
                              auto v = to_int(c);
                              if (!v) {
                                  return v.err();
                              }
                              out.counted.push_back(*v == 1);
                          }
                          return out;
                      }));
}

void redis_love_counts::total(std::string key, completion<std::int64_t> done) {
    if (auto e = check_love_key(key)) {
        done(std::move(*e));
        return;
    }
    counters_.get(total_key(key), std::move(done));
}

void redis_love_counts::top(std::string key, std::size_t n,
                            completion<std::vector<scored_member>> done) {
    if (auto e = check_love_key(key)) {
        done(std::move(*e));
        return;
    }
    ranking_.top(ranking_key(key), n, std::move(done));
}

void redis_love_counts::score(std::string key, std::string user,
                              completion<std::optional<std::int64_t>> done) {
    if (auto e = check_love_key(key)) {
        done(std::move(*e));
        return;
    }
    ranking_.score(ranking_key(key), std::move(user), std::move(done));
}

void redis_love_counts::timeline(std::string key, completion<love_timeline> done) {
    if (auto e = check_love_key(key)) {
        done(std::move(*e));
        return;
    }
    auto route = key;
    call(*client_, {"HGETALL", timeline_key(key)}, std::move(route), std::move(done),
         [](const reply& r) -> core::result<love_timeline> {
             if (!r.is_array() || r.elements.size() % 2 != 0) {
                 return core::make_error("redis: unexpected HGETALL reply");
             }
             love_timeline out;
             out.reserve(r.elements.size() / 2);
             for (std::size_t i = 0; i < r.elements.size(); i += 2) {
                 auto s = to_int(r.elements[i]);
                 auto c = to_int(r.elements[i + 1]);
                 if (!s || !c) {
                     return core::make_error("redis: unexpected love timeline entry");
                 }
                 out.emplace_back(*s, *c);
             }
             std::sort(out.begin(), out.end());
             return out;
         });
}

void redis_love_counts::remove(std::string key, completion<void> done) {
    if (auto e = check_love_key(key)) {
        done(std::move(*e));
        return;
    }
    auto route = key;
    call(*client_, {"DEL", total_key(key), ranking_key(key), timeline_key(key)}, std::move(route),
         std::move(done), [](const reply&) -> core::result<void> { return {}; });
}

} // namespace livehouse::state::redis
