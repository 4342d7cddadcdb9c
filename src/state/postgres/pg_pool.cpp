// pg_pool: N workers, one connection each, a bounded queue with an acquire deadline.
#include "state/postgres/pg_pool.hpp"

#include "state/records.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <libpq-fe.h>
#include <map>
#include <optional>
#include <poll.h>
#include <pqxx/except>
#include <pqxx/nontransaction>
#include <spdlog/spdlog.h>

namespace livehouse::state::postgres {

namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr milliseconds first_backoff{50};

core::error unavailable(std::string_view what) {
    return core::make_error(std::string(records_unavailable).append(": ").append(what));
}

/// libpq and server messages span lines ("...\n\tIs the server running..."): one line for logs.
std::string one_line(std::string_view s) {
    std::string out;
    bool space = false;
    for (const char c : s) {
        if (c == '\n' || c == '\t' || c == '\r' || c == ' ') {
            space = !out.empty();
            continue;
        }
        if (space) {
            out.push_back(' ');
            space = false;
        }
        out.push_back(c);
    }
    return out;
}

/// A conninfo value, quoted as libpq's key=value syntax wants ('...' with \\ and \').
std::string quoted(std::string_view v) {
    std::string out = "'";
    for (const char c : v) {
        if (c == '\\' || c == '\'') {
            out.push_back('\\');
        }
        out.push_back(c);
    }
    out.push_back('\'');
    return out;
}

/// True if an idle connection has something to read: the server sent its goodbye (admin
/// shutdown, idle timeout) or closed the socket. Checked before each call, so a pool that
/// outlived a server restart reconnects instead of failing one call per connection.
bool closed_while_idle(pqxx::connection& c) {
    pollfd p{c.sock(), POLLIN, 0};
    return p.fd < 0 || ::poll(&p, 1, 0) != 0;
}

/// The error a failed call completes with; `drop` says whether its connection is unusable.
core::error classify(const std::exception_ptr& ep, bool& drop) {
    try {
        std::rethrow_exception(ep);
    } catch (const pqxx::broken_connection& e) {
        drop = true;
        return unavailable(std::string("postgres connection lost: ").append(one_line(e.what())));
    } catch (const pqxx::in_doubt_error& e) {
        drop = true;
        return unavailable(std::string("postgres commit in doubt: ").append(one_line(e.what())));
    } catch (const pqxx::sql_error& e) {
        // SQLSTATE classes (PostgreSQL manual, appendix A): 08 connection exception, 40
        // transaction rollback, 53 insufficient resources, 57 operator intervention (57014:
        // statement timeout; 57P01..03: shutdown), 58 system error. All pass with time.
        const std::string_view cls = std::string_view(e.sqlstate()).substr(0, 2);
        drop = cls == "08" || e.sqlstate().rfind("57P", 0) == 0;
        const auto what = std::string("postgres: ").append(one_line(e.what()));
        if (cls == "08" || cls == "40" || cls == "53" || cls == "57" || cls == "58") {
            return unavailable(what);
        }
        return core::make_error(what);
    } catch (const std::exception& e) {
        return core::make_error(std::string("postgres: ").append(one_line(e.what())));
    }
}

} // namespace

// Adds the timeouts this pool relies on where the caller set none.
core::result<pg_conninfo> parse_conninfo(const std::string& conninfo, const pg_pool_options& o) {
    char* err = nullptr;
    PQconninfoOption* opts = PQconninfoParse(conninfo.c_str(), &err);
    if (opts == nullptr) {
        // libpq's message may quote a piece of the string, which may be the password.
        PQfreemem(err);
        return core::make_error("postgres: conninfo cannot be parsed (libpq key=value pairs or a "
                                "postgresql:// URI)");
    }
    std::map<std::string, std::string> kv;
    for (auto* p = opts; p->keyword != nullptr; ++p) {
        if (p->val != nullptr) {
            kv.emplace(p->keyword, p->val);
        }
    }
    PQconninfoFree(opts);
    // connect_timeout bounds a connect to a silent host; keepalives and tcp_user_timeout notice a
    // server that vanished under an open connection (statement_timeout, set per session, only
    // bounds a server that is still there).
    kv.emplace("connect_timeout", std::to_string(o.connect_timeout.count()));
    kv.emplace("keepalives", "1");
    kv.emplace("keepalives_idle", "10");
    kv.emplace("keepalives_interval", "5");
    kv.emplace("keepalives_count", "3");
    kv.emplace("tcp_user_timeout",
               std::to_string(std::max<std::int64_t>(10000, o.statement_timeout.count())));
    kv.emplace("application_name", "livehouse");
    pg_conninfo out;
    for (const auto& [k, v] : kv) {
        out.conninfo.append(k).append("=").append(quoted(v)).append(" ");
    }
    const auto get = [&](const char* k, const char* fallback) {
        const auto it = kv.find(k);
        return it == kv.end() ? std::string(fallback) : it->second;
    };
    out.description = fmt::format("{}:{}/{}", get("host", get("hostaddr", "local").c_str()),
                                  get("port", "5432"), get("dbname", get("user", "").c_str()));
    return out;
}

core::result<std::unique_ptr<pg_pool>> pg_pool::open(const std::string& conninfo,
                                                     pg_pool_options options, on_connect prepare) {
    if (options.connections == 0) {
        return core::make_error("postgres: a pool of 0 connections");
    }
    auto parsed = parse_conninfo(conninfo, options);
    if (!parsed) {
        return parsed.err();
    }
    return std::unique_ptr<pg_pool>(new pg_pool(
        std::move(parsed->conninfo), std::move(parsed->description), options, std::move(prepare)));
}

