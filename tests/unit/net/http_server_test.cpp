// A real http_server on 127.0.0.1:0 with test handlers, driven by a Beast client over TCP:
// keep-alive, HEAD, 304, 206/416, 413/431, CORS/OPTIONS, 404/405/400, responders called from
// another thread (or twice, or never), pipelining, timeouts, and slow peers not blocking others.
#include "net/http_server.hpp"
#include "net/io_pool.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <condition_variable>
#include <cstring>
#include <gtest/gtest.h>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace livehouse::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

using client_response = http::response<http::string_body>;

// A blocking-style client whose every operation has a deadline, so a server bug fails the test
// instead of hanging it.
class client {
  public:
    explicit client(std::uint16_t port) {
        stream_.expires_after(5s);
        beast::error_code result;
        stream_.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port),
                              [&](beast::error_code ec) { result = ec; });
        run();
        if (result) {
            throw std::runtime_error("connect: " + result.message());
        }
    }

    void send(const std::string& raw) {
        stream_.expires_after(5s);
        beast::error_code result;
        asio::async_write(stream_, asio::buffer(raw),
                          [&](beast::error_code ec, std::size_t) { result = ec; });
        run();
        if (result) {
            throw std::runtime_error("write: " + result.message());
        }
    }

    /// Reads one response; `head` tells the parser there is no body (a HEAD request).
    client_response read(bool head = false, beast::error_code* error = nullptr) {
        http::response_parser<http::string_body> parser;
        parser.body_limit(64 * 1024 * 1024);
        parser.skip(head);
        stream_.expires_after(5s);
        beast::error_code result;
        http::async_read(stream_, buffer_, parser,
                         [&](beast::error_code ec, std::size_t) { result = ec; });
        run();
        if (error != nullptr) {
            *error = result;
        } else if (result) {
            throw std::runtime_error("read: " + result.message());
        }
        return parser.release();
    }

    /// Reads a 1xx interim response (status and header only; it has no body).
    http::status read_interim() {
        http::response_parser<http::empty_body> parser;
        stream_.expires_after(5s);
        beast::error_code result;
        http::async_read_header(stream_, buffer_, parser,
                                [&](beast::error_code ec, std::size_t) { result = ec; });
        run();
        if (result) {
            throw std::runtime_error("read interim: " + result.message());
        }
        return parser.get().result();
    }

    client_response request(const std::string& raw, bool head = false) {
        send(raw);
        return read(head);
    }

    /// Whatever arrives within `limit` (at least one byte, unless the time runs out).
    std::string read_some(std::chrono::milliseconds limit = 2s) {
        stream_.expires_after(limit);
        std::string out(64 * 1024, '\0');
        std::size_t got = 0;
        stream_.async_read_some(asio::buffer(out),
                                [&](beast::error_code, std::size_t n) { got = n; });
        run();
        out.resize(got);
        return out;
    }

    /// Waits for the server to close: returns the error that ended the read (eof expected).
    beast::error_code wait_closed(std::chrono::milliseconds limit = 5s) {
        stream_.expires_after(limit);
        beast::error_code result;
        char byte = 0;
        asio::async_read(stream_, asio::buffer(&byte, 1),
                         [&](beast::error_code ec, std::size_t) { result = ec; });
        run();
        return result;
    }

  private:
    void run() {
        ioc_.restart();
        ioc_.run();
    }

    asio::io_context ioc_;
    beast::tcp_stream stream_{ioc_};
    beast::flat_buffer buffer_;
};

std::string get(std::string_view target, std::string_view extra = "") {
    return "GET " + std::string(target) + " HTTP/1.1\r\nHost: t\r\n" + std::string(extra) + "\r\n";
}

class http_server_test : public ::testing::Test {
  protected:
    void start(std::size_t threads = 2, http_limits limits = {}) {
        add_handlers();
        pool_ = std::make_unique<io_pool>(threads);
        auto s = http_server::bind(pool_->at(0), *pool_, routes_, metrics_,
                                   http_server_options{"127.0.0.1", 0, limits, "livehouse-test"});
        ASSERT_TRUE(s) << s.err().message;
        server_ = std::move(*s);
        ASSERT_NE(server_->port(), 0);
        server_->start();
        pool_->run();
    }

