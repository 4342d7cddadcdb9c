// upstream_pool (see upstream_pool.hpp).
#include "net/upstream_pool.hpp"

#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <fmt/format.h>
#include <sys/socket.h>

namespace livehouse::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {
constexpr std::size_t unsized_read_chunk = 64 * 1024;
constexpr std::size_t read_buffer_bytes = 64 * 1024;
} // namespace

std::string_view upstream_head::header(std::string_view name) const {
    for (const auto& [n, v] : headers) {
        if (beast::iequals(n, name)) {
            return v;
        }
    }
    return {};
}

struct upstream_pool::job {
    upstream_request request;
    upstream_handlers handlers;
    bool retried = false;
};

namespace {
/// An idle keep-alive connection the upstream closed reads as ready with 0 bytes (or has stray
/// bytes a server may not send between responses): a non-blocking peek finds out before a
/// request is written on it. That matters for a POST, which is not retried on a fresh
/// connection (RFC 9110 §9.2.2: only idempotent requests may be).
bool peek_open(int fd) {
    char byte = 0;
    const auto n = ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}
} // namespace

struct upstream_pool::connection {
    explicit connection(const asio::any_io_executor& exec) : stream(exec), resolver(exec) {
        // Beast sizes each read to the buffer's spare capacity (at least 512 bytes, at most
        // 64 KiB): left to grow from the head's few hundred bytes, a segment arrives in
        // hundreds of small reads, and every read wakes every viewer streaming it.
        buffer.reserve(read_buffer_bytes);
    }
    beast::tcp_stream stream;
    tcp::resolver resolver;
    beast::flat_buffer buffer;
    std::optional<http::response_parser<http::buffer_body>> parser;
    http::request<http::string_body> req;
    core::shared_filling_bytes body;
    std::unique_ptr<char[]> chunk; ///< read buffer for unsized bodies
    bool connected = false;
    bool reused = false; ///< served a request before this one
};

std::shared_ptr<upstream_pool> upstream_pool::create(asio::any_io_executor exec,
                                                     upstream_options options) {
    return std::shared_ptr<upstream_pool>(new upstream_pool(std::move(exec), std::move(options)));
}

upstream_pool::upstream_pool(asio::any_io_executor exec, upstream_options options)
    : exec_(std::move(exec)), options_(std::move(options)) {}

upstream_pool::~upstream_pool() = default;

std::size_t upstream_pool::open_connections() const {
    return open_.load(std::memory_order_relaxed);
}

std::size_t upstream_pool::queued() const {
    return queued_.load(std::memory_order_relaxed);
}

void upstream_pool::fetch(upstream_request request, upstream_handlers handlers) {
    auto j = std::make_shared<job>(job{std::move(request), std::move(handlers)});
    asio::post(exec_, [self = shared_from_this(), j] {
        if (self->closed_) {
            j->handlers.on_error("upstream pool closed", false);
            return;
        }
        if (self->queue_.size() >= self->options_.max_queued) {
            j->handlers.on_error("upstream queue full", false);
            return;
        }
        self->queue_.push_back(j);
        self->queued_.store(self->queue_.size(), std::memory_order_relaxed);
        self->pump();
    });
}

void upstream_pool::close() {
    asio::post(exec_, [self = shared_from_this()] {
        self->closed_ = true;
        auto waiting = std::move(self->queue_);
        self->queue_.clear();
        self->queued_.store(0, std::memory_order_relaxed);
        for (auto& j : waiting) {
            j->handlers.on_error("upstream pool closed", false);
        }
        for (auto& c : self->idle_) {
            beast::error_code ec;
            c->stream.socket().close(ec);
            self->open_.fetch_sub(1, std::memory_order_relaxed);
        }
        self->idle_.clear();
    });
}

void upstream_pool::pump() {
    while (!queue_.empty()) {
        std::shared_ptr<connection> c;
        while (!c && !idle_.empty()) {
            c = std::move(idle_.back());
            idle_.pop_back();
            if (!peek_open(c->stream.socket().native_handle())) {
                beast::error_code ec;
                c->stream.socket().close(ec);
                open_.fetch_sub(1, std::memory_order_relaxed);
                c.reset();
            }
        }
        if (!c) {
            if (open_.load(std::memory_order_relaxed) >= options_.max_connections) {
                return; // every connection busy: the next finish() pumps again
            }
            c = std::make_shared<connection>(exec_);
            open_.fetch_add(1, std::memory_order_relaxed);
        }
        auto j = std::move(queue_.front());
        queue_.pop_front();
        queued_.store(queue_.size(), std::memory_order_relaxed);
        start(std::move(c), std::move(j));
    }
}

void upstream_pool::start(std::shared_ptr<connection> c, std::shared_ptr<job> j) {
    if (c->connected) {
        send(std::move(c), std::move(j));
    } else {
        connect(std::move(c), std::move(j));
    }
}

void upstream_pool::connect(std::shared_ptr<connection> c, std::shared_ptr<job> j) {
    c->stream.expires_after(options_.connect_timeout);
    c->resolver.async_resolve(
        options_.host, fmt::format("{}", options_.port),
        [self = shared_from_this(), c, j](beast::error_code ec, tcp::resolver::results_type r) {
            if (ec) {
                self->fail_before_head(
                    c, j, fmt::format("resolve {}: {}", self->options_.host, ec.message()), false);
                return;
            }
            c->stream.expires_after(self->options_.connect_timeout);
            c->stream.async_connect(r, [self, c, j](beast::error_code e, const tcp::endpoint&) {
                if (e) {
                    self->fail_before_head(c, j, fmt::format("connect: {}", e.message()),
                                           e == beast::error::timeout);
                    return;
                }
                c->connected = true;
                beast::error_code ignored;
                c->stream.socket().set_option(tcp::no_delay(true), ignored);
                self->send(c, j);
            });
        });
}

