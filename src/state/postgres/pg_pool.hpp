// A bounded pool of PostgreSQL connections (libpqxx 6.4), each owned by one worker thread, so
// that no event-loop thread ever waits on the database.
//
// Seed 000 (the 2020 incident): a pool whose callers blocked until a connection was free let a
// slow database take every request thread, and the whole service with it. Here nothing blocks
// the caller, and nothing waits without bound:
// - a call waits in a bounded queue (`queue_limit`); a full queue refuses it at once;
// - a call that no worker has started within `acquire_timeout` completes with a
//   `records_unavailable` error ("records unavailable: postgres pool exhausted (...)"): the API
//   answers 503;
// - a call that runs is bounded by `statement_timeout` (server side) and by TCP keepalives and
//   tcp_user_timeout (client side, for a server that vanished without closing the socket);
// - a broken connection is dropped and reopened on the next call that worker takes, at once the
//   first time and then with a backoff doubling up to `reconnect_backoff_max`; while it cannot
//   be reopened, calls complete with a `records_unavailable` error ("... postgres unreachable:
//   ...") instead of hanging.
//
// Completions run on a worker thread (or on the pool's timer thread for a call that timed out in
// the queue, or on the caller's thread for a call refused at once); they must not block.
//
// The conninfo (key=value or URI, libpq's syntax) may carry a password: it is never logged, and
// errors name only host, port and database.
#pragma once

#include "core/result.hpp"
#include "state/shared_state.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <pqxx/connection>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

namespace livehouse::state::postgres {

struct pg_pool_options {
    std::size_t connections = 4;                       ///< workers, one connection each (>= 1)
    std::size_t queue_limit = 1024;                    ///< calls waiting for a worker
    std::chrono::milliseconds acquire_timeout{250};    ///< longest wait for a worker
    std::chrono::milliseconds statement_timeout{5000}; ///< server-side limit per statement
    std::chrono::seconds connect_timeout{2};           ///< libpq's minimum is 2 s
    std::chrono::milliseconds reconnect_backoff_max{2000};
};

/// A conninfo as the pool uses it: the caller's (either syntax), with the pool's timeouts and
/// keepalives added where the caller set none, in key=value form.
struct pg_conninfo {
    std::string conninfo;    ///< may hold a password: never log
    std::string description; ///< "host:port/dbname": what logs and errors may show
};

/// Parses `conninfo`. Errors: libpq cannot parse it (the message does not quote it).
core::result<pg_conninfo> parse_conninfo(const std::string& conninfo,
                                         const pg_pool_options& options);

class pg_pool {
  public:
    /// Runs on a worker after each (re)connect, before any call: prepares statements, ... An
    /// error (or a pqxx exception) makes the connect count as failed.
    using on_connect = std::function<core::result<void>(pqxx::connection&)>;

    /// Starts the workers, which connect in the background. Errors: a conninfo libpq cannot
    /// parse, or 0 connections. `prepare` may be empty.
    static core::result<std::unique_ptr<pg_pool>>
    open(const std::string& conninfo, pg_pool_options options, on_connect prepare = {});

    /// Fails what is still queued ("records unavailable: postgres pool closed"), lets running
    /// calls finish, joins the threads.
    ~pg_pool();
    pg_pool(const pg_pool&) = delete;
    pg_pool& operator=(const pg_pool&) = delete;

    /// Runs `work` on a worker with a live connection and completes `done` with what it returns
    /// or with the error it threw (pqxx exceptions become errors; those that mean the database
    /// cannot take calls now — broken connection, shutdown, statement timeout, too many
    /// connections, serialization failure — start with `records_unavailable`). Thread-safe.
    template <typename T> void run(std::function<T(pqxx::connection&)> work, completion<T> done) {
        submit(
            [work = std::move(work), done](pqxx::connection& c) -> std::function<void()> {
                if constexpr (std::is_void_v<T>) {
                    work(c);
                    return [done] { done({}); };
                } else {
                    return [done, v = work(c)]() mutable { done(std::move(v)); };
                }
            },
            [done](core::error e) { done(std::move(e)); });
    }

    /// "host:port/dbname" of the conninfo, without user or password: what logs may show.
    [[nodiscard]] const std::string& describe() const { return description_; }
    /// Connections open now (one per worker at most): the postgres_connections metric.
    [[nodiscard]] std::size_t open_connections() const { return open_.load(); }

  private:
    struct task {
        /// Runs the work; returns the completion to call once the work is over.
        std::function<std::function<void()>(pqxx::connection&)> exec;
        std::function<void(core::error)> fail;
        std::chrono::steady_clock::time_point deadline;
    };
    /// One worker's connection and its reconnect state.
    struct slot {
        std::unique_ptr<pqxx::connection> conn;
        std::chrono::milliseconds backoff{0};
        std::chrono::steady_clock::time_point retry_at;
        std::string last_error;
    };

    pg_pool(std::string conninfo, std::string description, pg_pool_options options,
            on_connect prepare);
    void submit(std::function<std::function<void()>(pqxx::connection&)> exec,
                std::function<void(core::error)> fail);
    void worker();
    void timer();
    /// A live connection in `s`, reconnecting if due; nullptr with `why` set otherwise.
    pqxx::connection* ensure(slot& s, std::string& why);

    const std::string conninfo_; ///< with our timeouts added; holds the password: never log
    const std::string description_;
    const pg_pool_options options_;
    const on_connect prepare_;

    std::mutex mutex_;
    std::condition_variable work_cv_;  ///< workers: a call was queued, or stopping
    std::condition_variable timer_cv_; ///< timer: a call was queued, or stopping
    std::deque<task> queue_;           ///< deadlines ascend: acquire_timeout is one for all
    bool stopping_ = false;
    std::vector<std::thread> workers_;
    std::thread timer_;
    std::atomic<std::size_t> open_{0};
};

} // namespace livehouse::state::postgres
