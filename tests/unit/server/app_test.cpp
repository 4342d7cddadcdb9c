// The composition root, in-process: ports 0 and a temporary data dir; /healthz, /metrics, the
// ready file, start-up errors naming their cause, the admin token file, and stop.
#include "livehouse_test/temp_dir.hpp"
#include "server/app.hpp"

#include <boost/asio/connect.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace livehouse::server {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

using livehouse::test::temp_dir;

http::response<http::string_body> fetch(std::uint16_t port, const std::string& target) {
    asio::io_context ioc;
    beast::tcp_stream stream(ioc);
    http::response<http::string_body> res;
    beast::flat_buffer buffer;
    http::request<http::empty_body> req(http::verb::get, target, 11);
    req.set(http::field::host, "localhost");
    beast::error_code result;
    stream.expires_after(5s);
    stream.async_connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port),
                         [&](beast::error_code ec) {
                             if (ec) {
                                 result = ec;
                                 return;
                             }
                             http::async_write(stream, req, [&](beast::error_code e, std::size_t) {
                                 if (e) {
                                     result = e;
                                     return;
                                 }
                                 http::async_read(
                                     stream, buffer, res,
                                     [&](beast::error_code r, std::size_t) { result = r; });
                             });
                         });
    ioc.run();
    if (result) {
        throw std::runtime_error("fetch " + target + ": " + result.message());
    }
    return res;
}

config test_config(const temp_dir& dir) {
    config c;
    c.server.bind = "127.0.0.1";
    c.server.threads = 2;
    c.server.data_dir = dir.str() + "/data";
    c.server.web_dir = dir.str() + "/no-web"; // pages missing: logged, not fatal
    c.http.port = 0;
    c.rtmp.port = 0;
    c.admin.token = "test-token";
    return c;
}

TEST(app, serves_healthz_and_metrics_writes_ready_file_and_stops) {
    temp_dir dir;
    const auto ready = dir.str() + "/ready.json";
    auto a = app::start(test_config(dir), ready);
    ASSERT_TRUE(a) << a.err().message;
    auto& running = *a;
    EXPECT_NE(running->http_port(), 0);
    EXPECT_NE(running->rtmp_port(), 0);

    std::ifstream in(ready);
    const auto doc = nlohmann::json::parse(in);
    EXPECT_EQ(doc["http_port"], running->http_port());
    EXPECT_EQ(doc["rtmp_port"], running->rtmp_port());
    EXPECT_EQ(doc["pid"], ::getpid());

    std::thread main_loop([&] { EXPECT_EQ(running->run(), 0); });

    auto health = fetch(running->http_port(), "/healthz");
    EXPECT_EQ(health.result(), http::status::ok);
    EXPECT_EQ(health.body(), R"({"status":"ok"})");
    EXPECT_EQ(health[http::field::content_type], "application/json");

    auto metrics = fetch(running->http_port(), "/metrics");
    EXPECT_EQ(metrics.result(), http::status::ok);
    EXPECT_EQ(metrics[http::field::content_type], "text/plain; version=0.0.4; charset=utf-8");
    EXPECT_NE(metrics.body().find("broadcasts_live 0\n"), std::string::npos) << metrics.body();
    EXPECT_NE(metrics.body().find("http_requests_total{route=\"healthz\",status=\"200\"} 1\n"),
              std::string::npos)
        << metrics.body();
    EXPECT_NE(metrics.body().find("livehouse_build_info{version=\""), std::string::npos);
    EXPECT_TRUE(fs::exists(dir.str() + "/data/livehouse.db"));

    running->request_stop();
    main_loop.join();
    // Stopped: nothing listens any more.
    EXPECT_THROW(fetch(running->http_port(), "/healthz"), std::runtime_error);
}

TEST(app, port_in_use_is_an_error_naming_the_port) {
    temp_dir dir;
    auto first = app::start(test_config(dir), "");
    ASSERT_TRUE(first) << first.err().message;
    temp_dir dir2;
    auto cfg = test_config(dir2);
    cfg.http.port = (*first)->http_port();
    auto second = app::start(cfg, "");
    ASSERT_FALSE(second);
    EXPECT_NE(second.err().message.find(":" + std::to_string(cfg.http.port)), std::string::npos)
        << second.err().message;
    EXPECT_NE(second.err().message.find("in use"), std::string::npos) << second.err().message;

    cfg.http.port = 0;
    cfg.rtmp.port = (*first)->rtmp_port();
    auto third = app::start(cfg, "");
    ASSERT_FALSE(third);
    EXPECT_NE(third.err().message.find("rtmp: listen"), std::string::npos) << third.err().message;
}

TEST(app, unwritable_data_dir_is_an_error_naming_it) {
    temp_dir dir;
    std::ofstream(dir.str() + "/a-file") << "x";
    auto cfg = test_config(dir);
    cfg.server.data_dir = dir.str() + "/a-file/data";
    auto a = app::start(cfg, "");
    ASSERT_FALSE(a);
    EXPECT_NE(a.err().message.find("data dir " + cfg.server.data_dir), std::string::npos)
        << a.err().message;
}

TEST(app, admin_token_file_is_generated_once_with_mode_0600) {
    temp_dir dir;
    bool generated = false;
    auto t1 = load_or_create_admin_token(dir.str(), generated);
    ASSERT_TRUE(t1) << t1.err().message;
    EXPECT_TRUE(generated);
    EXPECT_EQ(t1->size(), 64U);
    EXPECT_EQ(t1->find_first_not_of("0123456789abcdef"), std::string::npos);
    struct stat st {};
    ASSERT_EQ(::stat((dir.str() + "/admin.token").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600U);

    auto t2 = load_or_create_admin_token(dir.str(), generated);
    ASSERT_TRUE(t2);
    EXPECT_FALSE(generated);
    EXPECT_EQ(*t1, *t2);

    std::ofstream(dir.str() + "/admin.token", std::ios::trunc) << "  \n";
    auto empty = load_or_create_admin_token(dir.str(), generated);
    EXPECT_FALSE(empty);
}

TEST(app, ready_file_is_replaced_atomically) {
    temp_dir dir;
    const auto path = dir.str() + "/ready.json";
    ASSERT_TRUE(write_file_atomically(path, "one"));
    ASSERT_TRUE(write_file_atomically(path, "two"));
    std::ifstream in(path);
    std::string text((std::istreambuf_iterator<char>(in)), {});
    EXPECT_EQ(text, "two");
    // No temporary left behind.
    EXPECT_EQ(std::distance(fs::directory_iterator(dir.str()), fs::directory_iterator()), 1);
    EXPECT_FALSE(write_file_atomically(dir.str() + "/missing/ready.json", "x"));
}

} // namespace
} // namespace livehouse::server