    void TearDown() override {
        for (auto& t : threads_) {
            t.join();
        }
        if (server_) {
            server_->stop();
        }
        if (pool_) {
            pool_->stop();
            pool_->join();
        }
        server_.reset();
        pool_.reset(); // sessions die here, while metrics_ is still alive
    }

    void add_handlers() {
        routes_->add(
            http::verb::get, "/data",
            [](const request&, const route_params&, responder reply) {
                response r;
                r.content_type = "text/plain";
                r.cache_control = "max-age=1";
                r.etag = "\"v1\"";
                r.accept_ranges = true;
                r.cors = true;
                r.headers.emplace_back("X-Test", "yes");
                r.headers.emplace_back("X-Evil", "a\r\nSet-Cookie: x=1");
                r.body = data_body;
                reply(std::move(r));
            },
            "data");
        routes_->add(
            http::verb::post, "/echo",
            [](const request& req, const route_params&, responder reply) {
                reply(json_response(http::status::created, req.body()));
            },
            "echo");
        routes_->add(
            http::verb::get, "/hls/{id}/{file}",
            [](const request&, const route_params& p, responder reply) {
                reply(json_response(http::status::ok, p.at("id") + "|" + p.at("file")));
            },
            "hls");
        routes_->add(
            http::verb::get, "/thread",
            [this](const request&, const route_params&, responder reply) {
                std::lock_guard lock(mutex_);
                threads_.emplace_back([reply = std::move(reply)] {
                    std::this_thread::yield();
                    reply(json_response(http::status::ok, "\"from another thread\""));
                });
            },
            "thread");
        routes_->add(
            http::verb::get, "/held",
            [this](const request&, const route_params&, responder reply) {
                std::lock_guard lock(mutex_);
                held_ = std::move(reply);
                held_cv_.notify_all();
            },
            "held");
        routes_->add(
            http::verb::get, "/filling",
            [this](const request&, const route_params&, responder reply) {
                response r;
                r.content_type = "video/mp2t";
                r.accept_ranges = true;
                r.etag = "\"f1\"";
                r.filling = filling_;
                reply(std::move(r));
            },
            "filling");
        routes_->add(
            http::verb::get, "/drop", [](const request&, const route_params&, responder) {},
            "drop");
        routes_->add(
            http::verb::get, "/throw",
            [](const request&, const route_params&, responder) -> void {
                throw std::runtime_error("boom");
            },
            "throw");
        routes_->add(
            http::verb::get, "/twice",
            [](const request&, const route_params&, responder reply) {
                reply(json_response(http::status::ok, "\"first\""));
                reply(json_response(http::status::ok, "\"second\""));
            },
            "twice");
        routes_->add(
            http::verb::get, "/big",
            [](const request&, const route_params&, responder reply) {
                response r;
                r.content_type = "video/mp2t";
                r.body = big_body;
                reply(std::move(r));
            },
            "big");
        routes_->add(
            http::verb::get, "/sealed",
            [](const request&, const route_params&, responder reply) {
                response r;
                r.content_type = "video/mp2t";
                r.etag = "\"s1\"";
                r.accept_ranges = true;
                r.blob = sealed_body;
                reply(std::move(r));
            },
            "sealed");
        routes_->add(
            http::verb::get, "/sealed-huge",
            [](const request&, const route_params&, responder reply) {
                response r;
                r.content_type = "video/mp2t";
                r.blob = core::blob::seal(std::string(48U << 20U, 'h'));
                reply(std::move(r));
            },
            "sealed_huge");
    }

    responder wait_held() {
        std::unique_lock lock(mutex_);
        held_cv_.wait_for(lock, 5s, [&] { return static_cast<bool>(held_); });
        return std::exchange(held_, nullptr);
    }

    static inline const core::shared_bytes data_body = core::make_shared_bytes("0123456789");
    static inline const core::shared_bytes big_body = [] {
        std::string s(3 * 1024 * 1024 + 7, '\0');
        for (std::size_t i = 0; i < s.size(); ++i) {
            s[i] = static_cast<char>(i * 31 % 251);
        }
        return core::make_shared_bytes(std::move(s));
    }();
    static inline const core::shared_blob sealed_body = core::blob::seal(*big_body);

