// Atomic inventory on Redis: one Lua script per operation (redis_state.hpp for the layout).
// A script runs atomically on the shard that owns its keys ("{K}:..." share K's slot), so
// "available >= n, then hold n" cannot interleave with another buyer's: never oversold.
#include "media/ids.hpp"
#include "state/limits.hpp"
#include "state/redis/call.hpp"
#include "state/redis/redis_state.hpp"
#include "state/redis/script.hpp"

#include <fmt/format.h>

namespace livehouse::state::redis {

namespace {

// Shared head of every script: the server's clock in ms (TIME is allowed in scripts since
// Redis 5's effects replication), expiry of up to 1000 lapsed holds (more go on the next call;
// until then they still count as held, so the bound errs on the side of not overselling), and
// the item's numbers.
constexpr std::string_view prelude = R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lapsed = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 1000)
for _, id in ipairs(lapsed) do
  local q = tonumber(redis.call('HGET', KEYS[3], id) or '0')
  redis.call('HINCRBY', KEYS[1], 'held', -q)
  redis.call('HDEL', KEYS[3], id)
  redis.call('ZREM', KEYS[2], id)
end
local stock = tonumber(redis.call('HGET', KEYS[1], 'stock') or '0')
local sold = tonumber(redis.call('HGET', KEYS[1], 'sold') or '0')
local held = tonumber(redis.call('HGET', KEYS[1], 'held') or '0')
local available = stock - sold - held
if available < 0 then available = 0 end
)lua";

constexpr std::string_view set_stock_body = R"lua(
redis.call('HSET', KEYS[1], 'stock', ARGV[1])
available = tonumber(ARGV[1]) - sold - held
if available < 0 then available = 0 end
return available
)lua";

constexpr std::string_view reserve_body = R"lua(
local n = tonumber(ARGV[1])
if available < n then return false end
redis.call('HINCRBY', KEYS[1], 'held', n)
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[3])
redis.call('HSET', KEYS[3], ARGV[3], n)
return 1
)lua";

// ARGV[2] = 1 to confirm (a sale), 0 to release.
constexpr std::string_view settle_body = R"lua(
local q = redis.call('HGET', KEYS[3], ARGV[1])
if not q then return 0 end
q = tonumber(q)
redis.call('HINCRBY', KEYS[1], 'held', -q)
if ARGV[2] == '1' then redis.call('HINCRBY', KEYS[1], 'sold', q) end
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
)lua";

constexpr std::string_view available_body = "return available\n";
constexpr std::string_view sold_body = "return sold\n";

/// One script per operation: the shared prelude, then the operation's body.
script make_script(std::string_view body) {
    return script(std::string(prelude).append(body));
}

/// Runs `s` on K's three keys ({K}:inv, {K}:exp, {K}:qty: one slot, by the hash tag).
template <typename T, typename Convert>
void run(client& c, const script& s, const std::string& key, std::vector<std::string> args,
         completion<T> done, Convert convert) {
    const auto tag = fmt::format("{{{}}}", key);
    s.run(c, tag, {tag + ":inv", tag + ":exp", tag + ":qty"}, args,
          complete_with<T>(std::move(done), std::move(convert)));
}

} // namespace

void redis_inventory::set_stock(std::string key, std::int64_t stock,
                                completion<std::int64_t> done) {
    if (auto e = check_key(key); e || (e = check_stock(stock))) {
        done(std::move(*e));
        return;
    }
    static const auto s = make_script(set_stock_body);
    run(*client_, s, key, {std::to_string(stock)}, std::move(done), as_int);
}

void redis_inventory::reserve(std::string key, std::int64_t n, std::chrono::milliseconds ttl,
                              completion<std::optional<std::string>> done) {
    if (auto e = check_key(key); e || (e = check_reserve(n, ttl))) {
        done(std::move(*e));
        return;
    }
    static const auto s = make_script(reserve_body);
    // Unpredictable, like a stream key: a hold id is a capability.
    auto id = media::make_stream_key();
    run(*client_, s, key, {std::to_string(n), std::to_string(ttl.count()), id}, std::move(done),
        [id](reply r) -> core::result<std::optional<std::string>> {
            if (r.is_nil()) {
                return std::optional<std::string>{};
            }
            return std::optional<std::string>(id);
        });
}

void redis_inventory::confirm(std::string key, std::string hold_id, completion<bool> done) {
    if (auto e = check_key(key); e || (e = check_member(hold_id))) {
        done(std::move(*e));
        return;
    }
    static const auto s = make_script(settle_body);
    run(*client_, s, key, {std::move(hold_id), "1"}, std::move(done), as_bool);
}

void redis_inventory::release(std::string key, std::string hold_id, completion<bool> done) {
    if (auto e = check_key(key); e || (e = check_member(hold_id))) {
        done(std::move(*e));
        return;
    }
    static const auto s = make_script(settle_body);
    run(*client_, s, key, {std::move(hold_id), "0"}, std::move(done), as_bool);
}

void redis_inventory::available(std::string key, completion<std::int64_t> done) {
    if (auto e = check_key(key)) {
        done(std::move(*e));
        return;
    }
    static const auto s = make_script(available_body);
    run(*client_, s, key, {}, std::move(done), as_int);
}

void redis_inventory::sold(std::string key, completion<std::int64_t> done) {
    if (auto e = check_key(key)) {
        done(std::move(*e));
        return;
    }
    static const auto s = make_script(sold_body);
    run(*client_, s, key, {}, std::move(done), as_int);
}

} // namespace livehouse::state::redis
