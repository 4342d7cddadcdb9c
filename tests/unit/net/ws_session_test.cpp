// A real http_server on 127.0.0.1:0 with a websocket route and a test ws_handler, driven by
// Boost.Beast's websocket client (interoperability) and by raw sockets speaking frames built
// with codec::websocket (malformed input, slow readers): handshake and refusals, echo,
// limits and their close codes, fragmentation, ping/pong, idle pings, slow consumers (hard and
// soft limits) next to a healthy reader, stop() with clients connected, batched sends, and
// the memory an idle connection costs.
#include "codec/websocket/frame.hpp"
#include "net/http_server.hpp"
#include "net/io_pool.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <condition_variable>
#include <fstream>
#include <future>
#include <gtest/gtest.h>
#include <mutex>
#include <stdexcept>
#include <sys/resource.h>
#include <thread>
#include <unistd.h>

namespace livehouse::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace ws = codec::websocket;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

constexpr std::string_view sample_key = "dGhlIHNhbXBsZSBub25jZQ==";

std::string upgrade_request(std::string_view target = "/ws/room", std::string_view extra = "",
                            std::string_view version = "13", std::string_view key = sample_key,
                            std::string_view method = "GET", std::string_view http = "1.1") {
    std::string r = std::string(method) + " " + std::string(target) + " HTTP/" + std::string(http) +
                    "\r\nHost: t\r\nUpgrade: websocket\r\n" + "Connection: keep-alive, Upgrade\r\n";
    if (!key.empty()) {
        r += "Sec-WebSocket-Key: " + std::string(key) + "\r\n";
    }
    if (!version.empty()) {
        r += "Sec-WebSocket-Version: " + std::string(version) + "\r\n";
    }
    return r + std::string(extra) + "\r\n";
}

std::string client_frame(ws::opcode op, std::string_view payload) {
    return ws::encode_frame(op, payload, ws::role::client, 0x5A17C0DE);
}

// --- what the server side saw ---

struct recorder {
    std::mutex mutex;
    std::condition_variable cv;
    std::vector<std::weak_ptr<ws_connection>> conns;
    std::vector<std::string> messages;
    std::vector<std::pair<std::uint16_t, std::string>> closes;

    template <class Pred> bool wait(Pred p, std::chrono::milliseconds limit = 5s) {
        std::unique_lock lock(mutex);
        return cv.wait_for(lock, limit, [&] { return p(); });
    }
    std::shared_ptr<ws_connection> conn(std::size_t i) {
        std::lock_guard lock(mutex);
        return i < conns.size() ? conns[i].lock() : nullptr;
    }
    std::size_t opened() {
        std::lock_guard lock(mutex);
        return conns.size();
    }
    std::vector<std::pair<std::uint16_t, std::string>> closed() {
        std::lock_guard lock(mutex);
        return closes;
    }
};

/// Echoes text; "close" closes with 4000; "burst:N" sends N frames "m0".."m<N-1>" at once.
class test_handler : public ws_handler {
  public:
    explicit test_handler(std::shared_ptr<recorder> rec) : rec_(std::move(rec)) {}

    void on_open(std::shared_ptr<ws_connection> c) override {
        conn_ = std::move(c);
        std::lock_guard lock(rec_->mutex);
        rec_->conns.push_back(conn_);
        rec_->cv.notify_all();
    }
    void on_message(std::string_view text) override {
        {
            std::lock_guard lock(rec_->mutex);
            rec_->messages.emplace_back(text);
            rec_->cv.notify_all();
        }
        if (text == "close") {
            conn_->close(4000, "bye");
        } else if (text.starts_with("burst:")) {
            const int n = std::stoi(std::string(text.substr(6)));
            for (int i = 0; i < n; ++i) {
                EXPECT_EQ(conn_->send(core::make_shared_bytes(
                              ws::encode_frame(ws::opcode::text, "m" + std::to_string(i)))),
                          send_result::queued);
            }
        } else {
            conn_->send(core::make_shared_bytes(ws::encode_frame(ws::opcode::text, text)));
        }
    }
    void on_close(std::uint16_t code, std::string_view reason) override {
        conn_.reset();
        std::lock_guard lock(rec_->mutex);
        rec_->closes.emplace_back(code, std::string(reason));
        rec_->cv.notify_all();
    }

  private:
    std::shared_ptr<recorder> rec_;
    std::shared_ptr<ws_connection> conn_;
};

// --- clients ---

/// A raw TCP client with its own loop; every read has a deadline.
class raw_client {
  public:
    explicit raw_client(std::uint16_t port, int rcvbuf = 0) {
        sock_.open(tcp::v4());
        if (rcvbuf > 0) {
            // Before connect, so the window announced in the handshake is small too.
            sock_.set_option(asio::socket_base::receive_buffer_size(rcvbuf));
        }
        sock_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    }

