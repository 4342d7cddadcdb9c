// RTMP ingest over real sockets: the service behind a real tcp_listener on 127.0.0.1 port 0,
// driven by (a) the captured ffmpeg publish session replayed byte for byte (stream key
// rewritten), (b) hand-made bad clients, (c) a real ffmpeg process.
#include "codec/rtmp/chunk_reader.hpp"
#include "codec/rtmp/chunk_writer.hpp"
#include "codec/rtmp/handshake.hpp"
#include "codec/rtmp/messages.hpp"
#include "core/clock.hpp"
#include "livehouse_test/temp_dir.hpp"
#include "media/broadcast.hpp"
#include "net/io_pool.hpp"
#include "net/tcp_listener.hpp"
#include "services/ingest/rtmp_server.hpp"

#include <arpa/inet.h>
#include <array>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <fcntl.h>
#include <fmt/format.h>
#include <fstream>
#include <functional>
#include <gtest/gtest.h>
#include <iterator>
#include <mutex>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace livehouse::services::ingest {
namespace {

namespace rtmp = codec::rtmp;
using namespace std::chrono_literals;

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

// ---- the captured session, re-serialized with our own stream key ------------------------------

struct replay {
    std::string c0c1; ///< ffmpeg's C0+C1 (digest handshake)
    std::string c2;
    std::vector<rtmp::message> messages;