pg_pool::pg_pool(std::string conninfo, std::string description, pg_pool_options options,
                 on_connect prepare)
    : conninfo_(std::move(conninfo)), description_(std::move(description)), options_(options),
      prepare_(std::move(prepare)) {
    for (std::size_t i = 0; i < options_.connections; ++i) {
        workers_.emplace_back([this] { worker(); });
    }
    timer_ = std::thread([this] { timer(); });
}

pg_pool::~pg_pool() {
    std::deque<task> left;
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
        left.swap(queue_);
    }
    work_cv_.notify_all();
    timer_cv_.notify_all();
    for (auto& t : left) {
        t.fail(unavailable("postgres pool closed"));
    }
    for (auto& w : workers_) {
        w.join();
    }
    timer_.join();
}

void pg_pool::submit(std::function<std::function<void()>(pqxx::connection&)> exec,
                     std::function<void(core::error)> fail) {
    std::optional<core::error> refused;
    {
        std::lock_guard lock(mutex_);
        if (stopping_) {
            refused = unavailable("postgres pool closed");
        } else if (queue_.size() >= options_.queue_limit) {
            refused = unavailable(fmt::format(
                "postgres pool exhausted (queue full: {} calls waiting)", queue_.size()));
        } else {
            queue_.push_back(
                {std::move(exec), std::move(fail), steady_clock::now() + options_.acquire_timeout});
        }
    }
    if (refused) {
        fail(std::move(*refused));
        return;
    }
    work_cv_.notify_one();
    timer_cv_.notify_one();
}

// Fails the calls no worker took before their deadline. A separate thread because every worker
// may be stuck in a slow call: that is exactly when the deadline matters.
void pg_pool::timer() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        if (queue_.empty()) {
            timer_cv_.wait(lock);
            continue;
        }
        const auto now = steady_clock::now();
        if (queue_.front().deadline > now) {
            timer_cv_.wait_until(lock, queue_.front().deadline);
            continue;
        }
        std::vector<task> expired;
        while (!queue_.empty() && queue_.front().deadline <= now) {
            expired.push_back(std::move(queue_.front()));
            queue_.pop_front();
        }
        const auto waiting = queue_.size();
        lock.unlock();
        const auto e = unavailable(fmt::format(
            "postgres pool exhausted (no connection free within {} ms; {} connections, {} more "
            "calls waiting)",
            options_.acquire_timeout.count(), options_.connections, waiting));
        for (auto& t : expired) {
            t.fail(e);
        }
        lock.lock();
    }
}

pqxx::connection* pg_pool::ensure(slot& s, std::string& why) {
    if (s.conn && closed_while_idle(*s.conn)) {
        spdlog::warn("postgres {}: connection closed by the server; reconnecting", description_);
        s.conn.reset();
        --open_;
    }
    if (s.conn) {
        return s.conn.get();
    }
    const auto now = steady_clock::now();
    if (now < s.retry_at) {
        why = fmt::format("postgres unreachable ({}; next try in {} ms)", s.last_error,
                          std::chrono::duration_cast<milliseconds>(s.retry_at - now).count());
        return nullptr;
    }
    std::string error;
    try {
        auto c = std::make_unique<pqxx::connection>(conninfo_);
        // We reopen connections ourselves (with a backoff, and re-running `prepare_`);
        // libpqxx's silent reactivation would skip both and lose the session's settings.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
        c->inhibit_reactivation(true);
#pragma GCC diagnostic pop
        {
            pqxx::nontransaction tx(*c);
            tx.exec_params("SELECT set_config('statement_timeout', $1, false)",
                           std::to_string(options_.statement_timeout.count()));
        }
        if (auto r = prepare_ ? prepare_(*c) : core::result<void>(); !r) {
            error = r.err().message;
        } else {
            s.conn = std::move(c);
            ++open_;
        }
    } catch (const std::exception& e) {
        error = one_line(e.what());
    }
    if (s.conn) {
        if (s.backoff.count() > 0) {
            spdlog::info("postgres {}: reconnected", description_);
        }
        s.backoff = milliseconds(0);
        s.retry_at = {};
        return s.conn.get();
    }
    const bool first = s.backoff.count() == 0;
    s.last_error = std::move(error);
    s.backoff = first ? first_backoff : std::min(s.backoff * 2, options_.reconnect_backoff_max);
    s.retry_at = steady_clock::now() + s.backoff;
    if (first) {
        spdlog::warn("postgres {}: cannot connect: {}", description_, s.last_error);
    }
    why = std::string("postgres unreachable: ").append(s.last_error);
    return nullptr;
}

void pg_pool::worker() {
    slot s;
    std::string why;
    (void)ensure(s, why); // connect ahead of the first call
    for (;;) {
        task t;
        {
            std::unique_lock lock(mutex_);
            work_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
            if (stopping_) {
                if (s.conn) {
                    --open_;
                }
                return; // the destructor fails what is queued
            }
            t = std::move(queue_.front());
            queue_.pop_front();
        }
        auto* c = ensure(s, why);
        if (c == nullptr) {
            t.fail(unavailable(why));
            continue;
        }
        std::function<void()> complete;
        try {
            complete = t.exec(*c);
        } catch (...) {
            bool drop = false;
            auto e = classify(std::current_exception(), drop);
            if (drop || !c->is_open()) {
                spdlog::warn("postgres {}: {}; reconnecting", description_, e.message);
                s.conn.reset();
                --open_;
            }
            t.fail(std::move(e));
            continue;
        }
        complete();
    }
}

} // namespace livehouse::state::postgres