    void send(std::string_view bytes) { asio::write(sock_, asio::buffer(bytes)); }

    /// The HTTP response header (through the blank line); later bytes stay buffered.
    std::string read_header(std::chrono::milliseconds limit = 5s) {
        for (;;) {
            if (auto end = buf_.find("\r\n\r\n"); end != std::string::npos) {
                auto h = buf_.substr(0, end + 4);
                buf_.erase(0, end + 4);
                return h;
            }
            if (!read_some(limit)) {
                return {};
            }
        }
    }
    /// Header and body (Content-Length).
    std::pair<std::string, std::string> read_response() {
        auto h = read_header();
        std::size_t len = 0;
        if (auto p = h.find("Content-Length: "); p != std::string::npos) {
            len = std::stoul(h.substr(p + 16));
        }
        while (buf_.size() < len && read_some(5s)) {
        }
        auto body = buf_.substr(0, len);
        buf_.erase(0, std::min(len, buf_.size()));
        return {h, body};
    }
    std::string upgrade(std::string_view target = "/ws/room") {
        send(upgrade_request(target));
        return read_header();
    }

    /// The next frame the server sent, or nullopt (timeout, end of stream, framing error).
    std::optional<ws::event> next(std::chrono::milliseconds limit = 5s) {
        for (;;) {
            if (auto e = reader_.next()) {
                return e;
            }
            if (!buf_.empty()) {
                auto r = reader_.feed(core::as_bytes(buf_));
                buf_.erase(0, r.consumed);
                if (r.state == core::parse_state::error) {
                    ADD_FAILURE() << "server sent a bad frame: " << r.error;
                    return std::nullopt;
                }
                if (auto e = reader_.next()) {
                    return e;
                }
            }
            if (!read_some(limit)) {
                return std::nullopt;
            }
        }
    }
    /// Reads (and drops) until the server ends the connection; false on timeout.
    bool wait_closed(std::chrono::milliseconds limit = 5s) {
        const auto until = std::chrono::steady_clock::now() + limit;
        while (std::chrono::steady_clock::now() < until) {
            buf_.clear();
            if (!read_some(std::chrono::duration_cast<std::chrono::milliseconds>(
                    until - std::chrono::steady_clock::now()))) {
                return ended_;
            }
        }
        return false;
    }
    [[nodiscard]] bool ended() const { return ended_; }
    std::size_t received_bytes() const { return received_; }

  private:
    bool read_some(std::chrono::milliseconds limit) {
        if (ended_) {
            return false;
        }
        bool done = false;
        beast::error_code result;
        std::size_t n = 0;
        tmp_.resize(64 * 1024);
        sock_.async_read_some(asio::buffer(tmp_), [&](beast::error_code ec, std::size_t k) {
            result = ec;
            n = k;
            done = true;
        });
        ioc_.restart();
        ioc_.run_for(limit);
        if (!done) {
            sock_.cancel();
            ioc_.restart();
            ioc_.run();
            return false;
        }
        if (result) {
            ended_ = true;
            return false;
        }
        received_ += n;
        buf_.append(tmp_.data(), n);
        return true;
    }

    asio::io_context ioc_;
    tcp::socket sock_{ioc_};
    std::string buf_;
    std::string tmp_;
    std::size_t received_ = 0;
    bool ended_ = false;
    ws::frame_reader reader_{ws::role::client,
                             {.max_message_bytes = 64 << 20, .max_fragments = 64}};
};

/// Boost.Beast's websocket client; every operation has a deadline.
class beast_client {
  public:
    beast_client(std::uint16_t port, std::string_view target = "/ws/room") {
        beast::get_lowest_layer(ws_).expires_after(5s);
        beast::error_code result;
        beast::get_lowest_layer(ws_).async_connect(
            tcp::endpoint(asio::ip::make_address("127.0.0.1"), port),
            [&](beast::error_code ec) { result = ec; });
        run();
        if (result) {
            throw std::runtime_error("connect: " + result.message());
        }
        beast::get_lowest_layer(ws_).expires_after(5s);
        ws_.async_handshake("127.0.0.1", std::string(target),
                            [&](beast::error_code ec) { result = ec; });
        run();
        if (result) {
            throw std::runtime_error("handshake: " + result.message());
        }
    }