    /// The chunk stream for messages [from, to), written with the chunk size in force there.
    [[nodiscard]] std::string bytes(std::size_t from, std::size_t to) const {
        rtmp::chunk_writer w;
        std::string out;
        std::string discard;
        for (std::size_t i = 0; i < to; ++i) {
            const auto& m = messages[i];
            w.write(m, i >= from ? out : discard);
            if (m.type == rtmp::message_type::set_chunk_size) {
                core::byte_reader r(m.bytes());
                w.set_chunk_size(*r.u32());
            }
        }
        return out;
    }
    /// Index of the first command named `name` (messages.size() if none).
    [[nodiscard]] std::size_t find(std::string_view name) const {
        for (std::size_t i = 0; i < messages.size(); ++i) {
            if (messages[i].type == rtmp::message_type::command_amf0) {
                auto c = rtmp::parse_command(messages[i].bytes());
                if (c && c->name == name) {
                    return i;
                }
            }
        }
        return messages.size();
    }
};

/// The capture with every stream-key argument (releaseStream, FCPublish, publish,
/// FCUnpublish) replaced by `key`.
replay make_replay(const std::string& key) {
    const std::string c2s =
        read_file(std::string(LIVEHOUSE_TEST_DATA) + "/rtmp/publish_session.c2s.bin");
    replay r;
    constexpr std::size_t hs = rtmp::handshake_size;
    EXPECT_GT(c2s.size(), 1 + 2 * hs);
    r.c0c1 = c2s.substr(0, 1 + hs);
    r.c2 = c2s.substr(1 + hs, hs);
    rtmp::chunk_reader reader;
    auto res = reader.feed(core::as_bytes(std::string_view(c2s).substr(1 + 2 * hs)));
    EXPECT_EQ(res.state, core::parse_state::ok) << res.error;
    while (auto m = reader.next()) {
        if (m->type == rtmp::message_type::command_amf0) {
            auto c = rtmp::parse_command(m->bytes());
            EXPECT_TRUE(c.has_value());
            if (c && !c->args.empty() && c->args[0].is_string() &&
                (c->name == "releaseStream" || c->name == "FCPublish" || c->name == "publish" ||
                 c->name == "FCUnpublish")) {
                std::vector<rtmp::amf0_value> values = {c->name, c->transaction_id, c->object};
                values.insert(values.end(), c->args.begin(), c->args.end());
                values[3] = key;
                auto rebuilt = rtmp::make_command(m->stream_id, m->csid, values);
                rebuilt.timestamp_ms = m->timestamp_ms;
                r.messages.push_back(std::move(rebuilt));
                continue;
            }
        }
        r.messages.push_back(std::move(*m));
    }
    return r;
}

// ---- a blocking test client on a raw socket (poll() timeouts: a broken server fails the test
// instead of hanging it)
// ---------------------------------------------------------------------------

struct reply {
    rtmp::message_type type;
    std::uint32_t stream_id;
    std::optional<rtmp::command> command;
    std::uint32_t ack = 0; ///< for acknowledgements
};

class client {
  public:
    explicit client(std::uint16_t port) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port);
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    }
    ~client() { ::close(fd_); }
    client(const client&) = delete;
    client& operator=(const client&) = delete;

    [[nodiscard]] bool connected() const { return connected_; }

    bool send(std::string_view bytes) {
        while (!bytes.empty()) {
            const auto n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
            if (n <= 0) {
                return false;
            }
            bytes.remove_prefix(static_cast<std::size_t>(n));
        }
        return true;
    }

    /// Reads exactly n bytes; empty on EOF, error or timeout.
    std::string read_exactly(std::size_t n, std::chrono::milliseconds timeout = 5s) {
        std::string out;
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (out.size() < n) {
            auto chunk = read_some(deadline);
            if (chunk.empty()) {
                return {};
            }
            out += chunk;
        }
        pending_ = out.substr(n);
        out.resize(n);
        return out;
    }

    /// Sends C0+C1, reads S0+S1+S2, sends C2 (all from the capture).
    bool handshake(const replay& r) {
        if (!send(r.c0c1)) {
            return false;
        }
        auto s = read_exactly(1 + 2 * rtmp::handshake_size);
        return s.size() == 1 + 2 * rtmp::handshake_size && s[0] == 3 && send(r.c2);
    }

    /// Reads and decodes server messages until `done` says so (true), the server closes
    /// (eof() then true) or the timeout passes (false).
    bool read_until(const std::function<bool(const std::vector<reply>&)>& done,
                    std::chrono::milliseconds timeout = 5s) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            if (done(replies_)) {
                return true;
            }
            std::string bytes = std::move(pending_);
            pending_.clear();
            if (bytes.empty()) {
                bytes = read_some(deadline);
            }
            if (bytes.empty()) {
                return eof_;
            }
            unparsed_ += bytes;
            auto res = reader_.feed(core::as_bytes(unparsed_));
            if (res.state == core::parse_state::error) {
                ADD_FAILURE() << "server sent a bad chunk stream: " << res.error;
                return false;
            }
            unparsed_.erase(0, res.consumed);
            while (auto m = reader_.next()) {
                reply rep{m->type, m->stream_id, std::nullopt, 0};
                if (m->type == rtmp::message_type::command_amf0) {
                    auto c = rtmp::parse_command(m->bytes());
                    EXPECT_TRUE(c.has_value());
                    if (c) {
                        rep.command = std::move(*c);
                    }
                } else if (m->type == rtmp::message_type::acknowledgement) {
                    core::byte_reader br(m->bytes());
                    rep.ack = br.u32().value_or(0);
                }
                replies_.push_back(std::move(rep));
            }
        }
    }

    /// True once the server has closed the connection (within the timeout).
    bool wait_closed(std::chrono::milliseconds timeout = 5s) {
        return read_until([](const std::vector<reply>&) { return false; }, timeout) && eof_;
    }

    [[nodiscard]] bool eof() const { return eof_; }
    [[nodiscard]] const std::vector<reply>& replies() const { return replies_; }

  private:
    std::string read_some(std::chrono::steady_clock::time_point deadline) {
        for (;;) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) {
                return {};
            }
            pollfd p{fd_, POLLIN, 0};
            const int ready = ::poll(&p, 1, static_cast<int>(left.count()));
            if (ready < 0 && errno == EINTR) {
                continue;
            }
            if (ready <= 0) {
                return {};
            }
            std::array<char, 65536> buf{};
            const auto n = ::recv(fd_, buf.data(), buf.size(), 0);
            if (n <= 0) {
                eof_ = true;
                return {};
            }
            return {buf.data(), static_cast<std::size_t>(n)};
        }
    }

    int fd_ = -1;
    bool connected_ = false;
    bool eof_ = false;
    std::string pending_;
    std::string unparsed_;
    rtmp::chunk_reader reader_;
    std::vector<reply> replies_;
};

