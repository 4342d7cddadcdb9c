// http_session: the per-connection read -> route -> respond loop, and the generic HTTP rules.
#include "net/http_session.hpp"

#include "net/http_rules.hpp"
#include "net/ws_session.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/string.hpp>
#include <cerrno>
#include <ctime>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/sendfile.h>
#include <sys/socket.h>

namespace livehouse::net {

namespace asio = boost::asio;
namespace beast = boost::beast;

namespace {

// IMF-fixdate (RFC 9110 §5.6.7), formatted once per second per thread.
std::string_view http_date() {
    thread_local std::time_t last = 0;
    thread_local std::array<char, 40> buf{};
    const std::time_t now = std::time(nullptr);
    if (now != last) {
        last = now;
        std::tm tm{};
        gmtime_r(&now, &tm);
        const auto n = std::strftime(buf.data(), buf.size(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
        buf[n] = '\0';
    }
    return {buf.data()};
}

// A header a service sets must not be able to smuggle a second header or a body (CRLF
// injection): names are tokens, values have no CR, LF or NUL.
bool safe_header(std::string_view name, std::string_view value) {
    if (name.empty()) {
        return false;
    }
    for (char c : name) {
        if (c <= ' ' || c == ':' || c == 0x7f) {
            return false;
        }
    }
    return value.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

void append_header(std::string& out, std::string_view name, std::string_view value) {
    out.append(name);
    out.append(": ");
    out.append(value);
    out.append("\r\n");
}

constexpr std::string_view continue_100 = "HTTP/1.1 100 Continue\r\n\r\n";
constexpr std::size_t linger_limit = 1024 * 1024;
constexpr std::size_t discard_chunk = 16 * 1024;

} // namespace

/// Shared by every copy of one request's responder. Delivers exactly one response: the first
/// reply() wins, later ones are dropped, and if the handler lets every copy die without
/// replying the client gets a 500 instead of a hung connection.
struct reply_slot {
    std::shared_ptr<http_session> session;
    std::uint64_t seq = 0;
    std::atomic<bool> done{false};

    reply_slot(std::shared_ptr<http_session> s, std::uint64_t q) : session(std::move(s)), seq(q) {}
    reply_slot(const reply_slot&) = delete;
    reply_slot& operator=(const reply_slot&) = delete;

    ~reply_slot() {
        if (!done.load()) {
            auto r = json_error(http::status::internal_server_error, "handler did not respond");
            r.cors = true;
            post(std::move(r));
        }
    }

    void reply(response r) {
        if (done.exchange(true)) {
            spdlog::warn("http: responder called twice; second response dropped");
            return;
        }
        post(std::move(r));
    }

    void post(response r) {
        // Always a post, even from the session's own thread: the handler is still on the
        // stack, and writing from inside it would re-enter the session.
        asio::post(session->exec_, [s = session, q = seq, r = std::move(r)]() mutable {
            s->deliver(q, std::move(r));
        });
    }
};

http_session::http_session(asio::ip::tcp::socket socket, std::shared_ptr<http_shared_state> shared)
    : stream_(std::move(socket)), exec_(stream_.get_executor()), shared_(std::move(shared)),
      send_deadline_(exec_) {
    boost::system::error_code ec;
    const auto ep = stream_.socket().remote_endpoint(ec);
    if (!ec) {
        remote_ip_ = ep.address().to_string();
    }
    shared_->open.fetch_add(1);
    shared_->open_gauge.inc();
}

http_session::~http_session() {
    shared_->open.fetch_sub(1);
    shared_->open_gauge.dec();
}

void http_session::start() {
    read_header();
}

void http_session::read_header() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(shared_->limits.max_header_bytes));
    parser_->body_limit(shared_->limits.max_body_bytes);
    stream_.expires_after(first_request_ ? shared_->limits.read_timeout
                                         : shared_->limits.idle_timeout);
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_header(ec); });
}

void http_session::on_header(beast::error_code ec) {
    if (ec) {
        on_read_error(ec);
        return;
    }
    if (parser_->is_done()) {
        on_request();
        return;
    }
    // The header passed every limit: now the body. RFC 9110 §10.1.1: a client that sent
    // "Expect: 100-continue" waits for the interim response before sending it.
    if (beast::iequals(parser_->get()[http::field::expect], "100-continue")) {
        stream_.expires_after(shared_->limits.read_timeout);
        asio::async_write(stream_, asio::buffer(continue_100.data(), continue_100.size()),
                          [self = shared_from_this()](beast::error_code e, std::size_t) {
                              if (e) {
                                  self->close();
                                  return;
                              }
                              self->read_body();
                          });
        return;
    }
    read_body();
}