    core::metrics_registry metrics_;
    std::shared_ptr<router> routes_ = std::make_shared<router>();
    std::unique_ptr<io_pool> pool_;
    std::unique_ptr<http_server> server_;
    std::mutex mutex_;
    std::condition_variable held_cv_;
    core::shared_filling_bytes filling_ = core::filling_bytes::sized(10);

    void fill(std::string_view bytes) {
        std::memcpy(filling_->write_pointer(), bytes.data(), bytes.size());
        ASSERT_TRUE(filling_->commit(bytes.size()));
    }
    responder held_;
    std::vector<std::thread> threads_;
};

TEST_F(http_server_test, keep_alive_serves_several_requests_on_one_connection) {
    start();
    client c(server_->port());
    for (int i = 0; i < 3; ++i) {
        auto r = c.request(get("/data"));
        EXPECT_EQ(r.result(), http::status::ok);
        EXPECT_EQ(r.body(), "0123456789");
        EXPECT_EQ(r[http::field::content_length], "10");
        EXPECT_EQ(r[http::field::content_type], "text/plain");
        EXPECT_EQ(r[http::field::cache_control], "max-age=1");
        EXPECT_EQ(r[http::field::etag], "\"v1\"");
        EXPECT_EQ(r[http::field::accept_ranges], "bytes");
        EXPECT_EQ(r[http::field::server], "livehouse-test");
        EXPECT_TRUE(r[http::field::date].ends_with(" GMT"));
        EXPECT_EQ(r["X-Test"], "yes");
        EXPECT_EQ(r.count("X-Evil"), 0U); // CRLF injection refused
        EXPECT_EQ(r.count(http::field::set_cookie), 0U);
        EXPECT_TRUE(r.keep_alive());
    }
    EXPECT_EQ(server_->open_connections(), 1U);
}

TEST_F(http_server_test, connection_close_is_honoured) {
    start();
    client c(server_->port());
    auto r = c.request(get("/data", "Connection: close\r\n"));
    EXPECT_EQ(r.result(), http::status::ok);
    EXPECT_EQ(r[http::field::connection], "close");
    EXPECT_EQ(c.wait_closed(), asio::error::eof);
}

TEST_F(http_server_test, http10_without_keep_alive_closes) {
    start();
    client c(server_->port());
    auto r = c.request("GET /data HTTP/1.0\r\n\r\n");
    EXPECT_EQ(r.body(), "0123456789");
    EXPECT_EQ(c.wait_closed(), asio::error::eof);
}

TEST_F(http_server_test, head_has_get_headers_and_no_body) {
    start();
    client c(server_->port());
    auto r = c.request("HEAD /data HTTP/1.1\r\nHost: t\r\n\r\n", true);
    EXPECT_EQ(r.result(), http::status::ok);
    EXPECT_EQ(r[http::field::content_length], "10");
    EXPECT_EQ(r[http::field::etag], "\"v1\"");
    EXPECT_TRUE(r.body().empty());
    // If any body bytes had been sent, this GET's response would be misparsed.
    auto g = c.request(get("/data"));
    EXPECT_EQ(g.body(), "0123456789");
}

TEST_F(http_server_test, if_none_match_gives_304_without_body) {
    start();
    client c(server_->port());
    auto r = c.request(get("/data", "If-None-Match: \"v0\", \"v1\"\r\n"));
    EXPECT_EQ(r.result(), http::status::not_modified);
    EXPECT_EQ(r[http::field::etag], "\"v1\"");
    EXPECT_EQ(r[http::field::cache_control], "max-age=1");
    EXPECT_EQ(r.count(http::field::content_length), 0U);
    EXPECT_TRUE(r.body().empty());
    auto miss = c.request(get("/data", "If-None-Match: \"v0\"\r\n"));
    EXPECT_EQ(miss.result(), http::status::ok);
    EXPECT_EQ(miss.body(), "0123456789");
}