/// The first reply whose command is onStatus with `code`, or nullptr.
const reply* find_status(const std::vector<reply>& replies, std::string_view code) {
    for (const auto& r : replies) {
        if (r.command && r.command->name == "onStatus" && !r.command->args.empty() &&
            r.command->args[0].get_string("code") == code) {
            return &r;
        }
    }
    return nullptr;
}
auto has_status(std::string_view code) {
    return [code](const std::vector<reply>& rs) { return find_status(rs, code) != nullptr; };
}

// ---- the fixture: registry, io pool, listener, service --------------------------------------

using livehouse::test::temp_dir;

class Ingest : public ::testing::Test {
  protected:
    static ingest_config default_config() {
        ingest_config c;
        c.timeout = 5s;
        return c;
    }

    void start(ingest_config cfg = default_config()) {
        media::packager_config pc;
        pc.target_segment = 1000ms;
        pc.window_segments = 3;
        pc.data_dir = dir_.path().string();
        registry_ = std::make_unique<media::broadcast_registry>(
            pc, clock_, [](std::function<void()> task) { task(); });
        registry_->on_change([this](const media::broadcast_record& r) {
            std::lock_guard lock(mutex_);
            changes_.push_back(r);
            changed_.notify_all();
        });
        server_ = std::make_unique<rtmp_server>(*registry_, std::move(cfg));
        pool_ = std::make_unique<net::io_pool>(2);
        auto l = net::tcp_listener::bind(pool_->at(0), *pool_, "rtmp", "127.0.0.1", 0);
        ASSERT_TRUE(l.has_value()) << l.err().message;
        listener_ = std::move(*l);
        listener_->start(
            [s = server_.get()](boost::asio::ip::tcp::socket sock) { s->accept(std::move(sock)); });
        pool_->run();
    }

    void TearDown() override {
        if (listener_) {
            listener_->stop();
        }
        if (server_) {
            server_->close_all();
        }
        if (pool_) {
            pool_->stop();
            pool_->join();
        }
        // The listener's acceptor and timer belong to a pool context: they go first. Sessions
        // die with their contexts, before the registry they publish to.
        listener_.reset();
        pool_.reset();
        server_.reset();
        registry_.reset();
    }

    [[nodiscard]] std::uint16_t port() const { return listener_->port(); }

    /// Waits until broadcast `id` has reached `status` (through the registry's change hook).
    bool wait_status(const std::string& id, media::broadcast_status status,
                     std::chrono::milliseconds timeout = 10s) {
        std::unique_lock lock(mutex_);
        return changed_.wait_for(lock, timeout, [&] {
            return std::any_of(changes_.begin(), changes_.end(),
                               [&](const auto& r) { return r.id == id && r.status == status; });
        });
    }

    /// Polls `pred` (for state with no change event, such as counters) until true or timeout.
    static bool eventually(const std::function<bool()>& pred,
                           std::chrono::milliseconds timeout = 5s) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (!pred()) {
            if (std::chrono::steady_clock::now() > deadline) {
                return false;
            }
            std::this_thread::sleep_for(5ms);
        }
        return true;
    }

    temp_dir dir_;
    core::system_clock clock_;
    std::unique_ptr<media::broadcast_registry> registry_;
    std::unique_ptr<rtmp_server> server_;
    std::unique_ptr<net::io_pool> pool_;
    std::shared_ptr<net::tcp_listener> listener_;
    std::mutex mutex_;
    std::condition_variable changed_;
    std::vector<media::broadcast_record> changes_;
};

// ---- tests --------------------------------------------------------------------------------

