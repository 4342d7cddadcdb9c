// A TCP listener for HTTP and RTMP: binds on one context, accepts, and hands each connection to
// the next context of the io_pool, where it lives for its whole life.
//
// Created by a factory that either returns a bound, listening acceptor or an error naming the
// address and port ("listen 0.0.0.0:8080: Address already in use") - never a half-built object.
// Binding and accepting are separate steps so the composition root can learn the real ports
// (port 0) before it wires the services and starts serving.
//
// Limits: accept errors such as EMFILE (out of file descriptors) pause accepting for 100 ms
// instead of spinning; the kernel backlog is the system maximum (SOMAXCONN).
#pragma once

#include "core/result.hpp"
#include "net/io_pool.hpp"

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace livehouse::net {

class tcp_listener : public std::enable_shared_from_this<tcp_listener> {
  public:
    using socket = boost::asio::ip::tcp::socket;
    /// Runs on the connection's own context (the socket's executor), once per connection.
    using accept_handler = std::function<void(socket)>;

    /// Binds `address:port` (numeric, or a host name resolved once, first result) with
    /// SO_REUSEADDR and starts listening. `accept_context` runs the accept loop; connections go
    /// to pool.next(). `name` prefixes log lines ("http", "rtmp"). Both the context and the
    /// pool must outlive the listener.
    /// Errors: bad address, or open/bind/listen failures, with the address and port named.
    static core::result<std::shared_ptr<tcp_listener>> bind(boost::asio::io_context& accept_context,
                                                            io_pool& pool, std::string name,
                                                            std::string_view address,
                                                            std::uint16_t port);

    ~tcp_listener();
    tcp_listener(const tcp_listener&) = delete;
    tcp_listener& operator=(const tcp_listener&) = delete;

    /// The bound port (the kernel's choice when bound to port 0).
    [[nodiscard]] std::uint16_t port() const { return endpoint_.port(); }
    [[nodiscard]] const boost::asio::ip::tcp::endpoint& local_endpoint() const { return endpoint_; }

    /// Starts the accept loop. Call once, from any thread.
    void start(accept_handler on_accept);
    /// Closes the acceptor: no new connections after it returns (when the accept context is
    /// running, it waits up to 1 s for the close to run there). Connections already handed
    /// over are unaffected. Thread-safe, idempotent.
    void stop();

  private:
    tcp_listener(boost::asio::io_context& accept_context, io_pool& pool, std::string name);
    void do_accept();
    void on_accept(const boost::system::error_code& ec, socket s);

    boost::asio::io_context& context_;
    io_pool& pool_;
    std::string name_;
    boost::asio::ip::tcp::acceptor acceptor_;
    boost::asio::steady_timer retry_timer_;
    boost::asio::ip::tcp::endpoint endpoint_;
    accept_handler on_accept_;
    bool stopped_ = false; // only touched on context_ (or before start())
    std::atomic<bool> started_{false};
};

} // namespace livehouse::net
