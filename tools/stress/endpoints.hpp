// endpoints: the addresses a run's connections go to — the target's, or each of the
// scenario's connect_to (a tier of edges behind one name). Resolved once before the clock
// starts; actor or VU ordinal i (0-based, unique across every loop and worker) connects to the
// (i mod n)th, so the audience is spread evenly whatever the number of loops or workers.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <utility>
#include <vector>

namespace livehouse::stress {

class endpoints {
  public:
    /// `all` is not empty.
    explicit endpoints(std::vector<boost::asio::ip::tcp::endpoint> all) : all_(std::move(all)) {}

    [[nodiscard]] const boost::asio::ip::tcp::endpoint& of(std::uint64_t ordinal) const {
        return all_[ordinal % all_.size()];
    }
    [[nodiscard]] std::size_t size() const { return all_.size(); }

  private:
    std::vector<boost::asio::ip::tcp::endpoint> all_;
};

} // namespace livehouse::stress