    void write(std::string_view text) {
        beast::get_lowest_layer(ws_).expires_after(5s);
        beast::error_code result;
        ws_.text(true);
        ws_.async_write(asio::buffer(text),
                        [&](beast::error_code ec, std::size_t) { result = ec; });
        run();
        if (result) {
            throw std::runtime_error("write: " + result.message());
        }
    }
    /// The next message; on error "" and `ec` set (websocket::error::closed after a close).
    std::string read(beast::error_code& ec, std::chrono::milliseconds limit = 5s) {
        beast::get_lowest_layer(ws_).expires_after(limit);
        beast::flat_buffer buffer;
        ws_.async_read(buffer, [&](beast::error_code e, std::size_t) { ec = e; });
        run();
        return ec ? std::string() : beast::buffers_to_string(buffer.data());
    }
    std::string read() {
        beast::error_code ec;
        auto s = read(ec);
        if (ec) {
            throw std::runtime_error("read: " + ec.message());
        }
        return s;
    }
    void close(std::uint16_t code) {
        beast::get_lowest_layer(ws_).expires_after(5s);
        beast::error_code result;
        ws_.async_close(beast::websocket::close_reason(code),
                        [&](beast::error_code ec) { result = ec; });
        run();
        if (result) {
            throw std::runtime_error("close: " + result.message());
        }
    }
    [[nodiscard]] std::uint16_t close_code() const { return ws_.reason().code; }

  private:
    void run() {
        ioc_.restart();
        ioc_.run();
    }

    asio::io_context ioc_;
    beast::websocket::stream<beast::tcp_stream> ws_{ioc_};
};

// --- routing ---

TEST(WsRouter, WebsocketRouteExposesItsHandlerOnGetOnly) {
    router r;
    int calls = 0;
    r.add_websocket(
        "/ws/{room}",
        [&](const request&, const route_params&, std::string_view,
            const asio::any_io_executor&) -> ws_decision {
            ++calls;
            return json_error(http::status::unauthorized, "no");
        },
        "ws_room");
    r.add(
        http::verb::get, "/plain", [](const request&, const route_params&, responder) {}, "plain");
    auto m = r.match(http::verb::get, "/ws/lobby?token=abc");
    ASSERT_EQ(m.result, route_match::outcome::found);
    ASSERT_NE(m.websocket, nullptr);
    EXPECT_TRUE(m.websocket_route);
    EXPECT_EQ(m.route_name, "ws_room");
    EXPECT_EQ(m.params.at("room"), "lobby");
    EXPECT_EQ(m.query, "token=abc");
    (void)(*m.websocket)(request{}, m.params, m.query, asio::any_io_executor{});
    EXPECT_EQ(calls, 1);
    // The ordinary handler answers what is not an upgrade: 426 with Upgrade.
    std::optional<response> plain;
    (*m.target)(request{}, m.params, [&](response resp) { plain = std::move(resp); });
    ASSERT_TRUE(plain);
    EXPECT_EQ(plain->status, http::status::upgrade_required);
    EXPECT_EQ(plain->headers.at(0),
              std::make_pair(std::string("Upgrade"), std::string("websocket")));

    auto head = r.match(http::verb::head, "/ws/lobby");
    EXPECT_EQ(head.result, route_match::outcome::found);
    EXPECT_EQ(head.websocket, nullptr);
    auto post = r.match(http::verb::post, "/ws/lobby");
    EXPECT_EQ(post.result, route_match::outcome::method_not_allowed);
    EXPECT_TRUE(post.websocket_route);
    auto other = r.match(http::verb::get, "/plain");
    EXPECT_EQ(other.websocket, nullptr);
    EXPECT_FALSE(other.websocket_route);
    EXPECT_THROW(r.add_websocket(
                     "/ws/{room}",
                     [](const request&, const route_params&, std::string_view,
                        const asio::any_io_executor&) -> ws_decision { return response{}; },
                     "again"),
                 std::invalid_argument);
}

// --- the fixture ---

class ws_session_test : public ::testing::Test {
  protected:
    void start(ws_limits limits = {}, std::size_t threads = 2, http_limits http = {}) {
        rec_ = std::make_shared<recorder>();
        routes_->add_websocket(
            "/ws/{room}",
            [rec = rec_](const request&, const route_params& p, std::string_view query,
                         const asio::any_io_executor& exec) -> ws_decision {
                EXPECT_TRUE(exec);
                if (query.find("deny") != std::string_view::npos) {
                    return json_error(http::status::unauthorized, "no token for " + p.at("room"));
                }
                return std::make_shared<test_handler>(rec);
            },
            "ws_room");
        pool_ = std::make_unique<io_pool>(threads);
        http_server_options o{"127.0.0.1", 0, http, "livehouse-test", limits};
        auto s = http_server::bind(pool_->at(0), *pool_, routes_, metrics_, std::move(o));
        ASSERT_TRUE(s) << s.err().message;
        server_ = std::move(*s);
        server_->start();
        pool_->run();
    }

    void TearDown() override {
        if (server_) {
            server_->stop();
        }
        if (pool_) {
            pool_->stop();
            pool_->join();
        }
        server_.reset();
        pool_.reset();
    }

    [[nodiscard]] std::uint16_t port() const { return server_->port(); }

    /// A sample of the metrics text, e.g. metric("ws_slow_consumer_drops_total").
    double metric(std::string_view name) const {
        const auto text = metrics_.render();
        const auto key = "\n" + std::string(name) + " ";
        const auto p = text.find(key);
        return p == std::string::npos ? -1 : std::stod(text.substr(p + key.size()));
    }