TEST_F(Ingest, ReplayedFfmpegPublishGoesLiveAndSegments) {
    start();
    auto b = registry_->create("replay");
    const auto key = b->record().stream_key;
    const replay r = make_replay(key);
    ASSERT_FALSE(r.messages.empty());

    client c(port());
    ASSERT_TRUE(c.connected());
    ASSERT_TRUE(c.handshake(r));
    ASSERT_TRUE(c.send(r.bytes(0, r.messages.size())));
    ASSERT_TRUE(c.read_until(has_status(rtmp::code_unpublish_success)));

    const auto& rs = c.replies();
    // connect -> _result NetConnection.Connect.Success (after the control preamble).
    auto connect_result = std::find_if(rs.begin(), rs.end(), [](const reply& x) {
        return x.command && x.command->name == "_result" && x.command->transaction_id == 1;
    });
    ASSERT_NE(connect_result, rs.end());
    ASSERT_FALSE(connect_result->command->args.empty());
    EXPECT_EQ(connect_result->command->args[0].get_string("code"), rtmp::code_connect_success);
    EXPECT_TRUE(std::any_of(rs.begin(), rs.end(), [](const reply& x) {
        return x.type == rtmp::message_type::window_ack_size;
    }));
    // createStream -> _result with stream id 1; publish -> onStatus Publish.Start on stream 1.
    EXPECT_TRUE(std::any_of(rs.begin(), rs.end(), [](const reply& x) {
        return x.command && x.command->name == "_result" && !x.command->args.empty() &&
               x.command->args[0] == rtmp::amf0_value(1.0);
    }));
    const auto* start_status = find_status(rs, rtmp::code_publish_start);
    ASSERT_NE(start_status, nullptr);
    EXPECT_EQ(start_status->stream_id, 1U);
    EXPECT_EQ(start_status->command->args[0].get_string("level"), "status");

    // deleteStream ended the publish: suspended, with the media cut into segments.
    ASSERT_TRUE(wait_status(b->id(), media::broadcast_status::live));
    ASSERT_TRUE(wait_status(b->id(), media::broadcast_status::suspended));
    const auto snap = b->snapshot();
    EXPECT_GE(snap->segments.size(), 2U); // ~3 s of media, 1 s target
    ASSERT_NE(snap->playlist, nullptr);
    EXPECT_NE(snap->playlist->find("#EXTINF"), std::string::npos);
    const auto& counters = server_->counters();
    EXPECT_EQ(counters.publishes_accepted.load(), 1U);
    EXPECT_GT(counters.frames.load(), 150U); // 75 video + ~130 audio frames
    EXPECT_EQ(counters.media_errors.load(), 0U);
    EXPECT_EQ(counters.protocol_errors.load(), 0U);
    EXPECT_EQ(counters.publishing.load(), 0);
}

TEST_F(Ingest, UnknownStreamKeyIsRefused) {
    start();
    auto b = registry_->create("idle");
    const replay r = make_replay("live_not-a-key");
    client c(port());
    ASSERT_TRUE(c.handshake(r));
    ASSERT_TRUE(c.send(r.bytes(0, r.messages.size())));
    ASSERT_TRUE(c.read_until(has_status(rtmp::code_publish_bad_name)));
    const auto* bad = find_status(c.replies(), rtmp::code_publish_bad_name);
    EXPECT_EQ(bad->command->args[0].get_string("level"), "error");
    EXPECT_EQ(bad->command->args[0].get_string("description"), "unknown stream key");
    EXPECT_TRUE(c.wait_closed());
    EXPECT_EQ(server_->counters().publishes_refused.load(), 1U);
    EXPECT_EQ(server_->counters().frames.load(), 0U);
    EXPECT_EQ(b->snapshot()->status, media::broadcast_status::idle);
}

