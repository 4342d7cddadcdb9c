// Opening the configured backends (backends.hpp).
#include "state/backends.hpp"

#include "core/clock.hpp"
#include "state/embedded/memory_bus.hpp"
#include "state/embedded/memory_inventory.hpp"
#include "state/embedded/memory_room_log.hpp"
#include "state/embedded/memory_state.hpp"
#include "state/embedded/sqlite_love_counts.hpp"
#include "state/embedded/sqlite_records.hpp"
#include "state/embedded/sqlite_streams.hpp"
#include "state/postgres/pg_records.hpp"
#include "state/queued_records.hpp"
#include "state/redis/client.hpp"
#include "state/redis/redis_state.hpp"

#include <fmt/format.h>

namespace livehouse::state {

namespace {

/// "auto" resolved: `server` when its address is set, else "embedded".
core::result<std::string> choose(const std::string& kind, const std::string& wanted,
                                 const std::string& server, bool address_set) {
    const auto resolved = wanted == "auto" ? (address_set ? server : "embedded") : wanted;
    if (resolved != "embedded" && resolved != server) {
        return core::make_error(
            fmt::format("state: {} = \"{}\": expected auto, embedded or {}", kind, wanted, server));
    }
    if (resolved == server && !address_set) {
        return core::make_error(fmt::format("state: {} = \"{}\" needs the {} address (--{})", kind,
                                            server, server, server));
    }
    return resolved;
}

const core::system_clock wall_clock;

} // namespace

backends::~backends() {
    // The front drains into the target and reads the stream: stop it first.
    records_front_owned_.reset();
    records_target_.reset();
    streams_.reset();
    inventory_.reset();
    love_counts_.reset();
    room_log_.reset();
    bus_.reset();
    sets_.reset();
    sorted_sets_.reset();
    counters_.reset();
    redis_.reset();
}

core::result<std::unique_ptr<backends>> backends::open(const backends_options& o) {
    std::unique_ptr<backends> b(new backends());
    b->phase_ = o.phase;
    if (auto ks = key_space::make("records", o.phase); !ks) {
        return ks.err();
    }
    auto shared = choose("shared", o.shared, "redis", !o.redis.empty());
    auto streams = choose("streams", o.streams, "redis", !o.redis.empty());
    auto records = choose("records", o.records, "postgres", !o.postgres.empty());
    for (const auto* r : {&shared, &streams, &records}) {
        if (!*r) {
            return r->err();
        }
    }

    std::string redis_where;
    if (*shared == "redis" || *streams == "redis") {
        auto ro = redis::parse_redis_urls(o.redis);
        if (!ro) {
            return ro.err();
        }
        ro->connection.reply_timeout = o.redis_reply_timeout;
        redis_where = fmt::format("{} ({})", fmt::join(ro->seeds, ","),
                                  ro->seeds.size() == 1 ? "one seed" : "seeds");
        auto c = redis::client::connect(*ro);
        if (!c) {
            return c.err().wrap("state");
        }
        b->redis_ = std::move(*c);
    }
    const auto redis_name = b->redis_ && b->redis_->is_cluster() ? "redis-cluster" : "redis";

    if (*shared == "redis") {
        b->counters_ = std::make_unique<redis::redis_counters>(b->redis_);
        b->sorted_sets_ = std::make_unique<redis::redis_sorted_sets>(b->redis_);
        b->sets_ = std::make_unique<redis::redis_sets>(b->redis_);
        b->bus_ = std::make_unique<redis::redis_bus>(b->redis_);
        b->inventory_ = std::make_unique<redis::redis_inventory>(b->redis_);
        // SPUBLISH from the append script, on the client bus_ subscribes with.
        b->room_log_ = std::make_unique<redis::redis_room_log>(b->redis_);
        b->love_counts_ = std::make_unique<redis::redis_love_counts>(b->redis_);
        b->shared_name_ = redis_name;
    } else {
        b->counters_ = std::make_unique<embedded::memory_counters>();
        b->sorted_sets_ = std::make_unique<embedded::memory_sorted_sets>();
        b->sets_ = std::make_unique<embedded::memory_sets>();
        b->bus_ = std::make_unique<embedded::memory_bus>();
        b->inventory_ = std::make_unique<embedded::memory_inventory>(wall_clock);
        // Publishes through the memory_bus above: that bus's subscribers get the appends.
        b->room_log_ = std::make_unique<embedded::memory_room_log>(*b->bus_);
        // Journaled in <data_dir>/love.db: accepted taps survive a crash of the process.
        auto love = embedded::sqlite_love_counts::open(o.data_dir);
        if (!love) {
            return love.err().wrap("state: love");
        }
        b->love_counts_ = std::move(*love);
        b->shared_name_ = "embedded";
    }

    if (*streams == "redis") {
        b->streams_ = std::make_unique<redis::redis_streams>(b->redis_);
        b->streams_name_ = redis_name;
    } else {
        auto s = embedded::sqlite_streams::open(o.data_dir);
        if (!s) {
            return s.err().wrap("state: streams");
        }
        b->streams_ = std::move(*s);
        b->streams_name_ = "embedded";
    }

    std::string pg_where;
    if (*records == "postgres") {
        postgres::pg_records_options po;
        po.pool.connections = o.postgres_pool;
        po.pool.acquire_timeout = o.postgres_acquire_timeout;
        auto pg = postgres::pg_records::open(o.postgres, po);
        if (!pg) {
            return pg.err().wrap("state: postgres");
        }
        pg_where = (*pg)->pool().describe();
        b->pg_pool_ = &(*pg)->pool();
        b->records_target_ = std::move(*pg);
        // Writes go through the outbox stream, so PostgreSQL being away loses nothing.
        queued_records_options qo;
        qo.consumer = o.node_name;
        if (b->streams_name_ != "embedded") {
            qo.claim_after_at_start = qo.claim_after; // a shared stream: others may hold entries
        }
        auto q =
            queued_records::open(*b->streams_, key_space::make("records", o.phase)->key("outbox"),
                                 *b->records_target_, qo);
        if (!q) {
            return q.err().wrap("state: records outbox");
        }
        b->records_front_owned_ = std::move(*q);
        b->records_front_ = b->records_front_owned_.get();
        b->records_name_ = "postgres";
    } else {
        auto s = embedded::sqlite_records::open(o.data_dir);
        if (!s) {
            return s.err().wrap("state: records");
        }
        b->records_target_ = std::move(*s);
        b->records_front_ = b->records_target_.get();
        b->records_name_ = "embedded";
    }

    b->where_ = redis_where.empty() ? "" : fmt::format(" redis={}", redis_where);
    if (!pg_where.empty()) {
        b->where_ += fmt::format(" postgres={}", pg_where);
    }
    return b;
}

core::result<key_space> backends::keys(std::string_view service) const {
    return key_space::make(service, phase_);
}

std::string backends::describe() const {
    return fmt::format("shared={} streams={} records={}{} phase={}", shared_name_, streams_name_,
                       records_name_, where_, phase_);
}

std::size_t backends::redis_connections() const {
    return redis_ ? redis_->open_connections() : 0;
}

std::size_t backends::postgres_connections() const {
    return pg_pool_ != nullptr ? pg_pool_->open_connections() : 0;
}

} // namespace livehouse::state