void http_session::read_body() {
    stream_.expires_after(shared_->limits.read_timeout);
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_body(ec); });
}

void http_session::on_body(beast::error_code ec) {
    if (ec) {
        on_read_error(ec);
        return;
    }
    on_request();
}

void http_session::on_read_error(beast::error_code ec) {
    // The request (if any) is incomplete: nothing of it may leak into the error response.
    req_ = {};
    method_ = http::verb::get;
    started_ = std::chrono::steady_clock::now();
    ++seq_;
    answered_ = false;
    if (ec == http::error::header_limit) {
        respond_error(http::status::request_header_fields_too_large,
                      "request header fields too large", "rejected", true);
    } else if (ec == http::error::body_limit) {
        respond_error(http::status::payload_too_large, "request body too large", "rejected", true);
    } else if (ec.category() == http::make_error_code(http::error::bad_target).category() &&
               ec != http::error::end_of_stream && ec != http::error::partial_message) {
        // Any other parse error (bad method, target, version, field, chunk...).
        respond_error(http::status::bad_request, "malformed request: " + ec.message(), "rejected",
                      true);
    } else {
        // end_of_stream, eof, reset, timeout, partial message: nobody to answer.
        close();
    }
}

void http_session::on_request() {
    req_ = parser_->release();
    parser_.reset();
    first_request_ = false;
    ++seq_;
    answered_ = false;
    started_ = std::chrono::steady_clock::now();
    method_ = req_.method();
    keep_alive_ = req_.keep_alive() && !shared_->stopping.load();

    auto m = shared_->routes->match(req_.method(), req_.target());
    switch (m.result) {
    case route_match::outcome::bad_request:
        respond_error(http::status::bad_request, m.error, "bad_request", false);
        return;
    case route_match::outcome::not_found:
        respond_error(http::status::not_found, "not found", "not_found", false);
        return;
    case route_match::outcome::method_not_allowed: {
        if (m.websocket_route && is_websocket_upgrade(req_)) {
            // RFC 6455 §4.2.1: the opening handshake is a GET; anything else is answered
            // "with an appropriate error code (such as 400 Bad Request)".
            respond_error(http::status::bad_request, "websocket handshake must be a GET",
                          m.route_name.empty() ? "rejected" : m.route_name, false);
            return;
        }
        response r;
        if (method_ == http::verb::options) {
            // CORS preflight (Fetch standard §3.2.2) and plain OPTIONS (RFC 9110 §9.3.7).
            route_name_ = "options";
            r.status = http::status::no_content;
            r.content_type.clear();
            auto req_headers = req_[http::field::access_control_request_headers];
            if (req_headers.empty() || !safe_header("x", req_headers)) {
                req_headers = "Authorization, Content-Type, Range, If-None-Match";
            }
            r.headers = {{"Allow", m.allow},
                         {"Access-Control-Allow-Methods", m.allow},
                         {"Access-Control-Allow-Headers", std::string(req_headers)},
                         {"Access-Control-Max-Age", "600"}};
        } else {
            // RFC 9110 §15.5.6: a 405 MUST carry Allow.
            route_name_ = "method_not_allowed";
            r = json_error(http::status::method_not_allowed, "method not allowed");
            r.headers.emplace_back("Allow", m.allow);
        }
        r.cors = true;
        answered_ = true;
        write(std::move(r));
        return;
    }
    case route_match::outcome::found:
        break;
    }

    route_name_ = m.route_name;
    m.params.emplace(remote_address_param, remote_ip_);
    if (m.websocket != nullptr && is_websocket_upgrade(req_)) {
        upgrade(m);
        return;
    }
    auto slot = std::make_shared<reply_slot>(shared_from_this(), seq_);
    responder reply = [slot](response r) { slot->reply(std::move(r)); };
    try {
        (*m.target)(req_, m.params, std::move(reply));
    } catch (const std::exception& e) {
        // A bug in a handler: the slot answers 500 once its last copy dies.
        spdlog::error("http: handler for route {} threw: {}", route_name_, e.what());
    }
}