TEST_F(Ingest, SecondPublisherIsRefusedAndTheFirstCarriesOn) {
    start();
    auto b = registry_->create("contended");
    const replay r = make_replay(b->record().stream_key);
    const auto stop = r.find("FCUnpublish");
    ASSERT_LT(stop, r.messages.size());

    client first(port());
    ASSERT_TRUE(first.handshake(r));
    ASSERT_TRUE(first.send(r.bytes(0, stop))); // everything up to the unpublish
    ASSERT_TRUE(first.read_until(has_status(rtmp::code_publish_start)));
    ASSERT_TRUE(wait_status(b->id(), media::broadcast_status::live));

    client second(port());
    ASSERT_TRUE(second.handshake(r));
    ASSERT_TRUE(second.send(r.bytes(0, r.messages.size())));
    ASSERT_TRUE(second.read_until(has_status(rtmp::code_publish_bad_name)));
    EXPECT_EQ(find_status(second.replies(), rtmp::code_publish_bad_name)
                  ->command->args[0]
                  .get_string("description"),
              "already publishing");
    EXPECT_TRUE(second.wait_closed());

    // The first publisher is still on: its unpublish is answered and the broadcast suspends.
    EXPECT_EQ(b->snapshot()->status, media::broadcast_status::live);
    ASSERT_TRUE(first.send(r.bytes(stop, r.messages.size())));
    ASSERT_TRUE(first.read_until(has_status(rtmp::code_unpublish_success)));
    EXPECT_TRUE(wait_status(b->id(), media::broadcast_status::suspended));
    EXPECT_EQ(server_->counters().publishes_accepted.load(), 1U);
    EXPECT_EQ(server_->counters().publishes_refused.load(), 1U);
}

TEST_F(Ingest, RepublishResumesAfterDisconnect) {
    start();
    auto b = registry_->create("resume");
    const replay r = make_replay(b->record().stream_key);
    const auto stop = r.find("FCUnpublish");
    {
        client c(port());
        ASSERT_TRUE(c.handshake(r));
        ASSERT_TRUE(c.send(r.bytes(0, stop)));
        ASSERT_TRUE(c.read_until(has_status(rtmp::code_publish_start)));
        ASSERT_TRUE(wait_status(b->id(), media::broadcast_status::live));
    } // the publisher drops without unpublishing
    ASSERT_TRUE(wait_status(b->id(), media::broadcast_status::suspended));
    std::size_t live_changes = 0;
    client again(port());
    ASSERT_TRUE(again.handshake(r));
    ASSERT_TRUE(again.send(r.bytes(0, r.messages.size())));
    ASSERT_TRUE(again.read_until(has_status(rtmp::code_unpublish_success)));
    {
        std::lock_guard lock(mutex_);
        for (const auto& ch : changes_) {
            live_changes += ch.status == media::broadcast_status::live ? 1 : 0;
        }
    }
    EXPECT_EQ(live_changes, 2U);
}

TEST_F(Ingest, CloseAllEndsPublishes) {
    start();
    auto b = registry_->create("shutdown");
    const replay r = make_replay(b->record().stream_key);
    client c(port());
    ASSERT_TRUE(c.handshake(r));
    ASSERT_TRUE(c.send(r.bytes(0, r.find("FCUnpublish"))));
    ASSERT_TRUE(wait_status(b->id(), media::broadcast_status::live));
    EXPECT_EQ(server_->session_count(), 1U);
    server_->close_all();
    EXPECT_TRUE(c.wait_closed());
    EXPECT_TRUE(wait_status(b->id(), media::broadcast_status::suspended));
    EXPECT_TRUE(eventually([&] { return server_->session_count() == 0; }));
}

TEST_F(Ingest, WrongApplicationIsRejected) {
    start();
    const replay r = make_replay("whatever");
    const rtmp::amf0_value connect[] = {
        "connect", 1.0, rtmp::amf0_object{{{"app", "vod"}, {"tcUrl", "rtmp://x/vod"}}}};
    rtmp::chunk_writer w;
    std::string bytes;
    w.write(rtmp::make_command(0, 3, connect), bytes);
    client c(port());
    ASSERT_TRUE(c.handshake(r));
    ASSERT_TRUE(c.send(bytes));
    EXPECT_TRUE(c.wait_closed());
    ASSERT_FALSE(c.replies().empty());
    const auto& last = c.replies().back();
    ASSERT_TRUE(last.command.has_value());
    EXPECT_EQ(last.command->name, "_error");
    EXPECT_EQ(last.command->args[0].get_string("code"), rtmp::code_connect_rejected);
}