    /// Runs f() on the connection's thread and returns its result.
    template <class F> auto on_thread(const std::shared_ptr<ws_connection>& c, F f) {
        std::packaged_task<decltype(f())()> task(std::move(f));
        auto result = task.get_future();
        asio::post(c->executor(), [&task] { task(); });
        return result.get();
    }

    core::metrics_registry metrics_;
    std::shared_ptr<router> routes_ = std::make_shared<router>();
    std::unique_ptr<io_pool> pool_;
    std::unique_ptr<http_server> server_;
    std::shared_ptr<recorder> rec_;
};

// --- handshake ---

TEST_F(ws_session_test, HandshakeAndEchoWithBeastClient) {
    start();
    beast_client c(port());
    c.write("hello");
    EXPECT_EQ(c.read(), "hello");
    c.write(std::string(5000, 'x')); // a 16-bit length, past the initial read buffer
    EXPECT_EQ(c.read(), std::string(5000, 'x'));
    c.write("h\xC3\xA9llo \xF0\x9F\x98\x80");
    EXPECT_EQ(c.read(), "h\xC3\xA9llo \xF0\x9F\x98\x80");
    ASSERT_TRUE(rec_->wait([&] { return rec_->messages.size() == 3; }));
    auto conn = rec_->conn(0);
    ASSERT_TRUE(conn);
    EXPECT_TRUE(conn->remote().starts_with("127.0.0.1:"));
    EXPECT_GT(conn->id(), 0U);
    EXPECT_EQ(server_->open_websockets(), 1U);
    EXPECT_EQ(metric("ws_open_connections"), 1);
    EXPECT_EQ(metric("ws_messages_received_total"), 3);

    c.close(ws::close_code::normal);
    ASSERT_TRUE(rec_->wait([&] { return !rec_->closes.empty(); }));
    EXPECT_EQ(rec_->closed()[0].first, ws::close_code::normal);
    conn.reset();
    EXPECT_TRUE(rec_->wait([&] { return server_->open_websockets() == 0; }));
    EXPECT_NE(metrics_.render().find("http_requests_total{route=\"ws_room\",status=\"101\"} 1"),
              std::string::npos);
}

TEST_F(ws_session_test, HandshakeResponseFollowsRfc6455) {
    start();
    raw_client c(port());
    const auto h = c.upgrade();
    EXPECT_TRUE(h.starts_with("HTTP/1.1 101 Switching Protocols\r\n")) << h;
    EXPECT_NE(h.find("\r\nUpgrade: websocket\r\n"), std::string::npos) << h;
    EXPECT_NE(h.find("\r\nConnection: Upgrade\r\n"), std::string::npos) << h;
    // RFC 6455 §1.3's example key and accept value.
    EXPECT_NE(h.find("\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"),
              std::string::npos)
        << h;
    EXPECT_EQ(h.find("Sec-WebSocket-Extensions"), std::string::npos);
    EXPECT_EQ(h.find("Sec-WebSocket-Protocol"), std::string::npos);
}

TEST_F(ws_session_test, FramesSentWithTheRequestAreRead) {
    start();
    raw_client c(port());
    c.send(upgrade_request() + client_frame(ws::opcode::text, "early"));
    EXPECT_TRUE(c.read_header().starts_with("HTTP/1.1 101"));
    auto e = c.next();
    ASSERT_TRUE(e);
    EXPECT_EQ(e->payload, "early");
}

TEST_F(ws_session_test, BadHandshakesAreRefused) {
    start();
    struct bad {
        std::string request;
        std::string status;
        std::string header; // must be in the response
    };
    const std::vector<bad> cases = {
        {upgrade_request("/ws/room", "", "8"), "426", "Sec-WebSocket-Version: 13"},
        {upgrade_request("/ws/room", "", ""), "426", "Sec-WebSocket-Version: 13"},
        {upgrade_request("/ws/room", "", "13", ""), "400", ""},
        {upgrade_request("/ws/room", "", "13", "c2hvcnQ="), "400", ""},
        {upgrade_request("/ws/room", "", "13", "dGhlIHNhbXBsZSBub25jZQ=x"), "400", ""},
        {upgrade_request("/ws/room", "Content-Length: 0\r\n", "13", sample_key, "POST"), "400", ""},
        {upgrade_request("/ws/room", "", "13", sample_key, "GET", "1.0"), "400", ""},
        {"GET /ws/room HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nSec-WebSocket-Key: " +
             std::string(sample_key) + "\r\nSec-WebSocket-Version: 13\r\n\r\n",
         "400", ""}, // no Connection: Upgrade
        {"GET /ws/room HTTP/1.1\r\nHost: t\r\n\r\n", "426", "Upgrade: websocket"}, // plain GET
    };
    for (const auto& b : cases) {
        SCOPED_TRACE(b.request);
        raw_client c(port());
        c.send(b.request);
        auto [h, body] = c.read_response();
        EXPECT_TRUE(h.starts_with("HTTP/1.1 " + b.status)) << h;
        if (!b.header.empty()) {
            EXPECT_NE(h.find("\r\n" + b.header + "\r\n"), std::string::npos) << h;
        }
        EXPECT_NE(body.find("\"error\""), std::string::npos) << body;
    }
    EXPECT_EQ(rec_->opened(), 0U);
    // Refusals are ordinary responses: the connection serves the next request.
    raw_client c(port());
    c.send(upgrade_request("/ws/room", "", "8"));
    EXPECT_TRUE(c.read_response().first.starts_with("HTTP/1.1 426"));
    EXPECT_TRUE(c.upgrade().starts_with("HTTP/1.1 101"));
}

