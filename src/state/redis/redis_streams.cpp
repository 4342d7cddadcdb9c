// Durable streams on Redis Streams (redis_state.hpp): XADD to append; a read is XAUTOCLAIM
// (entries pending longer than claim_after, re-delivered first), XPENDING for their delivery
// counts, then XREADGROUP ">" for entries never delivered to the group; ack is one script that
// runs XACK and trims what every group has acknowledged (XTRIM MINID), as the embedded
// backend does.
#include "state/limits.hpp"
#include "state/redis/call.hpp"
#include "state/redis/redis_state.hpp"
#include "state/redis/script.hpp"

#include <fmt/format.h>
#include <unordered_map>

namespace livehouse::state::redis {

namespace {

// XACK, then the smallest id some group still needs: the smallest pending id of a group with
// pending entries, or the id after its last-delivered one; entries below the smallest over all
// groups are trimmed.
constexpr std::string_view ack_script = R"lua(
local acked = redis.call('XACK', KEYS[1], ARGV[1], unpack(ARGV, 2))
local function parse(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq)
end
local best_ms, best_seq = nil, nil
for _, g in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
  local info = {}
  for i = 1, #g, 2 do info[g[i]] = g[i + 1] end
  local ms, seq
  if tonumber(info['pending']) > 0 then
    ms, seq = parse(redis.call('XPENDING', KEYS[1], info['name'])[2])
  else
    ms, seq = parse(info['last-delivered-id'])
    seq = seq + 1
  end
  if best_ms == nil or ms < best_ms or (ms == best_ms and seq < best_seq) then
    best_ms, best_seq = ms, seq
  end
end
if best_ms ~= nil then
  redis.call('XTRIM', KEYS[1], 'MINID', string.format('%d-%d', best_ms, best_seq))
end
return acked
)lua";

/// "<ms>-<seq>", the only form of id XADD gives.
bool valid_id(std::string_view id) {
    const auto dash = id.find('-');
    if (dash == 0 || dash == std::string_view::npos || dash + 1 == id.size() || id.size() > 41) {
        return false;
    }
    for (std::size_t i = 0; i < id.size(); ++i) {
        if (i != dash && (id[i] < '0' || id[i] > '9')) {
            return false;
        }
    }
    return true;
}

bool nogroup(const reply_result& r) {
    return r && r->is_error() && r->str.starts_with("NOGROUP");
}

/// [[id, [field, value, ...]], ...] -> entries (an entry deleted meanwhile has nil fields).
void collect(const reply& list, std::vector<stream_entry>& out, std::uint32_t deliveries) {
    if (!list.is_array()) {
        return;
    }
    for (const auto& e : list.elements) {
        if (!e.is_array() || e.elements.size() < 2 || !e.elements[1].is_array()) {
            continue;
        }
        const auto& fields = e.elements[1].elements;
        for (std::size_t i = 0; i + 1 < fields.size(); i += 2) {
            if (fields[i].str == "p") {
                out.push_back({e.elements[0].str, fields[i + 1].str, deliveries});
                break;
            }
        }
    }
}

struct read_op : std::enable_shared_from_this<read_op> {
    std::shared_ptr<client> c;
    std::string key, group, consumer;
    std::size_t max = 0;
    std::chrono::milliseconds claim_after{0};
    completion<std::vector<stream_entry>> done;
    std::vector<stream_entry> out;
    bool created = false;

    void fail(const reply_result& r) {
        done(r ? core::make_error(std::string("redis: ").append(r->str)) : r.err());
    }

    void create_group_then(void (read_op::*next)()) {
        // "0": the group starts at the beginning of what the stream holds (the contract).
        c->send({"XGROUP", "CREATE", key, group, "0", "MKSTREAM"}, key,
                [self = shared_from_this(), next](reply_result r) {
                    if (!r || (r->is_error() && !r->str.starts_with("BUSYGROUP"))) {
                        self->fail(r);
                        return;
                    }
                    self->created = true;
                    ((*self).*next)();
                });
    }

    void start() {
        if (max == 0) {
            create_group_then(&read_op::finish);
            return;
        }
        claim();
    }

