// line_channel (see line_channel.hpp).
#include "stress/line_channel.hpp"

#include <boost/asio/write.hpp>
#include <fmt/format.h>
#include <poll.h>
#include <sys/socket.h>

namespace livehouse::stress {

namespace asio = boost::asio;

line_channel::line_channel(asio::ip::tcp::socket socket) : socket_(std::move(socket)) {}

core::result<void> line_channel::send(const nlohmann::json& message) {
    auto line = message.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    line.push_back('\n');
    boost::system::error_code ec;
    asio::write(socket_, asio::buffer(line), ec);
    if (ec) {
        return core::make_error(fmt::format("send: {}", ec.message()));
    }
    return {};
}

core::result<nlohmann::json>
line_channel::receive(std::optional<std::chrono::milliseconds> timeout) {
    const auto deadline =
        std::chrono::steady_clock::now() + timeout.value_or(std::chrono::hours(0));
    std::size_t scanned = 0;
    for (;;) {
        if (const auto nl = in_.find('\n', scanned); nl != std::string::npos) {
            auto j = nlohmann::json::parse(in_.data(), in_.data() + nl, nullptr, false);
            in_.erase(0, nl + 1);
            if (j.is_discarded()) {
                return core::make_error("receive: a line that is not JSON");
            }
            return j;
        }
        scanned = in_.size();
        if (in_.size() > max_line_bytes) {
            return core::make_error("receive: a line over 64 MiB");
        }
        if (timeout) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            pollfd p{socket_.native_handle(), POLLIN, 0};
            if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
                return core::make_error("receive: timed out");
            }
        }
        char buf[64 * 1024];
        boost::system::error_code ec;
        const auto n = socket_.read_some(asio::buffer(buf), ec);
        if (ec) {
            return core::make_error(ec == asio::error::eof
                                        ? std::string("receive: connection closed")
                                        : fmt::format("receive: {}", ec.message()));
        }
        in_.append(buf, n);
    }
}

void line_channel::abort() {
    ::shutdown(socket_.native_handle(), SHUT_RDWR);
}

} // namespace livehouse::stress
