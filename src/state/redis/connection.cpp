// A pipelined Redis connection over an Asio socket with hiredis's reply reader (connection.hpp).
#include "state/redis/connection.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <fmt/format.h>
#include <hiredis/hiredis.h>

namespace livehouse::state::redis {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

constexpr std::size_t read_chunk = 64 * 1024;

reply convert(const redisReply& r) {
    reply out;
    switch (r.type) {
    case REDIS_REPLY_INTEGER:
        out.type = reply::kind::integer;
        out.integer = r.integer;
        break;
    case REDIS_REPLY_STRING:
        out.type = reply::kind::string;
        out.str.assign(r.str, r.len);
        break;
    case REDIS_REPLY_STATUS:
        out.type = reply::kind::status;
        out.str.assign(r.str, r.len);
        break;
    case REDIS_REPLY_ERROR:
        out.type = reply::kind::error;
        out.str.assign(r.str, r.len);
        break;
    case REDIS_REPLY_ARRAY:
        out.type = reply::kind::array;
        out.elements.reserve(r.elements);
        for (std::size_t i = 0; i < r.elements; ++i) {
            out.elements.push_back(convert(*r.element[i]));
        }
        break;
    default: // REDIS_REPLY_NIL
        break;
    }
    return out;
}

} // namespace

std::shared_ptr<connection> connection::create(strand s, std::string host, std::uint16_t port,
                                               connection_options options, push_handler push,
                                               closed_handler on_closed) {
    return std::shared_ptr<connection>(new connection(std::move(s), std::move(host), port,
                                                      std::move(options), std::move(push),
                                                      std::move(on_closed)));
}

connection::connection(strand s, std::string host, std::uint16_t port, connection_options options,
                       push_handler push, closed_handler on_closed)
    : strand_(std::move(s)), socket_(strand_), resolver_(strand_), timer_(strand_),
      host_(std::move(host)), port_(port), address_(fmt::format("{}:{}", host_, port_)),
      options_(std::move(options)), push_(std::move(push)), on_closed_(std::move(on_closed)),
      reader_(redisReaderCreate()), in_(new char[read_chunk]) {
    if (!options_.password.empty()) {
        // AUTH goes first in the pipeline; its reply is checked in on_reply.
        encode_command({"AUTH", options_.password}, out_);
        pending_.push_back({nullptr, std::chrono::steady_clock::now()});
    }
}

connection::~connection() {
    redisReaderFree(reader_);
}

void connection::start(std::function<void(core::result<void>)> ready) {
    state_ = state::connecting;
    ready_ = std::move(ready);
    auto self = shared_from_this();
    timer_.expires_after(options_.connect_timeout);
    timer_.async_wait([self](boost::system::error_code ec) {
        if (!ec && self->state_ == state::connecting) {
            self->close(core::make_error(fmt::format("redis {}: connect timed out after {} ms",
                                                     self->address_,
                                                     self->options_.connect_timeout.count())));
        }
    });
    resolver_.async_resolve(
        host_, std::to_string(port_),
        [self](boost::system::error_code ec, const tcp::resolver::results_type& eps) {
            if (self->state_ != state::connecting) {
                return;
            }
            if (ec) {
                self->close(core::make_error(
                    fmt::format("redis {}: resolve: {}", self->address_, ec.message())));
                return;
            }
            asio::async_connect(
                self->socket_, eps, [self](boost::system::error_code ec2, const tcp::endpoint&) {
                    if (self->state_ != state::connecting) {
                        return;
                    }
                    if (ec2) {
                        self->close(core::make_error(
                            fmt::format("redis {}: connect: {}", self->address_, ec2.message())));
                        return;
                    }
                    self->timer_.cancel();
                    boost::system::error_code ignore;
                    self->socket_.set_option(tcp::no_delay(true), ignore);
                    self->state_ = state::open;
                    self->read_some();
                    self->write_some();
                    self->arm_watchdog();
                    self->finish_start({});
                });
        });
}

void connection::finish_start(core::result<void> r) {
    if (ready_) {
        auto f = std::move(ready_);
        ready_ = nullptr;
        f(std::move(r));
    }
}

