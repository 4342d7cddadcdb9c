// Room logs on Redis (redis_state.hpp for the layout): the list K of the newest entries and the
// counter "K:next" (K's hash tag keeps both in one slot); append and read are Lua scripts, so
// each runs atomically on the shard that owns the slot.
//
// Publish order is offset order: the append script takes the offset, stores the entry and
// SPUBLISHes it in one atomic step, so two nodes appending to one room cannot publish out of
// offset order; the shard's subscribers get the messages in the order the scripts ran.
// Checked against Redis 7.0.15, one server and a 3-master cluster: SPUBLISH runs inside a script
// when the channel hashes to the keys' slot; a channel in another slot makes the script fail
// mid-way with "Script attempted to access a non local key" after its writes (a script is not
// rolled back), which is why the channel's hash tag is checked here before anything is sent.
#include "state/redis/call.hpp"
#include "state/redis/redis_state.hpp"
#include "state/redis/script.hpp"
#include "state/room_log_checks.hpp"

#include <fmt/format.h>

namespace livehouse::state::redis {

namespace {

// KEYS: counter, list. ARGV: prefix, suffix, keep, channel, largest entry in bytes.
// The size is checked before the first write, so a refused append uses up no offset. Offsets
// are formatted with %d: Lua 5.1's number-to-string ("%.14g") would write 1e+14.
constexpr std::string_view append_script = R"lua(
local offset = tonumber(redis.call('GET', KEYS[1]) or '0') + 1
local digits = string.format('%d', offset)
local payload = ARGV[1] .. digits .. ARGV[2]
if #payload > tonumber(ARGV[5]) then return -#payload end
redis.call('SET', KEYS[1], digits)
redis.call('RPUSH', KEYS[2], payload)
redis.call('LTRIM', KEYS[2], '-' .. ARGV[3], -1)
redis.call('SPUBLISH', ARGV[4], payload)
return offset
)lua";

// KEYS: counter, list. ARGV: 'from' or 'tail', from (or n), max. The counter and the list are
// read together, so the offsets given to the entries are the ones they were appended with even
// when an append runs at the same time. Returns {first, next, offset of the first entry,
// entries}.
constexpr std::string_view read_script = R"lua(
local nxt = tonumber(redis.call('GET', KEYS[1]) or '0') + 1
local len = redis.call('LLEN', KEYS[2])
local first = nxt - len
local start, stop
if ARGV[1] == 'tail' then
  start = len - tonumber(ARGV[2])
  if start < 0 then start = 0 end
  stop = len - 1
else
  start = tonumber(ARGV[2]) - first
  if start < 0 then start = 0 end
  stop = start + tonumber(ARGV[3]) - 1
  if stop > len - 1 then stop = len - 1 end
end
local entries = {}
if start <= stop then entries = redis.call('LRANGE', KEYS[2], start, stop) end
return {first, nxt, first + start, entries}
)lua";

std::string counter_key(const std::string& key) {
    return key + ":next";
}

core::result<log_slice> to_slice(reply r) {
    if (!r.is_array() || r.elements.size() != 4 || !r.elements[3].is_array()) {
        return core::make_error("redis: unexpected room log read reply");
    }
    auto first = to_int(r.elements[0]);
    auto next = to_int(r.elements[1]);
    auto at = to_int(r.elements[2]);
    if (!first || !next || !at || *first < 1 || *next < *first || *at < *first) {
        return core::make_error("redis: unexpected room log read reply");
    }
    log_slice s;
    s.first = static_cast<std::uint64_t>(*first);
    s.next = static_cast<std::uint64_t>(*next);
    s.entries.reserve(r.elements[3].elements.size());
    auto offset = static_cast<std::uint64_t>(*at);
    for (auto& e : r.elements[3].elements) {
        s.entries.push_back({offset++, core::make_shared_bytes(std::move(e.str))});
    }
    return s;
}

const script& appender() {
    static const script s{std::string(append_script)};
    return s;
}

const script& reader() {
    static const script s{std::string(read_script)};
    return s;
}

} // namespace

void redis_room_log::append(std::string key, std::string channel, std::string prefix,
                            std::string suffix, std::size_t keep, completion<log_entry> done) {
    if (auto e = check_room_log_append(key, channel, prefix, suffix, keep)) {
        done(std::move(*e));
        return;
    }
    // The script gets copies; prefix and suffix stay here to build the entry the completion
    // gives, rather than having the script send the payload back. (The arguments are built
    // before the completion takes prefix and suffix: a call's arguments are unsequenced.)
    std::vector<std::string> args{prefix, suffix, std::to_string(keep), std::move(channel),
                                  std::to_string(max_room_log_entry_bytes)};
    auto convert = [prefix = std::move(prefix),
                    suffix = std::move(suffix)](const reply& r) -> core::result<log_entry> {
        auto offset = to_int(r);
        if (!offset) {
            return offset.err();
        }
        if (*offset < 0) {
            return room_log_entry_too_big(static_cast<std::size_t>(-*offset));
        }
        const auto digits = std::to_string(*offset);
        std::string payload;
        payload.reserve(prefix.size() + digits.size() + suffix.size());
        payload.append(prefix).append(digits).append(suffix);
        return log_entry{static_cast<std::uint64_t>(*offset),
                         core::make_shared_bytes(std::move(payload))};
    };
    appender().run(*client_, key, {counter_key(key), key}, args,
                   complete_with<log_entry>(std::move(done), std::move(convert)));
}

void redis_room_log::read(std::string key, std::uint64_t from, std::size_t max,
                          completion<log_slice> done) {
    if (auto e = check_room_log_read(key, max)) {
        done(std::move(*e));
        return;
    }
    reader().run(*client_, key, {counter_key(key), key},
                 {"from", std::to_string(from), std::to_string(max)},
                 complete_with<log_slice>(std::move(done), to_slice));
}

void redis_room_log::read_tail(std::string key, std::size_t n, completion<log_slice> done) {
    if (auto e = check_room_log_read(key, n)) {
        done(std::move(*e));
        return;
    }
    reader().run(*client_, key, {counter_key(key), key}, {"tail", std::to_string(n), "0"},
                 complete_with<log_slice>(std::move(done), to_slice));
}

void redis_room_log::remove(std::string key, completion<void> done) {
    if (auto e = check_room_log_key(key)) {
        done(std::move(*e));
        return;
    }
    auto route = key;
    call(*client_, {"DEL", counter_key(key), std::move(key)}, std::move(route), std::move(done),
         [](const reply&) -> core::result<void> { return {}; });
}

} // namespace livehouse::state::redis
