// endpoints: where a run's connections go — the target's address, or each of the scenario's
// connect_to (a tier of edges behind one name) — and where they come from: with local_ips,
// each connection is bound to one of those source addresses (k6's --local-ips). Resolved once
// before the clock starts. Actor or VU ordinal i (0-based, unique across every loop and worker)
// connects to the (i mod n)th remote from the ((i / n) mod m)th local address, so the audience
// is spread evenly over every pair whatever the number of loops or workers.
//
// Why source addresses matter: Linux picks a connect()'s ephemeral port by walking the range
// and checking each candidate's 4-tuple (__inet_check_established). From one address to one
// server the walk passes every port already in use there, so connecting grows linear in the
// connections open: at 100,000 viewers from 127.0.0.1 it was 90 % of the generator's CPU.
// And one source address reaches one server on at most ~28,000 ports
// (net.ipv4.ip_local_port_range).
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <utility>
#include <vector>

namespace livehouse::stress {

class endpoints {
  public:
    /// `remotes` is not empty; `locals` may be.
    explicit endpoints(std::vector<boost::asio::ip::tcp::endpoint> remotes,
                       std::vector<boost::asio::ip::address> locals = {})
        : remotes_(std::move(remotes)), locals_(std::move(locals)) {}

    /// Where actor `ordinal` connects.
    [[nodiscard]] const boost::asio::ip::tcp::endpoint& of(std::uint64_t ordinal) const {
        return remotes_[ordinal % remotes_.size()];
    }

    /// Opens `sock` for actor `ordinal`'s next connection (unless open), bound to its source
    /// address when there are local addresses. IP_BIND_ADDRESS_NO_PORT: the port is chosen at
    /// connect() for the whole 4-tuple, not reserved at bind() for every destination.
    template <class Socket>
    void open(Socket& sock, std::uint64_t ordinal, boost::system::error_code& ec) const {
        ec = {};
        if (sock.is_open()) {
            return;
        }
        const auto& remote = of(ordinal);
        sock.open(remote.protocol(), ec);
        if (ec || locals_.empty()) {
            return;
        }
        const auto& local = locals_[(ordinal / remotes_.size()) % locals_.size()];
#ifdef IP_BIND_ADDRESS_NO_PORT
        if (local.is_v4()) {
            boost::system::error_code ignored; // an optimisation: bind works without it
            sock.set_option(bind_no_port(true), ignored);
        }
#endif
        sock.bind(boost::asio::ip::tcp::endpoint(local, 0), ec);
    }

  private:
#ifdef IP_BIND_ADDRESS_NO_PORT
    using bind_no_port =
        boost::asio::detail::socket_option::boolean<IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT>;
#endif
    std::vector<boost::asio::ip::tcp::endpoint> remotes_;
    std::vector<boost::asio::ip::address> locals_;
};

} // namespace livehouse::stress