void http_session::upgrade(const route_match& m) {
    answered_ = true;
    if (auto refusal = ws_handshake_refusal(req_)) {
        write(std::move(*refusal));
        return;
    }
    if (shared_->stopping.load()) {
        keep_alive_ = false;
        auto r = json_error(http::status::service_unavailable, "server shutting down");
        r.cors = true;
        write(std::move(r));
        return;
    }
    ws_decision decision;
    try {
        decision = (*m.websocket)(req_, m.params, m.query, exec_);
    } catch (const std::exception& e) {
        spdlog::error("http: websocket route {} threw: {}", route_name_, e.what());
        decision = json_error(http::status::internal_server_error, "internal error");
    }
    if (auto* refused = std::get_if<response>(&decision)) {
        // A refusal (401, 404...) is an ordinary response: keep-alive rules apply.
        write(std::move(*refused));
        return;
    }
    auto accepted = std::get<std::shared_ptr<ws_handler>>(std::move(decision));
    if (!accepted) {
        write(json_error(http::status::internal_server_error, "no websocket handler"));
        return;
    }
    const auto elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    shared_->requests.with({route_name_, "101"}).inc();
    shared_->durations.with({route_name_}).observe(elapsed);

    // Bytes read past the request are the client's first frames: they go with the socket.
    const auto pending = buffer_.data();
    const std::string_view already(static_cast<const char*>(pending.data()), pending.size());
    auto session =
        std::make_shared<ws_session>(stream_.release_socket(), shared_->ws, std::move(accepted));
    session->start(ws_handshake_response(req_, shared_->server_header), already);
    buffer_.consume(buffer_.size());
    // This http_session ends here: nothing of it is pending any more.
}

void http_session::deliver(std::uint64_t seq, response r) {
    if (seq != seq_ || answered_) {
        return; // a late reply for a request already answered (or a closed session)
    }
    answered_ = true;
    write(std::move(r));
}

void http_session::respond_error(http::status status, std::string_view message,
                                 std::string route_name, bool close_after) {
    route_name_ = std::move(route_name);
    if (close_after) {
        keep_alive_ = false;
    }
    auto r = json_error(status, message);
    if (status == http::status::not_found) {
        // A short max-age rather than no-store: a CDN in front absorbs a storm of requests for
        // a missing path (the LINE LIVE 404-retry storm) and still forgets it within a second.
        r.cache_control = "public, max-age=1";
    }
    r.cors = true;
    answered_ = true;
    write(std::move(r));
}