TEST_F(ws_session_test, RouteRefusalIsAnHttpResponse) {
    start();
    raw_client c(port());
    c.send(upgrade_request("/ws/lobby?deny=1"));
    auto [h, body] = c.read_response();
    EXPECT_TRUE(h.starts_with("HTTP/1.1 401")) << h;
    EXPECT_EQ(body, R"({"error":"no token for lobby"})");
    EXPECT_EQ(rec_->opened(), 0U);
}

TEST_F(ws_session_test, HttpDeadlinesEndWithTheUpgrade) {
    http_limits h;
    h.read_timeout = 100ms;
    h.idle_timeout = 100ms;
    start({}, 2, h);
    beast_client c(port());
    // Counted as a websocket now (the http_session ends once its upgrade() returns).
    EXPECT_TRUE(rec_->wait([&] { return server_->open_connections() == 0; }, 1s));
    EXPECT_EQ(server_->open_websockets(), 1U);
    std::this_thread::sleep_for(400ms); // past every HTTP deadline
    c.write("still open");
    EXPECT_EQ(c.read(), "still open");
}

// --- messages and their close codes ---

TEST_F(ws_session_test, OversizedMessageClosesWith1009AndOthersAreServed) {
    ws_limits l;
    l.max_message_bytes = 1024;
    start(l);
    beast_client other(port());
    raw_client c(port());
    ASSERT_TRUE(c.upgrade().starts_with("HTTP/1.1 101"));
    c.send(client_frame(ws::opcode::text, std::string(1024, 'a'))); // at the limit: fine
    auto echo = c.next();
    ASSERT_TRUE(echo);
    EXPECT_EQ(echo->payload.size(), 1024U);
    // Only the header of the oversized frame is sent: the close comes before its payload.
    const auto big = client_frame(ws::opcode::text, std::string(2000, 'a'));
    c.send(big.substr(0, 8));
    auto e = c.next();
    ASSERT_TRUE(e);
    EXPECT_EQ(e->op, ws::opcode::close);
    EXPECT_EQ(e->code, ws::close_code::too_big);
    EXPECT_TRUE(c.wait_closed());
    other.write("still here");
    EXPECT_EQ(other.read(), "still here");
    EXPECT_EQ(metric("ws_protocol_errors_total"), 1);
}

TEST_F(ws_session_test, FragmentedMessageIsReassembled) {
    start();
    raw_client c(port());
    ASSERT_TRUE(c.upgrade().starts_with("HTTP/1.1 101"));
    const auto frag = [](unsigned b0, std::string_view p) {
        std::string f = client_frame(ws::opcode::text, p);
        f[0] = static_cast<char>(b0);
        return f;
    };
    c.send(frag(0x01, "Hel") + client_frame(ws::opcode::ping, "between") + frag(0x00, "l") +
           frag(0x80, "o \xE2\x82"));
    auto pong = c.next();
    ASSERT_TRUE(pong);
    EXPECT_EQ(pong->op, ws::opcode::pong);
    EXPECT_EQ(pong->payload, "between");
    // "Hello \xE2\x82" alone is not valid UTF-8: the server closes with 1007.
    auto e = c.next();
    ASSERT_TRUE(e);
    EXPECT_EQ(e->op, ws::opcode::close);
    EXPECT_EQ(e->code, ws::close_code::invalid_payload);

    raw_client d(port());
    ASSERT_TRUE(d.upgrade().starts_with("HTTP/1.1 101"));
    d.send(frag(0x01, "Hel") + client_frame(ws::opcode::ping, "x") + frag(0x00, "lo \xE2\x82"));
    d.send(frag(0x80, "\xAC!"));
    ASSERT_EQ(d.next()->op, ws::opcode::pong);
    auto m = d.next();
    ASSERT_TRUE(m);
    EXPECT_EQ(m->op, ws::opcode::text);
    EXPECT_EQ(m->payload, "Hello \xE2\x82\xAC!");
}

struct failure_case {
    const char* name;
    std::string frame;
    std::uint16_t code;
};

