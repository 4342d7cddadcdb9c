// pg_migrations: the records schema and the code that applies it once per database.
#include "state/postgres/pg_migrations.hpp"

#include <fmt/format.h>
#include <pqxx/transaction>
#include <spdlog/spdlog.h>
#include <string>

namespace livehouse::state::postgres {

namespace {

// One key for every livehouse node migrating this database ("livehous" in ASCII).
constexpr std::int64_t migration_lock_key = 0x6c697665686f7573;

constexpr std::string_view v1_records = R"sql(
CREATE TABLE totals (
    broadcast_id  text COLLATE "C" NOT NULL,
    name          text COLLATE "C" NOT NULL,
    value         bigint NOT NULL,
    PRIMARY KEY (broadcast_id, name)
);
CREATE TABLE purchases (
    id        text COLLATE "C" PRIMARY KEY,
    user_id   text COLLATE "C" NOT NULL,
    item      text COLLATE "C" NOT NULL,
    quantity  bigint NOT NULL,
    amount    bigint NOT NULL,
    time_ms   bigint NOT NULL
);
CREATE INDEX purchases_by_user ON purchases (user_id, time_ms, id);
CREATE TABLE archives (
    broadcast_id  text COLLATE "C" NOT NULL,
    kind          text COLLATE "C" NOT NULL,
    path          text NOT NULL,
    bytes         bigint NOT NULL,
    time_ms       bigint NOT NULL,
    PRIMARY KEY (broadcast_id, kind)
);
)sql";

} // namespace

const std::vector<migration>& records_migrations() {
    static const std::vector<migration> list{{1, v1_records}};
    return list;
}

core::result<std::size_t> migrate(pqxx::connection& c, const std::vector<migration>& list) {
    std::size_t applied = 0;
    int version = 0;
    try {
        for (const auto& m : list) {
            version = m.version;
            pqxx::work tx(c);
            // The lock comes first, even before the table exists: two nodes creating it at once
            // would otherwise collide on the catalog.
            tx.exec_params("SELECT pg_advisory_xact_lock($1)", migration_lock_key);
            tx.exec("CREATE TABLE IF NOT EXISTS schema_migrations ("
                    "version int PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())");
            if (!tx.exec_params("SELECT 1 FROM schema_migrations WHERE version = $1", m.version)
                     .empty()) {
                continue; // applied before (by this node or another)
            }
            tx.exec(std::string(m.sql));
            tx.exec_params("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, now())",
                           m.version);
            tx.commit();
            ++applied;
            spdlog::info("postgres: applied schema migration {}", m.version);
        }
    } catch (const std::exception& e) {
        return core::make_error(fmt::format("postgres: migration {}: {}", version, e.what()));
    }
    return applied;
}

} // namespace livehouse::state::postgres