void http_session::write(response r) {
    const bool get_or_head = method_ == http::verb::get || method_ == http::verb::head;
    if (r.filling && !r.filling->is_sized() &&
        r.filling->current() != core::filling_bytes::state::complete) {
        // Its length is not known yet, so no Content-Length can be sent (a service bug).
        spdlog::error("http: route {}: unsized body answered before it was complete", route_name_);
        r = json_error(http::status::bad_gateway, "upstream body incomplete");
    }
    // A filling body that already arrived whole is sent like any other body.
    const bool filling_whole =
        r.filling && r.filling->current() == core::filling_bytes::state::complete;
    auto status = r.status;
    const std::size_t size = r.blob      ? r.blob->size()
                             : r.filling ? r.filling->size()
                             : r.body    ? r.body->size()
                                         : 0;
    std::size_t offset = 0;
    std::size_t length = size;
    std::string content_range;

    if (status == http::status::ok && get_or_head && !r.etag.empty() &&
        etag_matches(req_[http::field::if_none_match], r.etag)) {
        // RFC 9110 §13.1.2: "the origin server MUST NOT perform the requested method [...]
        // instead, [...] respond with the 304 (Not Modified) status code".
        status = http::status::not_modified;
        length = 0;
    } else if (status == http::status::ok && get_or_head && r.accept_ranges &&
               (!r.filling || filling_whole) && req_.find(http::field::range) != req_.end()) {
        bool use_range = true;
        // RFC 9110 §13.1.5: If-Range uses the strong comparison; otherwise send it all.
        if (auto if_range = req_[http::field::if_range]; !if_range.empty()) {
            use_range = !r.etag.empty() && !r.etag.starts_with("W/") && if_range == r.etag;
        }
        if (use_range) {
            const auto br = parse_range(req_[http::field::range], size);
            if (br.type == byte_range::kind::satisfiable) {
                status = http::status::partial_content;
                offset = static_cast<std::size_t>(br.first);
                length = static_cast<std::size_t>(br.last - br.first + 1);
                content_range = fmt::format("bytes {}-{}/{}", br.first, br.last, size);
            } else if (br.type == byte_range::kind::unsatisfiable) {
                // RFC 9110 §15.5.17: a 416 SHOULD carry "Content-Range: bytes */<size>".
                status = http::status::range_not_satisfiable;
                length = 0;
                content_range = fmt::format("bytes */{}", size);
                r.content_type.clear();
            }
        }
    }
    const unsigned code = static_cast<unsigned>(status);
    const bool no_content =
        status == http::status::no_content || status == http::status::not_modified || code < 200;
    if (no_content) {
        length = 0;
    }
    status_code_ = static_cast<int>(code);

    header_.clear();
    header_.reserve(512);
    header_ +=
        fmt::format("HTTP/1.1 {} {}\r\n", code, std::string_view(http::obsolete_reason(status)));
    append_header(header_, "Date", http_date());
    append_header(header_, "Server", shared_->server_header);
    if (!no_content) {
        if (!r.content_type.empty()) {
            append_header(header_, "Content-Type", r.content_type);
        }
        // RFC 9110 §9.3.2: HEAD carries the Content-Length a GET would have.
        append_header(header_, "Content-Length", fmt::format("{}", length));
    }
    if (!content_range.empty()) {
        append_header(header_, "Content-Range", content_range);
    }
    if (r.accept_ranges) {
        append_header(header_, "Accept-Ranges", "bytes");
    }
    if (!r.etag.empty() && safe_header("ETag", r.etag)) {
        append_header(header_, "ETag", r.etag);
    }
    if (!r.cache_control.empty() && safe_header("Cache-Control", r.cache_control)) {
        append_header(header_, "Cache-Control", r.cache_control);
    }
    if (r.cors) {
        append_header(header_, "Access-Control-Allow-Origin", "*");
        append_header(header_, "Access-Control-Expose-Headers",
                      "Content-Length, Content-Range, ETag");
    }
    for (const auto& [name, value] : r.headers) {
        if (safe_header(name, value)) {
            append_header(header_, name, value);
        } else {
            spdlog::warn("http: route {}: dropped unsafe header {}", route_name_, name);
        }
    }
    if (!keep_alive_) {
        append_header(header_, "Connection", "close");
    } else if (req_.version() == 10) {
        append_header(header_, "Connection", "keep-alive");
    }
    header_ += "\r\n";

    // Metrics before the write: "request read -> response ready", so a slow reader does not
    // inflate the route's latency (the write has its own deadline), and a client that has its
    // response can already see it counted.
    const auto elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    if (counted_.duration == nullptr || counted_.route != route_name_) {
        counted_.route = route_name_;
        counted_.duration = &shared_->durations.with({route_name_});
        counted_.requests = nullptr;
    }
    if (counted_.requests == nullptr || counted_.status != status_code_) {
        counted_.status = status_code_;
        counted_.requests =
            &shared_->requests.with({route_name_, fmt::format_int(status_code_).str()});
    }
    counted_.requests->inc();
    counted_.duration->observe(elapsed);

    const bool send_body = method_ != http::verb::head && length > 0;
    if (send_body && r.blob && r.blob->fd() >= 0) {
        // Zero-copy path: the kernel sends the memory file's pages by reference; header and
        // body leave in the same packets (MSG_MORE on the header, like nginx's tcp_nopush).
        blob_ = std::move(r.blob);
        header_sent_ = 0;
        file_offset_ = static_cast<off_t>(offset);
        file_end_ = static_cast<off_t>(offset + length);
        send_deadline_.expires_after(shared_->limits.write_timeout);
        send_deadline_.async_wait([self = shared_from_this()](beast::error_code ec) {
            if (!ec && self->blob_) {
                self->stream_.socket().cancel(); // the pending wait ends with operation_aborted
            }
        });
        send_file();
        return;
    }
    if (send_body && r.filling) {
        filling_ = std::move(r.filling);
        filling_sent_ = offset;
        filling_end_ = offset + length;
        header_written_ = false;
        write_filling();
        return;
    }
    body_ = send_body && !r.blob ? std::move(r.body) : nullptr;
    blob_ = send_body ? std::move(r.blob) : nullptr;
    stream_.expires_after(shared_->limits.write_timeout);
    auto done = [self = shared_from_this()](beast::error_code ec, std::size_t) {
        self->on_write(ec);
    };
    if (blob_) {
        // A blob without a descriptor: gather write of a view into it, as for body_.
        const std::array<asio::const_buffer, 2> bufs{
            asio::buffer(header_), asio::const_buffer(blob_->data() + offset, length)};
        asio::async_write(stream_, bufs, std::move(done));
    } else if (body_) {
        // Gather write: the header, then a view into the shared body (no copy). body_ keeps
        // the bytes alive until on_write.
        const std::array<asio::const_buffer, 2> bufs{
            asio::buffer(header_), asio::const_buffer(body_->data() + offset, length)};
        asio::async_write(stream_, bufs, std::move(done));
    } else {
        asio::async_write(stream_, asio::buffer(header_), std::move(done));
    }
}