void upstream_pool::send(std::shared_ptr<connection> c, std::shared_ptr<job> j) {
    auto& rq = j->request;
    c->req = {};
    c->req.method(rq.method);
    c->req.target(rq.target);
    c->req.version(11);
    c->req.set(http::field::host, options_.port == 80
                                      ? options_.host
                                      : fmt::format("{}:{}", options_.host, options_.port));
    for (const auto& [name, value] : rq.headers) {
        c->req.insert(name, value);
    }
    c->req.body() = rq.body;
    c->req.prepare_payload();
    c->req.keep_alive(true);
    c->stream.expires_after(options_.timeout);
    http::async_write(
        c->stream, c->req, [self = shared_from_this(), c, j](beast::error_code ec, std::size_t) {
            if (ec) {
                self->fail_before_head(c, j, fmt::format("write: {}", ec.message()),
                                       ec == beast::error::timeout);
                return;
            }
            c->parser.emplace();
            c->parser->header_limit(static_cast<std::uint32_t>(self->options_.max_header_bytes));
            c->parser->body_limit(self->options_.max_body_bytes);
            if (j->request.method == http::verb::head) {
                c->parser->skip(true); // RFC 9112 §6.3: a HEAD answer has no body
            }
            c->stream.expires_after(self->options_.timeout);
            http::async_read_header(
                c->stream, c->buffer, *c->parser, [self, c, j](beast::error_code e, std::size_t) {
                    if (e) {
                        self->fail_before_head(c, j, fmt::format("read head: {}", e.message()),
                                               e == beast::error::timeout);
                        return;
                    }
                    self->read_body(c, j);
                });
        });
}

void upstream_pool::read_body(std::shared_ptr<connection> c, std::shared_ptr<job> j) {
    if (!c->body) {
        // First call: the head is complete.
        const auto& msg = c->parser->get();
        upstream_head head;
        head.status = msg.result_int();
        for (const auto& f : msg) {
            head.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
        }
        if (auto n = c->parser->content_length()) {
            head.content_length = *n;
        } else if (c->parser->is_done()) {
            head.content_length = 0; // no body (HEAD, 204, 304)
        }
        auto body = j->handlers.on_head ? j->handlers.on_head(head) : nullptr;
        if (!body) {
            finish(c, c->parser->is_done() && msg.keep_alive());
            return;
        }
        c->body = std::move(body);
        if (!c->body->is_sized() && !c->chunk) {
            c->chunk = std::make_unique_for_overwrite<char[]>(unsized_read_chunk);
        }
    }
    auto& body = *c->body;
    if (c->parser->is_done()) {
        const bool ok = body.complete();
        const bool keep = ok && c->parser->get().keep_alive();
        c->body.reset();
        finish(c, keep);
        return;
    }
    auto& b = c->parser->get().body();
    std::size_t room = 0;
    if (body.is_sized()) {
        b.data = body.write_pointer();
        room = body.write_room();
    } else {
        b.data = c->chunk.get();
        room = unsized_read_chunk;
    }
    b.size = room;
    b.more = true;
    c->stream.expires_after(options_.timeout);
    http::async_read_some(
        c->stream, c->buffer, *c->parser,
        [self = shared_from_this(), c, j, room](beast::error_code ec, std::size_t) {
            if (ec == http::error::need_buffer) {
                ec = {}; // our buffer is full: not an error, we give it the next one
            }
            const std::size_t got = room - c->parser->get().body().size;
            bool ok = !ec;
            if (got > 0) {
                ok = (c->body->is_sized() ? c->body->commit(got)
                                          : c->body->append({c->chunk.get(), got})) &&
                     ok;
            }
            if (!ok) {
                c->body->fail();
                c->body.reset();
                self->finish(c, false);
                return;
            }
            self->read_body(c, j);
        });
}

void upstream_pool::finish(const std::shared_ptr<connection>& c, bool reusable) {
    c->parser.reset();
    c->body.reset();
    if (reusable && !closed_ && idle_.size() < options_.max_connections) {
        c->reused = true;
        idle_.push_back(c);
    } else {
        beast::error_code ec;
        c->stream.socket().close(ec);
        open_.fetch_sub(1, std::memory_order_relaxed);
    }
    pump();
}

void upstream_pool::fail_before_head(const std::shared_ptr<connection>& c,
                                     const std::shared_ptr<job>& j, const std::string& error,
                                     bool timed_out) {
    const bool was_reused = c->reused;
    const auto method = j->request.method;
    finish(c, false);
    if (was_reused && !j->retried && !closed_ &&
        (method == http::verb::get || method == http::verb::head)) {
        // An idle keep-alive connection the upstream closed: once more on a new connection.
        j->retried = true;
        queue_.push_front(j);
        queued_.store(queue_.size(), std::memory_order_relaxed);
        pump();
        return;
    }
    j->handlers.on_error(fmt::format("upstream {}:{}: {}", options_.host, options_.port, error),
                         timed_out);
}

} // namespace livehouse::net