TEST_F(ws_session_test, BadFramesCloseWithTheirCode) {
    start();
    std::string unmasked = ws::encode_frame(ws::opcode::text, "plain");
    const std::vector<failure_case> cases = {
        {"binary", client_frame(ws::opcode::binary, "\x01\x02"), 1003},
        {"invalid UTF-8", client_frame(ws::opcode::text, "\xC0\xAF"),
         ws::close_code::invalid_payload},
        {"unmasked", unmasked, ws::close_code::protocol_error},
        {"reserved opcode", std::string("\x83\x80\x00\x00\x00\x00", 6),
         ws::close_code::protocol_error},
    };
    for (const auto& fc : cases) {
        SCOPED_TRACE(fc.name);
        raw_client c(port());
        ASSERT_TRUE(c.upgrade().starts_with("HTTP/1.1 101"));
        c.send(client_frame(ws::opcode::text, "first") + fc.frame);
        auto first = c.next();
        ASSERT_TRUE(first);
        EXPECT_EQ(first->payload, "first");
        auto e = c.next();
        ASSERT_TRUE(e);
        EXPECT_EQ(e->op, ws::opcode::close);
        EXPECT_EQ(e->code, fc.code);
        EXPECT_TRUE(c.wait_closed()); // failed: the server does not wait for our close
    }
    ASSERT_TRUE(rec_->wait([&] { return rec_->closes.size() == cases.size(); }));
    const auto closes = rec_->closed();
    for (std::size_t i = 0; i < cases.size(); ++i) {
        EXPECT_EQ(closes[i].first, cases[i].code);
    }
    EXPECT_EQ(metric("ws_protocol_errors_total"), static_cast<double>(cases.size()));
}

TEST_F(ws_session_test, PingGetsPong) {
    start();
    raw_client c(port());
    ASSERT_TRUE(c.upgrade().starts_with("HTTP/1.1 101"));
    c.send(client_frame(ws::opcode::ping, "payload 123"));
    auto e = c.next();
    ASSERT_TRUE(e);
    EXPECT_EQ(e->op, ws::opcode::pong);
    EXPECT_EQ(e->payload, "payload 123");
}

// --- closing handshakes ---

TEST_F(ws_session_test, ClientCloseIsEchoedThenTcpCloses) {
    start();
    raw_client c(port());
    ASSERT_TRUE(c.upgrade().starts_with("HTTP/1.1 101"));
    c.send(ws::encode_close(ws::close_code::going_away, "leaving", ws::role::client, 42));
    auto e = c.next();
    ASSERT_TRUE(e);
    EXPECT_EQ(e->op, ws::opcode::close);
    EXPECT_EQ(e->code, ws::close_code::going_away); // echoed
    EXPECT_TRUE(c.wait_closed(2s));                 // the server closes TCP first
    ASSERT_TRUE(rec_->wait([&] { return !rec_->closes.empty(); }));
    EXPECT_EQ(rec_->closed()[0],
              std::make_pair(ws::close_code::going_away, std::string("leaving")));
}

TEST_F(ws_session_test, ServiceCloseWaitsForTheClientsClose) {
    ws_limits l;
    l.close_timeout = 300ms;
    start(l);
    raw_client c(port());
    ASSERT_TRUE(c.upgrade().starts_with("HTTP/1.1 101"));
    c.send(client_frame(ws::opcode::text, "hi") + client_frame(ws::opcode::text, "close"));
    EXPECT_EQ(c.next()->payload, "hi");
    auto e = c.next();
    ASSERT_TRUE(e);
    EXPECT_EQ(e->op, ws::opcode::close);
    EXPECT_EQ(e->code, 4000);
    EXPECT_EQ(e->payload, "bye");
    // Until our close comes (or close_timeout passes) the server keeps the connection.
    EXPECT_FALSE(c.wait_closed(100ms));
    c.send(ws::encode_close(4000, "", ws::role::client, 1));
    EXPECT_TRUE(c.wait_closed(1s));

    // A client that never answers is dropped after close_timeout.
    raw_client mute(port());
    ASSERT_TRUE(mute.upgrade().starts_with("HTTP/1.1 101"));
    mute.send(client_frame(ws::opcode::text, "close"));
    ASSERT_EQ(mute.next()->op, ws::opcode::close);
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_TRUE(mute.wait_closed(3s));
    EXPECT_GE(std::chrono::steady_clock::now() - t0, 200ms);
}

TEST_F(ws_session_test, ServerStopClosesClientsWith1001) {
    start();
    beast_client a(port());
    beast_client b(port());
    a.write("x");
    EXPECT_EQ(a.read(), "x");
    ASSERT_TRUE(rec_->wait([&] { return rec_->conns.size() == 2; }));
    server_->stop();
    for (auto* c : {&a, &b}) {
        beast::error_code ec;
        c->read(ec);
        EXPECT_EQ(ec, beast::websocket::error::closed) << ec.message();
        EXPECT_EQ(c->close_code(), ws::close_code::going_away);
    }
    EXPECT_TRUE(rec_->wait([&] { return server_->open_websockets() == 0; }));
    // New upgrades are not accepted once stopping (the listener is closed too).
}