    void claim() {
        c->send({"XAUTOCLAIM", key, group, consumer, std::to_string(claim_after.count()), "0-0",
                 "COUNT", std::to_string(max)},
                key, [self = shared_from_this()](reply_result r) {
                    if (nogroup(r) && !self->created) {
                        self->create_group_then(&read_op::claim);
                        return;
                    }
                    if (!r || r->is_error() || !r->is_array() || r->elements.size() < 2) {
                        self->fail(r);
                        return;
                    }
                    collect(r->elements[1], self->out, 0);
                    self->count_deliveries();
                });
    }

    void count_deliveries() {
        if (out.empty()) {
            read_new();
            return;
        }
        c->send({"XPENDING", key, group, out.front().id, out.back().id,
                 std::to_string(out.size() + 1024), consumer},
                key, [self = shared_from_this()](reply_result r) {
                    if (!r || r->is_error() || !r->is_array()) {
                        self->fail(r);
                        return;
                    }
                    // [[id, consumer, idle ms, deliveries], ...]
                    std::unordered_map<std::string, std::int64_t> counts;
                    for (const auto& p : r->elements) {
                        if (p.is_array() && p.elements.size() >= 4) {
                            counts[p.elements[0].str] = p.elements[3].integer;
                        }
                    }
                    for (auto& e : self->out) {
                        const auto it = counts.find(e.id);
                        e.deliveries =
                            it == counts.end() ? 2 : static_cast<std::uint32_t>(it->second);
                    }
                    self->read_new();
                });
    }

    void read_new() {
        if (out.size() >= max) {
            finish();
            return;
        }
        c->send({"XREADGROUP", "GROUP", group, consumer, "COUNT", std::to_string(max - out.size()),
                 "STREAMS", key, ">"},
                key, [self = shared_from_this()](reply_result r) {
                    if (nogroup(r) && !self->created) {
                        self->create_group_then(&read_op::read_new);
                        return;
                    }
                    if (!r || r->is_error()) {
                        self->fail(r);
                        return;
                    }
                    // nil (nothing new) or [[key, [[id, fields], ...]]]
                    if (r->is_array() && !r->elements.empty() &&
                        r->elements[0].elements.size() >= 2) {
                        collect(r->elements[0].elements[1], self->out, 1);
                    }
                    self->finish();
                });
    }

    void finish() { done(std::move(out)); }
};

} // namespace

void redis_streams::append(std::string key, std::string payload, completion<std::string> done) {
    if (auto e = check_key(key)) {
        done(std::move(*e));
        return;
    }
    if (payload.size() > max_stream_payload_bytes) {
        done(core::make_error(fmt::format("state: stream payload of {} bytes (at most {})",
                                          payload.size(), max_stream_payload_bytes)));
        return;
    }
    auto route = key;
    call(*client_, {"XADD", std::move(key), "*", "p", std::move(payload)}, std::move(route),
         std::move(done), [](reply r) -> core::result<std::string> { return std::move(r.str); });
}

void redis_streams::read(std::string key, std::string group, std::string consumer, std::size_t max,
                         std::chrono::milliseconds claim_after,
                         completion<std::vector<stream_entry>> done) {
    if (auto e = check_key(key); e || (e = check_member(group)) || (e = check_member(consumer))) {
        done(std::move(*e));
        return;
    }
    auto op = std::make_shared<read_op>();
    op->c = client_;
    op->key = std::move(key);
    op->group = std::move(group);
    op->consumer = std::move(consumer);
    op->max = max;
    op->claim_after = claim_after;
    op->done = std::move(done);
    op->start();
}

void redis_streams::ack(std::string key, std::string group, std::vector<std::string> ids,
                        completion<std::size_t> done) {
    if (auto e = check_key(key); e || (e = check_member(group))) {
        done(std::move(*e));
        return;
    }
    if (ids.empty()) {
        done(std::size_t{0});
        return;
    }
    std::vector<std::string> args{std::move(group)};
    for (auto& id : ids) {
        if (valid_id(id)) { // XACK refuses the whole call for one malformed id
            args.push_back(std::move(id));
        }
    }
    if (args.size() == 1) {
        done(std::size_t{0});
        return;
    }
    static const script ack_and_trim{std::string(ack_script)};
    ack_and_trim.run(
        *client_, key, {key}, args,
        complete_with<std::size_t>(std::move(done), [](reply r) -> core::result<std::size_t> {
            auto v = to_int(r);
            if (!v) {
                return v.err();
            }
            return static_cast<std::size_t>(*v);
        }));
}

} // namespace livehouse::state::redis