void connection::send(const command& cmd, reply_handler done) {
    if (state_ == state::closed) {
        done(core::make_error(fmt::format("redis {}: connection closed", address_)));
        return;
    }
    if (pending_.size() >= options_.max_pending) {
        done(core::make_error(
            fmt::format("redis {}: {} commands waiting for replies", address_, pending_.size())));
        return;
    }
    encode_command(cmd, out_);
    pending_.push_back({std::move(done), std::chrono::steady_clock::now()});
    write_some();
}

void connection::send_push(const command& cmd) {
    if (state_ == state::closed) {
        return;
    }
    encode_command(cmd, out_);
    write_some();
}

void connection::write_some() {
    if (state_ != state::open || write_in_flight_ || out_.empty()) {
        return;
    }
    // Everything queued since the last write goes out in one write: the pipeline.
    writing_.swap(out_);
    out_.clear();
    write_in_flight_ = true;
    asio::async_write(socket_, asio::buffer(writing_),
                      [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                          self->write_in_flight_ = false;
                          if (ec) {
                              self->close(core::make_error(fmt::format(
                                  "redis {}: write: {}", self->address_, ec.message())));
                              return;
                          }
                          self->writing_.clear();
                          self->write_some();
                      });
}

void connection::read_some() {
    socket_.async_read_some(
        asio::buffer(in_.get(), read_chunk),
        [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
            if (self->state_ != state::open) {
                return;
            }
            if (ec) {
                self->close(core::make_error(
                    ec == asio::error::eof
                        ? fmt::format("redis {}: connection closed by the server", self->address_)
                        : fmt::format("redis {}: read: {}", self->address_, ec.message())));
                return;
            }
            if (redisReaderFeed(self->reader_, self->in_.get(), n) != REDIS_OK) {
                self->close(core::make_error(
                    fmt::format("redis {}: {}", self->address_, self->reader_->errstr)));
                return;
            }
            for (;;) {
                void* raw = nullptr;
                if (redisReaderGetReply(self->reader_, &raw) != REDIS_OK) {
                    self->close(core::make_error(fmt::format(
                        "redis {}: protocol error: {}", self->address_, self->reader_->errstr)));
                    return;
                }
                if (raw == nullptr) {
                    break;
                }
                reply r = convert(*static_cast<redisReply*>(raw));
                freeReplyObject(raw);
                self->on_reply(std::move(r));
                if (self->state_ != state::open) {
                    return;
                }
            }
            self->read_some();
        });
}

void connection::on_reply(reply r) {
    if (pending_.empty()) {
        if (push_) {
            push_(std::move(r));
            return;
        }
        close(core::make_error(fmt::format("redis {}: reply without a command", address_)));
        return;
    }
    auto p = std::move(pending_.front());
    pending_.pop_front();
    if (!p.done) {
        // AUTH's reply: a refused password closes the connection with the server's words.
        if (r.is_error()) {
            close(core::make_error(fmt::format("redis {}: AUTH: {}", address_, r.str)));
        }
        return;
    }
    p.done(std::move(r));
}

void connection::arm_watchdog() {
    // Checks the oldest pending reply four times per timeout.
    timer_.expires_after(options_.reply_timeout / 4);
    timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
        if (ec || self->state_ != state::open) {
            return;
        }
        if (!self->pending_.empty() &&
            std::chrono::steady_clock::now() - self->pending_.front().sent >
                self->options_.reply_timeout) {
            self->close(
                core::make_error(fmt::format("redis {}: no reply within {} ms", self->address_,
                                             self->options_.reply_timeout.count())));
            return;
        }
        self->arm_watchdog();
    });
}

void connection::fail_all(const core::error& why) {
    auto pending = std::move(pending_);
    pending_.clear();
    for (auto& p : pending) {
        if (p.done) {
            p.done(why);
        }
    }
}

void connection::close(const core::error& why) {
    if (state_ == state::closed) {
        return;
    }
    const bool was_open = state_ == state::open;
    state_ = state::closed;
    boost::system::error_code ignore;
    timer_.cancel();
    resolver_.cancel();
    socket_.close(ignore);
    fail_all(why);
    finish_start(why); // closed while connecting: start() fails with the reason
    if (was_open && on_closed_) {
        auto cb = std::move(on_closed_);
        on_closed_ = nullptr;
        cb(why);
    }
}

} // namespace livehouse::state::redis