TEST_F(Ingest, GarbageClosesOnlyThatConnection) {
    start();
    auto b = registry_->create("steady");
    const replay r = make_replay(b->record().stream_key);
    const auto stop = r.find("FCUnpublish");
    client good(port());
    ASSERT_TRUE(good.handshake(r));
    ASSERT_TRUE(good.send(r.bytes(0, stop)));
    ASSERT_TRUE(wait_status(b->id(), media::broadcast_status::live));

    {
        client http(port()); // not RTMP at all: refused on the first byte
        ASSERT_TRUE(http.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
        EXPECT_TRUE(http.wait_closed());
    }
    {
        client chunks(port()); // a valid handshake, then a type 3 chunk on an unknown stream
        ASSERT_TRUE(chunks.handshake(r));
        ASSERT_TRUE(chunks.send(std::string("\xc5\x01\x02\x03garbage", 11)));
        EXPECT_TRUE(chunks.wait_closed());
    }
    {
        client amf(port()); // a command whose AMF0 string overruns the message
        ASSERT_TRUE(amf.handshake(r));
        rtmp::chunk_writer w;
        std::string bytes;
        w.write(3, rtmp::message_type::command_amf0, 0, 0,
                core::as_bytes(std::string_view("\x02\x00\x20"
                                                "connect",
                                                10)),
                bytes);
        ASSERT_TRUE(amf.send(bytes));
        EXPECT_TRUE(amf.wait_closed());
    }
    EXPECT_EQ(server_->counters().protocol_errors.load(), 3U);

    // The good publisher never noticed.
    EXPECT_EQ(b->snapshot()->status, media::broadcast_status::live);
    ASSERT_TRUE(good.send(r.bytes(stop, r.messages.size())));
    ASSERT_TRUE(good.read_until(has_status(rtmp::code_unpublish_success)));
    EXPECT_FALSE(good.eof());
}

TEST_F(Ingest, AcknowledgesPerThePeersWindow) {
    start();
    auto b = registry_->create("acks");
    replay r = make_replay(b->record().stream_key);
    // Insert a Window Acknowledgement Size of 16 KiB right after connect.
    auto win = rtmp::make_window_ack_size(16 * 1024);
    r.messages.insert(r.messages.begin() + 1, win);
    client c(port());
    ASSERT_TRUE(c.handshake(r));
    const std::string wire = r.bytes(0, r.messages.size());
    ASSERT_TRUE(c.send(wire));
    ASSERT_TRUE(c.read_until(has_status(rtmp::code_unpublish_success)));
    std::vector<std::uint32_t> acks;
    for (const auto& rep : c.replies()) {
        if (rep.type == rtmp::message_type::acknowledgement) {
            acks.push_back(rep.ack);
        }
    }
    // Acknowledgements are cumulative (§5.4.3 "the number of bytes received so far", the
    // handshake included), at least a window apart; one read may cover several windows.
    const std::uint64_t total = wire.size() + 1 + 2 * rtmp::handshake_size;
    ASSERT_FALSE(acks.empty());
    EXPECT_GE(acks.front(), 16U * 1024);
    for (std::size_t i = 1; i < acks.size(); ++i) {
        EXPECT_GE(acks[i] - acks[i - 1], 16U * 1024);
    }
    EXPECT_LE(acks.back(), total);
}

TEST_F(Ingest, Timeouts) {
    ingest_config cfg;
    cfg.timeout = 200ms;
    cfg.publish_timeout = 600ms;
    start(cfg);
    const replay r = make_replay("k");
    const auto t0 = std::chrono::steady_clock::now();
    client silent(port()); // never says anything
    client shy(port());    // shakes hands, then stays quiet
    ASSERT_TRUE(shy.handshake(r));
    EXPECT_TRUE(silent.wait_closed());
    EXPECT_TRUE(shy.wait_closed());
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);

    // Chatty but never publishing: cut at publish_timeout.
    client chatty(port());
    ASSERT_TRUE(chatty.handshake(r));
    bool closed = false;
    for (int i = 0; i < 40 && !closed; ++i) {
        rtmp::chunk_writer w;
        std::string ping;
        w.write(rtmp::make_ping_response(static_cast<std::uint32_t>(i)), ping);
        closed = !chatty.send(ping) || chatty.wait_closed(100ms);
    }
    EXPECT_TRUE(closed);
    EXPECT_EQ(server_->counters().timeouts.load(), 3U);
}

