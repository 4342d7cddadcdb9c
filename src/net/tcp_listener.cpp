// tcp_listener: bind/listen factory and the accept loop.
#include "net/tcp_listener.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <fmt/format.h>
#include <future>
#include <spdlog/spdlog.h>

namespace livehouse::net {

namespace asio = boost::asio;
using boost::asio::ip::tcp;

tcp_listener::tcp_listener(asio::io_context& accept_context, io_pool& pool, std::string name)
    : context_(accept_context), pool_(pool), name_(std::move(name)), acceptor_(accept_context),
      retry_timer_(accept_context) {}

tcp_listener::~tcp_listener() = default;

core::result<std::shared_ptr<tcp_listener>> tcp_listener::bind(asio::io_context& accept_context,
                                                               io_pool& pool, std::string name,
                                                               std::string_view address,
                                                               std::uint16_t port) {
    const auto where = fmt::format("{}: listen {}:{}", name, address, port);
    boost::system::error_code ec;
    tcp::endpoint ep;
    auto ip = asio::ip::make_address(std::string(address), ec);
    if (!ec) {
        ep = tcp::endpoint(ip, port);
    } else {
        // A host name such as "localhost": resolve once at start-up (blocking is fine here).
        tcp::resolver resolver(accept_context);
        auto results = resolver.resolve(std::string(address), std::to_string(port),
                                        tcp::resolver::passive, ec);
        if (ec || results.empty()) {
            return core::make_error(fmt::format("{}: cannot resolve address: {}", where,
                                                ec ? ec.message() : "no results"));
        }
        ep = results.begin()->endpoint();
    }

    std::shared_ptr<tcp_listener> l(new tcp_listener(accept_context, pool, std::move(name)));
    auto& a = l->acceptor_;
    if (a.open(ep.protocol(), ec); ec) {
        return core::make_error(fmt::format("{}: open: {}", where, ec.message()));
    }
    // SO_REUSEADDR: a restart must not fail on connections still in TIME_WAIT.
    if (a.set_option(asio::socket_base::reuse_address(true), ec); ec) {
        return core::make_error(fmt::format("{}: SO_REUSEADDR: {}", where, ec.message()));
    }
    if (a.bind(ep, ec); ec) {
        return core::make_error(fmt::format("{}: {}", where, ec.message()));
    }
    if (a.listen(asio::socket_base::max_listen_connections, ec); ec) {
        return core::make_error(fmt::format("{}: {}", where, ec.message()));
    }
    l->endpoint_ = a.local_endpoint(ec);
    if (ec) {
        return core::make_error(fmt::format("{}: local endpoint: {}", where, ec.message()));
    }
    return l;
}

void tcp_listener::start(accept_handler on_accept) {
    started_.store(true);
    asio::dispatch(context_, [self = shared_from_this(), h = std::move(on_accept)]() mutable {
        self->on_accept_ = std::move(h);
        if (!self->stopped_) {
            self->do_accept();
        }
    });
}

void tcp_listener::do_accept() {
    // Accept straight into a socket owned by the connection's context: no migration later.
    acceptor_.async_accept(
        pool_.next(), [self = shared_from_this()](const boost::system::error_code& ec, socket s) {
            self->on_accept(ec, std::move(s));
        });
}

void tcp_listener::on_accept(const boost::system::error_code& ec, socket s) {
    if (stopped_ || ec == asio::error::operation_aborted) {
        return;
    }
    if (ec) {
        // EMFILE/ENFILE/ENOBUFS: the pending connection stays in the backlog; retrying at once
        // would spin a core. Pause, then resume.
        spdlog::warn("{}: accept failed: {} (retrying in 100 ms)", name_, ec.message());
        retry_timer_.expires_after(std::chrono::milliseconds(100));
        retry_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& e) {
            if (!e && !self->stopped_) {
                self->do_accept();
            }
        });
        return;
    }
    boost::system::error_code ignored;
    // Both protocols write whole messages; Nagle would only add latency to each response.
    s.set_option(tcp::no_delay(true), ignored);
    auto exec = s.get_executor();
    asio::post(exec, [self = shared_from_this(), sock = std::move(s)]() mutable {
        self->on_accept_(std::move(sock));
    });
    do_accept();
}

void tcp_listener::stop() {
    auto close = [self = shared_from_this()] {
        self->stopped_ = true;
        boost::system::error_code ignored;
        self->retry_timer_.cancel();
        self->acceptor_.close(ignored);
    };
    // Never started: no accept is pending and no other thread touches the acceptor.
    if (!started_.load() || context_.get_executor().running_in_this_thread() ||
        context_.stopped()) {
        close();
        return;
    }
    auto done = std::make_shared<std::promise<void>>();
    auto fut = done->get_future();
    asio::post(context_, [close, done] {
        close();
        done->set_value();
    });
    // If the context is not being run, the close happens when the listener is destroyed.
    fut.wait_for(std::chrono::seconds(1));
}

} // namespace livehouse::net
