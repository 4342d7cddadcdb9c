// The PostgreSQL relational records (state/records.hpp's contract), on a bounded pool of
// connections off the event-loop threads (pg_pool.hpp: acquire timeout, reconnect, the
// records_unavailable errors the API turns into 503). The schema is migrated at start-up
// (pg_migrations.hpp); every statement is prepared on each connection and takes its values as
// parameters, never as SQL text.
//
// A write is one autocommitted INSERT ... ON CONFLICT, so it is atomic on its own and
// idempotent: re-delivered by queued_records, it changes nothing.
//
// While the server is unreachable, calls fail with records_unavailable (no call waits for it):
// writes that must not be lost go through queued_records, which keeps them in a durable stream
// and writes them here once the server is back.
#pragma once

#include "core/result.hpp"
#include "state/postgres/pg_pool.hpp"
#include "state/records.hpp"

#include <atomic>
#include <memory>
#include <optional>
#include <string>

namespace livehouse::state::postgres {

struct pg_records_options {
    pg_pool_options pool;
    /// false: open() fails unless the server is reachable and migrated (start-up fails fast on
    /// a wrong conninfo). true: open() succeeds anyway; migrations run on the first connection
    /// a worker makes, and calls fail with records_unavailable until then.
    bool start_unreachable = false;
};

class pg_records final : public records {
  public:
    /// Connects, applies the migrations (blocking: at start-up) and starts the pool.
    /// `conninfo`: libpq's key=value pairs or a postgresql:// URI; never logged.
    /// Errors: an unparsable conninfo; the server unreachable (unless start_unreachable) or a
    /// migration failing, with PostgreSQL's message.
    static core::result<std::unique_ptr<pg_records>> open(std::string conninfo,
                                                          pg_records_options options = {});

    /// Fails calls still queued, waits for the running ones.
    ~pg_records() override = default;
    pg_records(const pg_records&) = delete;
    pg_records& operator=(const pg_records&) = delete;

    void put_total(total_record r, completion<void> done) override;
    void totals(std::string broadcast_id, completion<std::vector<total_record>> done) override;
    void put_purchase(purchase_record r, completion<bool> done) override;
    void purchases(std::string user_id, completion<std::vector<purchase_record>> done) override;
    void put_archive(archive_record r, completion<void> done) override;
    void archives(std::string broadcast_id, completion<std::vector<archive_record>> done) override;

    /// The pool, for its description and for tests that run their own queries.
    pg_pool& pool() { return *pool_; }

  private:
    pg_records() = default;
    /// Runs on each new connection: migrations if none ran yet, then the prepared statements.
    core::result<void> on_connect(pqxx::connection& c);
    /// Completes `done` with `refused` if set (a field over its limit), else runs `work`.
    template <typename T>
    void call(std::optional<core::error> refused, std::function<T(pqxx::connection&)> work,
              completion<T> done);

    std::atomic<bool> migrated_{false};
    std::unique_ptr<pg_pool> pool_; ///< last member: its workers use the ones above
};

} // namespace livehouse::state::postgres
