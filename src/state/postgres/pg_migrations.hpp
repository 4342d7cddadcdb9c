// The PostgreSQL schema of the relational records, as an ordered list of migrations applied at
// start-up.
//
// Each migration runs once, in its own transaction, recorded in schema_migrations(version,
// applied_at). Every transaction first takes one transaction-scoped advisory lock
// (pg_advisory_xact_lock), so nodes that start together apply each migration once, one after
// the other, and a node never sees a half-applied schema. A migration is never edited once
// released: a change is a new version appended to the list.
//
// Text columns use COLLATE "C" (byte order), whatever the database's locale: ORDER BY then
// agrees with the embedded backend (SQLite compares bytes) and with the contract.
#pragma once

#include "core/result.hpp"

#include <pqxx/connection>
#include <string_view>
#include <vector>

namespace livehouse::state::postgres {

struct migration {
    int version = 0;      ///< > 0, ascending in the list
    std::string_view sql; ///< one or more statements
};

/// The records schema, oldest first.
const std::vector<migration>& records_migrations();

/// Applies the migrations of `list` that `c`'s database has not recorded yet, in order.
/// Completes with how many it applied. Blocking: for start-up, not for an event loop.
/// Errors: the failing version with PostgreSQL's message ("postgres: migration 2: ...").
core::result<std::size_t> migrate(pqxx::connection& c,
                                  const std::vector<migration>& list = records_migrations());

} // namespace livehouse::state::postgres