TEST_F(http_server_test, single_range_gives_206_and_bad_range_416) {
    start();
    client c(server_->port());
    auto r = c.request(get("/data", "Range: bytes=2-4\r\n"));
    EXPECT_EQ(r.result(), http::status::partial_content);
    EXPECT_EQ(r.body(), "234");
    EXPECT_EQ(r[http::field::content_range], "bytes 2-4/10");
    EXPECT_EQ(r[http::field::content_length], "3");

    r = c.request(get("/data", "Range: bytes=-3\r\n"));
    EXPECT_EQ(r.body(), "789");

    r = c.request(get("/data", "Range: bytes=10-\r\n"));
    EXPECT_EQ(r.result(), http::status::range_not_satisfiable);
    EXPECT_EQ(r[http::field::content_range], "bytes */10");
    EXPECT_TRUE(r.body().empty());

    // Multiple ranges are ignored: the whole body.
    r = c.request(get("/data", "Range: bytes=0-1,3-4\r\n"));
    EXPECT_EQ(r.result(), http::status::ok);
    EXPECT_EQ(r.body(), "0123456789");

    // If-Range with a different validator: the whole body.
    r = c.request(get("/data", "Range: bytes=0-1\r\nIf-Range: \"v0\"\r\n"));
    EXPECT_EQ(r.result(), http::status::ok);
    r = c.request(get("/data", "Range: bytes=0-1\r\nIf-Range: \"v1\"\r\n"));
    EXPECT_EQ(r.result(), http::status::partial_content);

    // HEAD with a range: the range's headers, no body.
    r = c.request("HEAD /data HTTP/1.1\r\nHost: t\r\nRange: bytes=5-\r\n\r\n", true);
    EXPECT_EQ(r.result(), http::status::partial_content);
    EXPECT_EQ(r[http::field::content_length], "5");
}

TEST_F(http_server_test, range_is_ignored_without_accept_ranges) {
    start();
    client c(server_->port());
    auto r = c.request(get("/hls/a/b", "Range: bytes=0-1\r\n"));
    EXPECT_EQ(r.result(), http::status::ok);
    EXPECT_EQ(r.body(), "a|b");
}

TEST_F(http_server_test, body_over_limit_is_413_and_closes) {
    http_limits limits;
    limits.max_body_bytes = 1024;
    start(2, limits);
    client c(server_->port());
    auto ok = c.request("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello");
    EXPECT_EQ(ok.result(), http::status::created);
    EXPECT_EQ(ok.body(), "hello");

    c.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 2000\r\n\r\n" +
           std::string(2000, 'x'));
    auto r = c.read();
    EXPECT_EQ(r.result(), http::status::payload_too_large);
    EXPECT_EQ(r[http::field::content_type], "application/json");
    EXPECT_EQ(r.body(), R"({"error":"request body too large"})");
    EXPECT_EQ(r[http::field::connection], "close");
    EXPECT_EQ(c.wait_closed(), asio::error::eof);
}

TEST_F(http_server_test, chunked_body_over_limit_is_413) {
    http_limits limits;
    limits.max_body_bytes = 16;
    start(2, limits);
    client c(server_->port());
    c.send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
           "10\r\n0123456789abcdef\r\n10\r\n0123456789abcdef\r\n0\r\n\r\n");
    EXPECT_EQ(c.read().result(), http::status::payload_too_large);
}

TEST_F(http_server_test, header_over_limit_is_431) {
    http_limits limits;
    limits.max_header_bytes = 1024;
    start(2, limits);
    client c(server_->port());
    c.send(get("/data", "X-Big: " + std::string(2000, 'a') + "\r\n"));
    auto r = c.read();
    EXPECT_EQ(r.result(), http::status::request_header_fields_too_large);
    EXPECT_EQ(c.wait_closed(), asio::error::eof);
}

TEST_F(http_server_test, expect_100_continue) {
    start();
    client c(server_->port());
    c.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n");
    EXPECT_EQ(c.read_interim(), http::status::continue_);
    c.send("abc");
    auto r = c.read();
    EXPECT_EQ(r.result(), http::status::created);
    EXPECT_EQ(r.body(), "abc");
}

TEST_F(http_server_test, malformed_request_is_400) {
    start();
    client c(server_->port());
    c.send("GET /data HTTP/1.1\r\nBad Header Line\r\n\r\n");
    auto r = c.read();
    EXPECT_EQ(r.result(), http::status::bad_request);
    EXPECT_EQ(c.wait_closed(), asio::error::eof);
}