// --- liveness ---

TEST_F(ws_session_test, IdleClientIsPingedThenDropped) {
    ws_limits l;
    l.ping_interval = 200ms;
    start(l);
    raw_client answering(port());
    ASSERT_TRUE(answering.upgrade().starts_with("HTTP/1.1 101"));
    raw_client silent(port());
    ASSERT_TRUE(silent.upgrade().starts_with("HTTP/1.1 101"));

    const auto t0 = std::chrono::steady_clock::now();
    // Answering every ping keeps a connection open for many intervals.
    for (int i = 0; i < 4; ++i) {
        auto p = answering.next(2s);
        ASSERT_TRUE(p) << i;
        ASSERT_EQ(p->op, ws::opcode::ping);
        if (i == 0) {
            EXPECT_GE(std::chrono::steady_clock::now() - t0, 150ms);
        }
        answering.send(client_frame(ws::opcode::pong, p->payload));
    }
    answering.send(client_frame(ws::opcode::text, "alive"));
    auto e = answering.next(2s);
    while (e && e->op == ws::opcode::ping) {
        e = answering.next(2s);
    }
    ASSERT_TRUE(e);
    EXPECT_EQ(e->payload, "alive");

    // The silent one got a ping too, and was dropped one interval later without a close
    // frame (the peer is presumed dead).
    auto ping = silent.next(2s);
    ASSERT_TRUE(ping);
    EXPECT_EQ(ping->op, ws::opcode::ping);
    EXPECT_TRUE(silent.wait_closed(2s));
    ASSERT_TRUE(rec_->wait([&] { return !rec_->closes.empty(); }));
    EXPECT_EQ(rec_->closed()[0].first, 1006);
}

// --- the send queue ---

TEST_F(ws_session_test, ManyQueuedFramesArriveIntactAndInOrder) {
    start();
    raw_client c(port());
    ASSERT_TRUE(c.upgrade().starts_with("HTTP/1.1 101"));
    const double frames_before = metric("ws_frames_sent_total");
    c.send(client_frame(ws::opcode::text, "burst:5000"));
    for (int i = 0; i < 5000; ++i) {
        auto e = c.next();
        ASSERT_TRUE(e) << i;
        ASSERT_EQ(e->payload, "m" + std::to_string(i));
    }
    // The counter is bumped after sendmsg returns, which may be after we read the bytes.
    const auto until = std::chrono::steady_clock::now() + 2s;
    while (metric("ws_frames_sent_total") - frames_before < 5000 &&
           std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(1ms);
    }
    EXPECT_GE(metric("ws_frames_sent_total") - frames_before, 5000);
}

TEST_F(ws_session_test, NonReaderIsClosedAtTheHardLimitWhileAReaderGetsEverything) {
    ws_limits l;
    l.send_soft_limit_bytes = 128 * 1024;
    l.send_soft_limit_time = 60s;
    l.send_hard_limit_bytes = 256 * 1024;
    l.close_timeout = 500ms;
    start(l, 1); // both connections on one thread
    raw_client reader(port());
    ASSERT_TRUE(reader.upgrade().starts_with("HTTP/1.1 101"));
    raw_client stuck(port(), 4096);
    ASSERT_TRUE(stuck.upgrade().starts_with("HTTP/1.1 101"));
    ASSERT_TRUE(rec_->wait([&] { return rec_->conns.size() == 2; }));
    auto to_reader = rec_->conn(0);
    auto to_stuck = rec_->conn(1);

    // The same frame bytes go to both, 16 KiB at a time, paced by the reader.
    constexpr std::size_t chunk = 16 * 1024;
    std::size_t sent = 0;
    std::size_t frames = 0;
    send_result stuck_result = send_result::queued;
    while (sent < 32U * 1024 * 1024 && stuck_result == send_result::queued) {
        std::string payload(chunk, static_cast<char>('a' + frames % 26));
        auto frame = core::make_shared_bytes(ws::encode_frame(ws::opcode::binary, payload));
        EXPECT_EQ(on_thread(to_reader, [&] { return to_reader->send(frame); }),
                  send_result::queued);
        stuck_result = on_thread(to_stuck, [&] { return to_stuck->send(frame); });
        auto e = reader.next();
        ASSERT_TRUE(e) << frames;
        ASSERT_EQ(e->payload, payload) << frames;
        sent += chunk;
        ++frames;
    }
    EXPECT_EQ(stuck_result, send_result::dropped) << "after " << sent << " bytes";
    std::printf("non-reader dropped after %zu bytes sent to it (hard limit %zu)\n", sent,
                l.send_hard_limit_bytes);
    EXPECT_GE(sent, 2U * 1024 * 1024 / 4); // the kernel's buffers took part of it first
    EXPECT_EQ(metric("ws_slow_consumer_drops_total"), 1);
    // The stuck connection is closing: its queue is freed, later sends are refused.
    EXPECT_EQ(on_thread(to_stuck, [&] { return to_stuck->send(core::make_shared_bytes("x")); }),
              send_result::closed);
    EXPECT_LE(on_thread(to_stuck, [&] { return to_stuck->queued_bytes(); }), chunk + 200);
    ASSERT_TRUE(rec_->wait([&] { return !rec_->closes.empty(); }));
    EXPECT_EQ(rec_->closed()[0],
              std::make_pair(ws::close_code::policy_violation, std::string("too slow")));
    // Its TCP connection ends (close_timeout after the write stopped progressing).
    EXPECT_TRUE(stuck.wait_closed(5s));
    // And the reader still gets what follows.
    EXPECT_EQ(on_thread(to_reader,
                        [&] {
                            return to_reader->send(core::make_shared_bytes(
                                ws::encode_frame(ws::opcode::text, "after")));
                        }),
              send_result::queued);
    auto e = reader.next();
    ASSERT_TRUE(e);
    EXPECT_EQ(e->payload, "after");
}