// ---- a real encoder -------------------------------------------------------------------------

/// Runs ffmpeg with `args`; returns its exit status, or -1 if it could not start. `quiet`
/// discards its stderr (for runs expected to fail).
int run_ffmpeg(const std::vector<std::string>& args, bool quiet = false) {
    std::vector<char*> argv;
    std::vector<std::string> all = {"ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error"};
    all.insert(all.end(), args.begin(), args.end());
    for (auto& a : all) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    ::posix_spawn_file_actions_init(&actions);
    if (quiet) {
        ::posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    }
    pid_t pid = 0;
    const int spawned = ::posix_spawnp(&pid, "ffmpeg", &actions, nullptr, argv.data(), environ);
    ::posix_spawn_file_actions_destroy(&actions);
    if (spawned != 0) {
        return -1;
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

std::vector<std::string> publish_args(std::uint16_t port, const std::string& key, int seconds) {
    return {"-re",
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=320x240:rate=25",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440",
            "-t",
            std::to_string(seconds),
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-g",
            "25",
            "-b:v",
            "300k",
            "-c:a",
            "aac",
            "-b:a",
            "64k",
            "-f",
            "flv",
            fmt::format("rtmp://127.0.0.1:{}/live/{}", port, key)};
}

TEST_F(Ingest, RealFfmpegPublishes) {
    if (::system("ffmpeg -version >/dev/null 2>&1") != 0) {
        GTEST_SKIP() << "ffmpeg not installed";
    }
    start();
    auto b = registry_->create("ffmpeg");
    const auto key = b->record().stream_key;

    int good_status = -1;
    std::thread good([&] { good_status = run_ffmpeg(publish_args(port(), key, 3)); });
    const bool went_live = wait_status(b->id(), media::broadcast_status::live);

    // While it publishes: a wrong key is refused (ffmpeg fails), garbage is cut off.
    const int wrong_status = run_ffmpeg(publish_args(port(), "live_wrong", 1), true);
    {
        client junk(port()); // C0, zero C1 and C2, then a chunk no stream started
        junk.send("\x03" + std::string(2 * rtmp::handshake_size, '\0') + "\xc7garbage");
        EXPECT_EQ(junk.read_exactly(1 + 2 * rtmp::handshake_size).size(), 3073U);
        EXPECT_TRUE(junk.wait_closed());
    }
    const bool still_live = b->snapshot()->status == media::broadcast_status::live;
    good.join();

    ASSERT_TRUE(went_live);
    EXPECT_TRUE(still_live);
    EXPECT_EQ(good_status, 0);
    EXPECT_NE(wrong_status, 0);
    ASSERT_TRUE(wait_status(b->id(), media::broadcast_status::suspended));
    EXPECT_GE(b->snapshot()->segments.size(), 2U);
    EXPECT_EQ(server_->counters().publishes_accepted.load(), 1U);
    EXPECT_GE(server_->counters().publishes_refused.load(), 1U);
    EXPECT_EQ(server_->counters().media_errors.load(), 0U);
}

} // namespace
} // namespace livehouse::services::ingest