TEST_F(http_server_test, cors_header_and_options_preflight) {
    start();
    client c(server_->port());
    auto r = c.request(get("/data", "Origin: https://example.org\r\n"));
    EXPECT_EQ(r[http::field::access_control_allow_origin], "*");
    EXPECT_NE(r[http::field::access_control_expose_headers].find("Content-Range"),
              std::string::npos);

    r = c.request("OPTIONS /data HTTP/1.1\r\nHost: t\r\nOrigin: https://example.org\r\n"
                  "Access-Control-Request-Method: GET\r\n"
                  "Access-Control-Request-Headers: range\r\n\r\n");
    EXPECT_EQ(r.result(), http::status::no_content);
    EXPECT_EQ(r[http::field::access_control_allow_origin], "*");
    EXPECT_EQ(r[http::field::access_control_allow_methods], "GET, HEAD, OPTIONS");
    EXPECT_EQ(r[http::field::access_control_allow_headers], "range");
    EXPECT_EQ(r[http::field::allow], "GET, HEAD, OPTIONS");
    EXPECT_EQ(r.count(http::field::content_length), 0U);
    // Still alive after the preflight.
    EXPECT_EQ(c.request(get("/data")).result(), http::status::ok);
}

TEST_F(http_server_test, not_found_method_not_allowed_and_bad_path_are_json_errors) {
    start();
    client c(server_->port());
    auto r = c.request(get("/nope"));
    EXPECT_EQ(r.result(), http::status::not_found);
    EXPECT_EQ(r.body(), R"({"error":"not found"})");
    EXPECT_EQ(r[http::field::cache_control], "public, max-age=1");

    r = c.request("DELETE /data HTTP/1.1\r\nHost: t\r\n\r\n");
    EXPECT_EQ(r.result(), http::status::method_not_allowed);
    EXPECT_EQ(r[http::field::allow], "GET, HEAD, OPTIONS");

    r = c.request(get("/hls/%2e%2e/x"));
    EXPECT_EQ(r.result(), http::status::bad_request);
    r = c.request(get("/hls/a%2Fb/x"));
    EXPECT_EQ(r.result(), http::status::bad_request);
    r = c.request(get("/hls/a%20b/x"));
    EXPECT_EQ(r.result(), http::status::ok);
    EXPECT_EQ(r.body(), "a b|x");
}

TEST_F(http_server_test, responder_called_from_another_thread) {
    start();
    client c(server_->port());
    for (int i = 0; i < 5; ++i) {
        auto r = c.request(get("/thread"));
        EXPECT_EQ(r.result(), http::status::ok);
        EXPECT_EQ(r.body(), "\"from another thread\"");
    }
}

TEST_F(http_server_test, dropped_or_throwing_handler_gives_500_and_twice_keeps_first) {
    start();
    client c(server_->port());
    auto r = c.request(get("/drop"));
    EXPECT_EQ(r.result(), http::status::internal_server_error);
    r = c.request(get("/throw"));
    EXPECT_EQ(r.result(), http::status::internal_server_error);
    r = c.request(get("/twice"));
    EXPECT_EQ(r.body(), "\"first\"");
    // The second reply must not have leaked into the stream as an extra response.
    r = c.request(get("/data"));
    EXPECT_EQ(r.body(), "0123456789");
}

TEST_F(http_server_test, pipelined_requests_are_answered_in_order) {
    start();
    client c(server_->port());
    c.send(get("/thread") + get("/hls/x/y") + "HEAD /data HTTP/1.1\r\nHost: t\r\n\r\n" +
           get("/data"));
    EXPECT_EQ(c.read().body(), "\"from another thread\"");
    EXPECT_EQ(c.read().body(), "x|y");
    EXPECT_EQ(c.read(true)[http::field::content_length], "10");
    EXPECT_EQ(c.read().body(), "0123456789");
}

TEST_F(http_server_test, large_body_arrives_intact) {
    start();
    client c(server_->port());
    auto r = c.request(get("/big"));
    ASSERT_EQ(r.body().size(), big_body->size());
    EXPECT_TRUE(r.body() == *big_body);
}