TEST_F(ws_session_test, SoftLimitForTooLongCloses) {
    ws_limits l;
    l.send_soft_limit_bytes = 64 * 1024;
    l.send_soft_limit_time = 300ms;
    l.send_hard_limit_bytes = 64 * 1024 * 1024;
    l.close_timeout = 30s; // a stalled write alone would take this long
    start(l);
    raw_client stuck(port(), 4096);
    ASSERT_TRUE(stuck.upgrade().starts_with("HTTP/1.1 101"));
    ASSERT_TRUE(rec_->wait([&] { return rec_->conns.size() == 1; }));
    auto conn = rec_->conn(0);
    auto frame =
        core::make_shared_bytes(ws::encode_frame(ws::opcode::binary, std::string(16384, 'z')));
    // Queue until over the soft limit (the kernel's buffers fill first), then stop.
    std::size_t queued = 0;
    for (int i = 0; i < 4096 && queued <= l.send_soft_limit_bytes; ++i) {
        queued = on_thread(conn, [&] {
            EXPECT_EQ(conn->send(frame), send_result::queued);
            return conn->queued_bytes();
        });
        if (i % 16 == 0) {
            std::this_thread::sleep_for(1ms); // let the flushes run: the kernel takes its share
        }
    }
    ASSERT_GT(queued, l.send_soft_limit_bytes);
    const auto t0 = std::chrono::steady_clock::now();
    ASSERT_TRUE(rec_->wait([&] { return !rec_->closes.empty(); }, 3s));
    EXPECT_GE(std::chrono::steady_clock::now() - t0, 200ms);
    EXPECT_EQ(rec_->closed()[0].first, ws::close_code::policy_violation);
    EXPECT_EQ(metric("ws_slow_consumer_drops_total"), 1);
}

TEST_F(ws_session_test, IdleConnectionsCostLittleMemory) {
    rlimit lim{};
    getrlimit(RLIMIT_NOFILE, &lim);
    constexpr std::size_t n = 1000;
    if (lim.rlim_cur < 2 * n + 100) {
        GTEST_SKIP() << "needs " << 2 * n + 100 << " file descriptors";
    }
    start({}, 1);
    const auto rss = [] {
        std::ifstream statm("/proc/self/statm");
        std::size_t size = 0;
        std::size_t resident = 0;
        statm >> size >> resident;
        return resident * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    };
    // Client sockets: plain, on one context, sync (cheap: they are counted in the RSS too).
    asio::io_context ioc;
    std::vector<tcp::socket> clients;
    clients.reserve(n);
    const auto request = upgrade_request();
    const auto open = [&](std::size_t count) {
        for (std::size_t i = 0; i < count; ++i) {
            auto& s = clients.emplace_back(ioc);
            s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port()));
            asio::write(s, asio::buffer(request));
        }
    };
    open(50); // warm-up: pools, first allocations
    ASSERT_TRUE(rec_->wait([&] { return rec_->conns.size() == 50; }));
    const auto before = rss();
    open(n - 50);
    ASSERT_TRUE(rec_->wait([&] { return rec_->conns.size() == n; }, 20s));
    const auto after = rss();
    const double per_connection = static_cast<double>(after - before) / (n - 50);
    RecordProperty("bytes_per_idle_connection", std::to_string(per_connection));
    std::printf("RSS per idle websocket connection (server + test client): %.0f bytes\n",
                per_connection);
    EXPECT_LE(per_connection, 10 * 1024);
}

} // namespace
} // namespace livehouse::net
