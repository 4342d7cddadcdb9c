// http_once (see http_once.hpp).
#include "stress/http_once.hpp"

#include "codec/http/url.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>

namespace livehouse::stress {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

core::result<http_answer> http_once(const std::string& method, const std::string& url,
                                    const std::string& body, const std::string& content_type,
                                    std::chrono::milliseconds timeout) {
    auto u = codec::http::parse_http_url(url);
    if (!u) {
        return u.err().wrap(url);
    }
    const std::string port = fmt::format("{}", u->port);
    const std::string& host = u->host;
    const std::string& target = u->target;
    const std::string& authority = u->authority;
    asio::io_context ioc;
    beast::tcp_stream stream(ioc);
    tcp::resolver resolver(ioc);
    beast::error_code ec;
    const auto endpoints = resolver.resolve(host, port, ec);
    if (ec) {
        return core::make_error(fmt::format("{}: {}", url, ec.message()));
    }
    http::request<http::string_body> req{http::string_to_verb(method), target, 11};
    req.set(http::field::host, authority);
    req.set(http::field::user_agent, "livehouse-stress");
    if (!content_type.empty()) {
        req.set(http::field::content_type, content_type);
    }
    req.body() = body;
    req.prepare_payload();
    http::response_parser<http::string_body> parser;
    parser.body_limit(16 * 1024 * 1024);
    beast::flat_buffer buffer;
    stream.expires_after(timeout); // one deadline for connect, write and read
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
            http::async_read(stream, buffer, parser,
                             [&](beast::error_code re, std::size_t) { ec = re; });
        });
    });
    ioc.run();
    if (ec) {
        return core::make_error(fmt::format("{}: {}", url, ec.message()));
    }
    return http_answer{static_cast<int>(parser.get().result_int()), parser.get().body()};
}

} // namespace livehouse::stress