// A sealed blob goes out with sendfile(2): larger than the socket buffers (so the session waits
// for writability), byte-exact, with Range and HEAD, and the connection stays usable after it.
TEST_F(http_server_test, sealed_blob_body_is_sent_whole_ranged_and_keeps_alive) {
    ASSERT_GE(sealed_body->fd(), 0) << "the kernel refused memfd_create: no sendfile path";
    start();
    client c(server_->port());
    auto r = c.request(get("/sealed"));
    ASSERT_EQ(r.result(), http::status::ok);
    EXPECT_EQ(r[http::field::content_length], std::to_string(big_body->size()));
    ASSERT_EQ(r.body().size(), big_body->size());
    EXPECT_TRUE(r.body() == *big_body);

    r = c.request(get("/sealed", "Range: bytes=1000000-1000009\r\n"));
    EXPECT_EQ(r.result(), http::status::partial_content);
    EXPECT_EQ(r.body(), big_body->substr(1000000, 10));

    r = c.request("HEAD /sealed HTTP/1.1\r\nHost: t\r\n\r\n", true);
    EXPECT_EQ(r[http::field::content_length], std::to_string(big_body->size()));
    EXPECT_TRUE(r.body().empty());

    r = c.request(get("/sealed", "If-None-Match: \"s1\"\r\n"));
    EXPECT_EQ(r.result(), http::status::not_modified);

    // Nothing extra went out after any of those: the next response parses cleanly.
    EXPECT_EQ(c.request(get("/data")).body(), "0123456789");
}

// A viewer that stops reading mid-body is dropped at the write deadline, not held forever.
TEST_F(http_server_test, sealed_blob_to_a_client_that_stops_reading_hits_the_write_timeout) {
    http_limits limits;
    limits.write_timeout = 300ms;
    start(2, limits);
    client stuck(server_->port());
    stuck.send(get("/sealed-huge"));
    std::this_thread::sleep_for(1500ms);
    beast::error_code ec;
    const auto t0 = std::chrono::steady_clock::now();
    auto r = stuck.read(false, &ec);
    EXPECT_TRUE(ec) << "a 48 MiB body arrived whole despite the 300 ms write deadline";
    // The server cut it off: the client's own 5 s read deadline did not have to.
    EXPECT_NE(ec, beast::error::timeout);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
    EXPECT_LT(r.body().size(), 48U << 20U);

    client other(server_->port());
    EXPECT_EQ(other.request(get("/data")).body(), "0123456789");
}

TEST_F(http_server_test, slow_client_and_pending_handler_do_not_block_others) {
    start(1); // one io thread serves everyone: nothing may block it
    client slow(server_->port());
    slow.send("GET /data HTTP/1.1\r\nHo"); // and then nothing
    client waiting(server_->port());
    waiting.send(get("/held"));
    auto reply = wait_held();
    ASSERT_TRUE(reply);

    client other(server_->port());
    auto r = other.request(get("/data"));
    EXPECT_EQ(r.result(), http::status::ok);

    reply(json_response(http::status::ok, "\"released\""));
    EXPECT_EQ(waiting.read().body(), "\"released\"");
    slow.send("st: t\r\n\r\n");
    EXPECT_EQ(slow.read().body(), "0123456789");
}

TEST_F(http_server_test, idle_and_read_timeouts_close_the_connection) {
    http_limits limits;
    limits.read_timeout = 200ms;
    limits.idle_timeout = 300ms;
    start(2, limits);
    client silent(server_->port());
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_TRUE(silent.wait_closed(3s)); // closed by the server, not our 3 s deadline
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 2500ms);

    client idle(server_->port());
    EXPECT_EQ(idle.request(get("/data")).result(), http::status::ok);
    EXPECT_TRUE(idle.wait_closed(3s));
}

