// One HTTP/1.1 connection: read a request, route it, hand it to a handler, write the response
// the handler returns (from any thread) without copying its body, repeat while keep-alive.
//
// Lives on the context its socket was accepted into; every member is touched only there. The
// session keeps itself alive through the shared_ptr captured by its pending operation or by the
// outstanding responder. Internal to net: services see only http_types.hpp.
#pragma once

#include "net/http_server.hpp"
#include "net/http_types.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace livehouse::net {

class http_session : public std::enable_shared_from_this<http_session> {
  public:
    http_session(boost::asio::ip::tcp::socket socket, std::shared_ptr<http_shared_state> shared);
    ~http_session();
    http_session(const http_session&) = delete;
    http_session& operator=(const http_session&) = delete;

    /// Starts reading. Call on the socket's context.
    void start();

  private:
    friend struct reply_slot;

    void read_header();
    void on_header(boost::beast::error_code ec);
    void read_body();
    void on_body(boost::beast::error_code ec);
    void on_read_error(boost::beast::error_code ec);
    void on_request();
    /// An upgrade request on a websocket route (RFC 6455 §4.2.1): checks it, asks the route,
    /// and either writes the route's refusal or hands the socket to a new ws_session.
    void upgrade(const route_match& m);
    /// Called on the session's context with the handler's response (or a generated one).
    void deliver(std::uint64_t seq, response r);
    void write(response r);
    void on_write(boost::beast::error_code ec);
    /// Sends header_ then [file_offset_, file_end_) of blob_'s memory file with sendfile(2),
    /// waiting for writability on EAGAIN; ends in on_write.
    void send_file();
    void wait_writable();
    /// Writes header_ (if not yet) and what has arrived of filling_, then waits for more
    /// (woken by filling_bytes, no polling); ends in on_write.
    void write_filling();
    void respond_error(http::status status, std::string_view message, std::string route_name,
                       bool close);
    void linger_close();
    void linger_read();
    void close();

    boost::beast::tcp_stream stream_;
    std::string remote_ip_; ///< the peer's address, for route_params (remote_address_param)
    boost::asio::any_io_executor exec_;
    std::shared_ptr<http_shared_state> shared_;
    boost::beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    request req_;
    bool first_request_ = true;
    bool keep_alive_ = true;
    bool answered_ = false; // the current request has its response
    http::verb method_ = http::verb::get;
    std::uint64_t seq_ = 0; // the request a responder answers; stale replies are dropped
    std::string route_name_;
    std::chrono::steady_clock::time_point started_;
    // The response in flight: header text and the body it points into (held until written).
    std::string header_;
    core::shared_bytes body_;
    // A body sent with sendfile(2) (a live segment): its file, the range still to send, and
    // the write deadline (the Beast stream's timer only covers Beast's own operations).
    core::shared_blob blob_;
    std::size_t header_sent_ = 0;
    off_t file_offset_ = 0;
    off_t file_end_ = 0;
    boost::asio::steady_timer send_deadline_;
    // A body still arriving (response::filling): bytes [0, filling_sent_) are written, the
    // response ends at filling_end_.
    core::shared_filling_bytes filling_;
    std::size_t filling_sent_ = 0;
    std::size_t filling_end_ = 0;
    bool header_written_ = false;
    int status_code_ = 0;
    // The series the last response counted in: a keep-alive connection mostly repeats one
    // route and status, and a family lookup costs a lock, a key string and a map search.
    struct counted_in {
        std::string route;
        int status = 0;
        core::counter* requests = nullptr;
        core::histogram* duration = nullptr;
    } counted_;
    std::unique_ptr<char[]> discard_;
    std::size_t discarded_ = 0;
};

} // namespace livehouse::net
