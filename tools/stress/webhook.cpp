// Webhook notification (see webhook.hpp).
#include "stress/webhook.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace livehouse::stress {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

std::string webhook_body(const scenario& sc, const run_stats& stats, const verdict& v) {
    const auto all = stats.total();
    std::string text = fmt::format(
        "livehouse stress: *{}* {} — {} requests in {:.1f} s ({:.0f}/s), {} failed, p99 {:.2f} ms",
        sc.name, v.passed() ? "PASSED" : "FAILED", all.requests, stats.elapsed_s,
        static_cast<double>(all.requests) / std::max(stats.elapsed_s, 1e-9), all.failed,
        static_cast<double>(all.latency.percentile(0.99)) / 1000.0);
    if (stats.viewers.joined > 0) {
        text += fmt::format("; {} viewers, {} stalls", stats.viewers.joined, stats.viewers.stalls);
    }
    for (const auto& r : v.results) {
        if (!r.passed) {
            text += fmt::format("\nfailed: {} (observed {:g})", r.rule.text, r.observed);
        }
    }
    return nlohmann::json{{"text", text}}.dump();
}

core::result<int> post_webhook(const std::string& url, const std::string& body,
                               std::chrono::milliseconds timeout) {
    constexpr std::string_view scheme = "http://";
    if (!url.starts_with(scheme)) {
        return core::make_error(fmt::format("webhook {}: only http:// URLs", url));
    }
    const auto rest = std::string_view(url).substr(scheme.size());
    const auto slash = rest.find('/');
    const auto authority = rest.substr(0, slash);
    const std::string target =
        slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
    const auto colon = authority.rfind(':');
    const std::string host(authority.substr(0, colon));
    const std::string port =
        colon == std::string_view::npos ? "80" : std::string(authority.substr(colon + 1));
    asio::io_context ioc;
    beast::tcp_stream stream(ioc);
    tcp::resolver resolver(ioc);
    beast::error_code ec;
    const auto endpoints = resolver.resolve(host, port, ec);
    if (ec) {
        return core::make_error(fmt::format("webhook {}: {}", url, ec.message()));
    }
    http::request<http::string_body> req{http::verb::post, target, 11};
    req.set(http::field::host, std::string(authority));
    req.set(http::field::content_type, "application/json");
    req.set(http::field::user_agent, "livehouse-stress");
    req.body() = body;
    req.prepare_payload();
    http::response<http::string_body> res;
    beast::flat_buffer buffer;
    // Asynchronous operations under one deadline (tcp_stream's), run to completion here: the
    // run is over, this thread has nothing else to do.
    stream.expires_after(timeout);
    stream.async_connect(endpoints, [&](beast::error_code e, const tcp::endpoint&) {
        if (e) {
            ec = e;
            return;
        }
        http::async_write(stream, req, [&](beast::error_code we, std::size_t) {
            if (we) {
                ec = we;
                return;
            }
            http::async_read(stream, buffer, res,
                             [&](beast::error_code re, std::size_t) { ec = re; });
        });
    });
    ioc.run();
    if (ec) {
        return core::make_error(fmt::format("webhook {}: {}", url, ec.message()));
    }
    return static_cast<int>(res.result_int());
}

} // namespace livehouse::stress
