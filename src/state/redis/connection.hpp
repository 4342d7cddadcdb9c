// One TCP connection to one Redis server: commands are pipelined (everything queued while a
// write is in flight goes out in the next write, no waiting for replies in between) and
// replies, parsed by hiredis's reply reader (redisReader), complete the commands in order.
//
// A connection in subscriber mode has no per-command completions: every reply (subscribe
// confirmations, messages) goes to the push handler.
//
// Not thread-safe: every call, and every handler, runs on the strand given at creation (the
// owning client's). A connection never reconnects: when it closes (peer gone, I/O error, a reply
// later than `reply_timeout`, close()), every pending command completes with an error saying
// why, `on_closed` runs once, and the owner decides what comes next.
#pragma once

#include "state/redis/reply.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <string>

struct redisReader;

namespace livehouse::state::redis {

using strand = boost::asio::strand<boost::asio::io_context::executor_type>;

struct connection_options {
    std::chrono::milliseconds connect_timeout{1000};
    /// A pending reply older than this closes the connection (a server that stopped answering
    /// must not leave calls hanging).
    std::chrono::milliseconds reply_timeout{5000};
    /// Commands waiting for a reply at most; past it a command fails at once.
    std::size_t max_pending = 1 << 20;
    std::string password; ///< AUTH before anything else when not empty
};

class connection : public std::enable_shared_from_this<connection> {
  public:
    using reply_handler = std::function<void(reply_result)>;
    using push_handler = std::function<void(reply)>;
    using closed_handler = std::function<void(const core::error&)>;

    /// `push` non-empty makes it a subscriber-mode connection.
    static std::shared_ptr<connection> create(strand s, std::string host, std::uint16_t port,
                                              connection_options options, push_handler push,
                                              closed_handler on_closed);
    ~connection();
    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;

    /// Connects (with the connect timeout); `ready` gets success or the reason it failed (then
    /// the connection is closed, `on_closed` is not called).
    void start(std::function<void(core::result<void>)> ready);

    /// Queues a command; `done` runs with its reply, or with an error if the connection closes
    /// first. Before start() completes, commands wait and go out right after connecting.
    void send(const command& cmd, reply_handler done);
    /// Sends without a completion (subscriber mode: SSUBSCRIBE, SUNSUBSCRIBE).
    void send_push(const command& cmd);

    /// Closes now: pending commands fail with `why`, `on_closed` runs (if it was open).
    void close(const core::error& why);

    [[nodiscard]] bool is_open() const { return state_ == state::open; }
    [[nodiscard]] const std::string& address() const { return address_; }
    [[nodiscard]] std::size_t pending() const { return pending_.size(); }

  private:
    enum class state : std::uint8_t { idle, connecting, open, closed };
    struct pending_reply {
        reply_handler done; ///< empty: an internal command whose reply is dropped (AUTH)
        std::chrono::steady_clock::time_point sent;
    };

    connection(strand s, std::string host, std::uint16_t port, connection_options options,
               push_handler push, closed_handler on_closed);
    void write_some();
    void read_some();
    void on_reply(reply r);
    void arm_watchdog();
    void fail_all(const core::error& why);
    void finish_start(core::result<void> r);

    strand strand_;
    boost::asio::ip::tcp::socket socket_;
    boost::asio::ip::tcp::resolver resolver_;
    boost::asio::steady_timer timer_; ///< connect timeout, then the reply watchdog
    std::string host_;
    std::uint16_t port_;
    std::string address_;
    connection_options options_;
    push_handler push_;
    closed_handler on_closed_;
    std::function<void(core::result<void>)> ready_; ///< start()'s, until it has run
    state state_ = state::idle;
    redisReader* reader_;
    std::string out_;     ///< encoded, not yet written
    std::string writing_; ///< being written
    bool write_in_flight_ = false;
    std::deque<pending_reply> pending_;
    std::unique_ptr<char[]> in_;
};

} // namespace livehouse::state::redis
