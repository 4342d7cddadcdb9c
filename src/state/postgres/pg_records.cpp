// pg_records: the records contract as prepared statements on pg_pool's connections.
#include "state/postgres/pg_records.hpp"

#include "state/postgres/pg_migrations.hpp"
#include "state/record_checks.hpp"

#include <pqxx/nontransaction>
#include <pqxx/result>
#include <spdlog/spdlog.h>

namespace livehouse::state::postgres {

namespace {

// Name and text of every statement, prepared on each connection. Values are always parameters.
struct prepared {
    const char* name;
    const char* sql;
};
constexpr prepared statements[] = {
    {"put_total", "INSERT INTO totals (broadcast_id, name, value) VALUES ($1, $2, $3) "
                  "ON CONFLICT (broadcast_id, name) DO UPDATE SET value = EXCLUDED.value"},
    {"totals", "SELECT name, value FROM totals WHERE broadcast_id = $1 ORDER BY name"},
    // DO NOTHING: a re-delivered purchase keeps the stored one (records.hpp).
    {"put_purchase", "INSERT INTO purchases (id, user_id, item, quantity, amount, time_ms) "
                     "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING"},
    {"purchases", "SELECT id, item, quantity, amount, time_ms FROM purchases "
                  "WHERE user_id = $1 ORDER BY time_ms, id"},
    {"put_archive", "INSERT INTO archives (broadcast_id, kind, path, bytes, time_ms) "
                    "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (broadcast_id, kind) DO UPDATE "
                    "SET path = EXCLUDED.path, bytes = EXCLUDED.bytes, time_ms = EXCLUDED.time_ms"},
    {"archives", "SELECT kind, path, bytes, time_ms FROM archives "
                 "WHERE broadcast_id = $1 ORDER BY kind"},
};

/// Runs the prepared statement `name` with `args` in its own (autocommitted) statement.
template <typename... Args>
pqxx::result exec(pqxx::connection& c, const char* name, const Args&... args) {
    pqxx::nontransaction tx(c);
    return tx.exec_prepared(name, args...);
}

/// Each row of `res` through `row`.
template <typename T, typename Row> std::vector<T> rows(const pqxx::result& res, Row row) {
    std::vector<T> out;
    out.reserve(res.size());
    for (const auto& r : res) {
        out.push_back(row(r));
    }
    return out;
}

} // namespace

core::result<std::unique_ptr<pg_records>> pg_records::open(std::string conninfo,
                                                           pg_records_options options) {
    auto parsed = parse_conninfo(conninfo, options.pool);
    if (!parsed) {
        return parsed.err();
    }
    std::unique_ptr<pg_records> self(new pg_records());
    if (!options.start_unreachable) {
        // At start-up, blocking: a node that cannot reach or migrate its database says so now.
        try {
            pqxx::connection c(parsed->conninfo);
            if (auto r = migrate(c); !r) {
                return r.err().wrap(parsed->description);
            }
        } catch (const std::exception& e) {
            return core::make_error(std::string("postgres ")
                                        .append(parsed->description)
                                        .append(": cannot connect: ")
                                        .append(e.what()));
        }
        self->migrated_ = true;
    }
    auto* raw = self.get();
    auto pool = pg_pool::open(conninfo, options.pool,
                              [raw](pqxx::connection& c) { return raw->on_connect(c); });
    if (!pool) {
        return pool.err();
    }
    self->pool_ = std::move(*pool);
    spdlog::info("records: postgres {} ({} connections)", parsed->description,
                 options.pool.connections);
    return self;
}

core::result<void> pg_records::on_connect(pqxx::connection& c) {
    // Several workers may get here at once on a fresh start: migrate() serializes them on the
    // advisory lock, and the later ones find every version applied.
    if (!migrated_.load()) {
        if (auto r = migrate(c); !r) {
            return r.err();
        }
        migrated_ = true;
    }
    for (const auto& s : statements) {
        c.prepare(s.name, s.sql);
    }
    return {};
}

template <typename T>
void pg_records::call(std::optional<core::error> refused, std::function<T(pqxx::connection&)> work,
                      completion<T> done) {
    if (refused) {
        done(std::move(*refused));
        return;
    }
    pool_->run<T>(std::move(work), std::move(done));
}

void pg_records::put_total(total_record r, completion<void> done) {
    call<void>(
        check_record(r),
        [r](pqxx::connection& c) { exec(c, "put_total", r.broadcast_id, r.name, r.value); },
        std::move(done));
}

void pg_records::totals(std::string broadcast_id, completion<std::vector<total_record>> done) {
    call<std::vector<total_record>>(
        check_record_id("broadcast_id", broadcast_id),
        [id = broadcast_id](pqxx::connection& c) {
            return rows<total_record>(exec(c, "totals", id), [&](const pqxx::row& row) {
                return total_record{id, row[0].as<std::string>(), row[1].as<std::int64_t>()};
            });
        },
        std::move(done));
}

void pg_records::put_purchase(purchase_record r, completion<bool> done) {
    call<bool>(
        check_record(r),
        [r](pqxx::connection& c) {
            const auto res =
                exec(c, "put_purchase", r.id, r.user_id, r.item, r.quantity, r.amount, r.time_ms);
            return res.affected_rows() > 0;
        },
        std::move(done));
}

void pg_records::purchases(std::string user_id, completion<std::vector<purchase_record>> done) {
    call<std::vector<purchase_record>>(
        check_record_id("user_id", user_id),
        [user = user_id](pqxx::connection& c) {
            return rows<purchase_record>(exec(c, "purchases", user), [&](const pqxx::row& row) {
                return purchase_record{row[0].as<std::string>(),  user,
                                       row[1].as<std::string>(),  row[2].as<std::int64_t>(),
                                       row[3].as<std::int64_t>(), row[4].as<std::int64_t>()};
            });
        },
        std::move(done));
}

void pg_records::put_archive(archive_record r, completion<void> done) {
    call<void>(
        check_record(r),
        [r](pqxx::connection& c) {
            exec(c, "put_archive", r.broadcast_id, r.kind, r.path, r.bytes, r.time_ms);
        },
        std::move(done));
}

void pg_records::archives(std::string broadcast_id, completion<std::vector<archive_record>> done) {
    call<std::vector<archive_record>>(
        check_record_id("broadcast_id", broadcast_id),
        [id = broadcast_id](pqxx::connection& c) {
            return rows<archive_record>(exec(c, "archives", id), [&](const pqxx::row& row) {
                return archive_record{id, row[0].as<std::string>(), row[1].as<std::string>(),
                                      row[2].as<std::int64_t>(), row[3].as<std::int64_t>()};
            });
        },
        std::move(done));
}

} // namespace livehouse::state::postgres