void http_session::send_file() {
    // The descriptor is already non-blocking: Asio sets O_NONBLOCK on a socket's first
    // asynchronous operation, and a response always follows an async read of its request.
    const int sock = stream_.socket().native_handle();
    for (;;) {
        ssize_t n = 0;
        if (header_sent_ < header_.size()) {
            n = ::send(sock, header_.data() + header_sent_, header_.size() - header_sent_,
                       MSG_NOSIGNAL | MSG_MORE);
            if (n > 0) {
                header_sent_ += static_cast<std::size_t>(n);
                continue;
            }
        } else if (file_offset_ < file_end_) {
            n = ::sendfile(sock, blob_->fd(), &file_offset_,
                           static_cast<std::size_t>(file_end_ - file_offset_));
            if (n > 0) {
                continue;
            }
            if (n == 0) {
                // The sealed file cannot shrink; reaching its end early means a bug, and the
                // client has a Content-Length we cannot honour: drop the connection.
                spdlog::error("http: sendfile hit end of file at {} of {}", file_offset_,
                              file_end_);
                send_deadline_.cancel();
                on_write(make_error_code(boost::system::errc::io_error));
                return;
            }
        } else {
            send_deadline_.cancel();
            on_write({});
            return;
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            wait_writable();
            return;
        }
        send_deadline_.cancel();
        on_write(beast::error_code(errno, boost::system::system_category()));
        return;
    }
}

void http_session::wait_writable() {
    stream_.socket().async_wait(asio::ip::tcp::socket::wait_write,
                                [self = shared_from_this()](beast::error_code ec) {
                                    if (ec) {
                                        self->send_deadline_.cancel();
                                        self->on_write(ec);
                                        return;
                                    }
                                    self->send_file();
                                });
}

void http_session::write_filling() {
    const std::size_t available = std::min(filling_->available(), filling_end_);
    if (!header_written_ || filling_sent_ < available) {
        const std::array<asio::const_buffer, 2> bufs{
            header_written_ ? asio::const_buffer() : asio::buffer(header_),
            asio::const_buffer(filling_->data() + filling_sent_, available - filling_sent_)};
        stream_.expires_after(shared_->limits.write_timeout);
        asio::async_write(
            stream_, bufs,
            [self = shared_from_this(), available](beast::error_code ec, std::size_t) {
                if (ec) {
                    self->on_write(ec);
                    return;
                }
                self->header_written_ = true;
                self->filling_sent_ = available;
                self->write_filling();
            });
        return;
    }
    if (filling_sent_ == filling_end_) {
        on_write({});
        return;
    }
    if (filling_->current() == core::filling_bytes::state::failed) {
        // The upstream broke off mid-body: closing is the only honest end (the client knows
        // from Content-Length that it did not get everything).
        on_write(make_error_code(boost::system::errc::connection_aborted));
        return;
    }
    // Nothing new: woken by the writer's next commit. The wait holds the session (and only a
    // reference to the shared bytes); the upstream's own timeout fails the body if it stalls.
    filling_->when_beyond(filling_sent_, [self = shared_from_this()] {
        asio::post(self->exec_, [self] { self->write_filling(); });
    });
}

void http_session::on_write(beast::error_code ec) {
    body_.reset();
    blob_.reset();
    filling_.reset();
    if (ec) {
        close();
        return;
    }
    if (!keep_alive_ || shared_->stopping.load()) {
        linger_close();
        return;
    }
    read_header();
}

void http_session::linger_close() {
    // Closing with unread request bytes (a rejected body, a pipelined request) makes the
    // kernel send RST, which can destroy the response we just wrote before the client reads
    // it. So: half-close, drain what the client still sends (bounded), then close.
    beast::error_code ec;
    stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ec);
    if (ec) {
        close();
        return;
    }
    discard_ = std::make_unique<char[]>(discard_chunk);
    stream_.expires_after(std::chrono::seconds(2));
    linger_read();
}

void http_session::linger_read() {
    stream_.async_read_some(asio::buffer(discard_.get(), discard_chunk),
                            [self = shared_from_this()](beast::error_code e, std::size_t n) {
                                self->discarded_ += n;
                                if (e || self->discarded_ > linger_limit) {
                                    self->close();
                                    return;
                                }
                                self->linger_read();
                            });
}

void http_session::close() {
    beast::error_code ec;
    stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    stream_.close();
}

} // namespace livehouse::net
