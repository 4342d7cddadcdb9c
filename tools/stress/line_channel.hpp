// line_channel: JSON messages, one per line, over a blocking TCP socket — how a coordinator and
// its `livehouse stress --worker`s talk. Control traffic only (a job, a progress line a second,
// the statistics at the end), on the threads that coordinate, never on a load loop.
//
// A line is at most max_line_bytes (64 MiB: a long run's statistics with a timeline); a longer
// one, a line that is not JSON, or a closed connection is an error, never an exception.
#pragma once

#include "core/result.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace livehouse::stress {

class line_channel {
  public:
    static constexpr std::size_t max_line_bytes = 64 * 1024 * 1024;

    explicit line_channel(boost::asio::ip::tcp::socket socket);

    core::result<void> send(const nlohmann::json& message);
    /// The next line; with a timeout, an error when no whole line came within it.
    core::result<nlohmann::json>
    receive(std::optional<std::chrono::milliseconds> timeout = std::nullopt);
    /// From another thread: ends a receive() that waits (shutdown(2) on the descriptor).
    void abort();

  private:
    boost::asio::ip::tcp::socket socket_;
    std::string in_; ///< received, not yet returned
};

} // namespace livehouse::stress