TEST_F(http_server_test, metrics_count_requests_by_route_and_status) {
    start();
    {
        client c(server_->port());
        c.request(get("/data"));
        c.request(get("/data"));
        c.request(get("/nope"));
        c.request(get("/data", "If-None-Match: \"v1\"\r\n"));
        EXPECT_EQ(server_->open_connections(), 1U);
    }
    const auto text = metrics_.render();
    EXPECT_NE(text.find("http_requests_total{route=\"data\",status=\"200\"} 2\n"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("http_requests_total{route=\"data\",status=\"304\"} 1\n"),
              std::string::npos);
    EXPECT_NE(text.find("http_requests_total{route=\"not_found\",status=\"404\"} 1\n"),
              std::string::npos);
    EXPECT_NE(text.find("http_request_duration_seconds_count{route=\"data\"} 3\n"),
              std::string::npos);
    EXPECT_NE(text.find("# TYPE http_open_connections gauge\n"), std::string::npos);
}

TEST(http_server, bind_error_names_the_port) {
    core::metrics_registry metrics;
    io_pool pool(1);
    auto routes = std::make_shared<router>();
    auto first = http_server::bind(pool.at(0), pool, routes, metrics,
                                   http_server_options{"127.0.0.1", 0, {}, "t"});
    ASSERT_TRUE(first);
    const auto port = (*first)->port();
    auto second = http_server::bind(pool.at(0), pool, routes, metrics,
                                    http_server_options{"127.0.0.1", port, {}, "t"});
    ASSERT_FALSE(second);
    EXPECT_NE(second.err().message.find("127.0.0.1:" + std::to_string(port)), std::string::npos)
        << second.err().message;
    EXPECT_NE(second.err().message.find("in use"), std::string::npos) << second.err().message;

    auto bad = http_server::bind(pool.at(0), pool, routes, metrics,
                                 http_server_options{"not a host name!", 80, {}, "t"});
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.err().message.find("not a host name!:80"), std::string::npos);
}

// A body still arriving (the edge's coalesced fetch): the header and the bytes so far leave at
// once, the rest as the writer commits it, from the shared buffer.
TEST_F(http_server_test, filling_body_streams_as_it_arrives) {
    start();
    fill("0123");
    client c(server_->port());
    c.send(get("/filling"));
    std::string seen;
    while (seen.find("0123") == std::string::npos) {
        const auto part = c.read_some();
        ASSERT_FALSE(part.empty()) << "the first bytes did not arrive before the body was whole";
        seen += part;
    }
    EXPECT_NE(seen.find("Content-Length: 10\r\n"), std::string::npos) << seen;
    EXPECT_NE(seen.find("Accept-Ranges: bytes\r\n"), std::string::npos) << seen;
    fill("456");
    fill("789");
    ASSERT_TRUE(filling_->complete());
    while (!seen.ends_with("0123456789")) {
        const auto part = c.read_some();
        ASSERT_FALSE(part.empty()) << "the rest never came: " << seen;
        seen += part;
    }
    // Keep-alive: the connection serves the next request, now from the complete body, with
    // Range applied.
    c.send(get("/filling", "Range: bytes=2-4\r\n"));
    const auto ranged = c.read();
    EXPECT_EQ(ranged.result(), http::status::partial_content);
    EXPECT_EQ(ranged.body(), "234");
}

TEST_F(http_server_test, filling_body_that_fails_closes_the_connection) {
    start();
    fill("0123");
    client c(server_->port());
    c.send(get("/filling"));
    std::string seen;
    while (seen.find("0123") == std::string::npos) {
        const auto part = c.read_some();
        ASSERT_FALSE(part.empty());
        seen += part;
    }
    filling_->fail();
    EXPECT_EQ(c.wait_closed(), asio::error::eof)
        << "the client must see a short body (then the close), never a wrong one";
}

TEST_F(http_server_test, filling_body_head_and_conditional) {
    start();
    client c(server_->port());
    const auto head = c.request("HEAD /filling HTTP/1.1\r\nHost: t\r\n\r\n", true);
    EXPECT_EQ(head.result(), http::status::ok);
    EXPECT_EQ(head[http::field::content_length], "10");
    const auto not_modified = c.request(get("/filling", "If-None-Match: \"f1\"\r\n"));
    EXPECT_EQ(not_modified.result(), http::status::not_modified);
    EXPECT_EQ(filling_->waiting(), 0u) << "no session waits on a body it does not send";
}

} // namespace
} // namespace livehouse::net
