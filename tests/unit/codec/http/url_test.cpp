// http:// URLs and host:port pairs: what is accepted (IPv6 literals, default port, query-only
// targets) and each refusal with its reason.
#include "codec/http/url.hpp"

#include <gtest/gtest.h>
#include <string>

namespace livehouse::codec::http {
namespace {

TEST(HttpUrl, TakesHostPortAuthorityAndTarget) {
    auto a = parse_http_url("http://origin:8080/hls/b1/index.m3u8?x=1");
    ASSERT_TRUE(a) << a.err().message;
    EXPECT_EQ(a->host, "origin");
    EXPECT_EQ(a->port, 8080);
    EXPECT_EQ(a->authority, "origin:8080");
    EXPECT_EQ(a->target, "/hls/b1/index.m3u8?x=1");
    auto b = parse_http_url("http://127.0.0.1");
    ASSERT_TRUE(b);
    EXPECT_EQ(b->port, 80);
    EXPECT_EQ(b->target, "/");
    auto c = parse_http_url("http://[::1]:9000/");
    ASSERT_TRUE(c);
    EXPECT_EQ(c->host, "::1");
    EXPECT_EQ(c->authority, "[::1]:9000");
    auto d = parse_http_url("http://h?q=1");
    ASSERT_TRUE(d);
    EXPECT_EQ(d->target, "/?q=1") << "RFC 9112 §3.2.1: an empty path is /";
}

TEST(HttpUrl, RefusesWhatItDoesNotServeSayingWhy) {
    const struct {
        std::string url;
        const char* why;
    } cases[] = {
        {"https://o", "only http:// is supported"},
        {"o:8080", "expected http://host[:port]"},
        {"http://", "no host"},
        {"http://:80", "no host"},
        {"http://o:0", "bad port"},
        {"http://o:70000", "bad port"},
        {"http://o:8x", "bad port"},
        {"http://o:", "bad port"},
        {"http://u:p@o:1", "user info"},
        {"http://[::1", "unclosed '['"},
        {"http://[::1]x", "junk after the host"},
        {"http://[zz]:1", "bad IPv6 literal"},
        {"http://o/a#frag", "fragment"},
        {"http://o/a b", "space or control"},
        {"http://o\\x/", "bad character"},
        {"http://" + std::string(3000, 'a'), "2048"},
    };
    for (const auto& c : cases) {
        auto r = parse_http_url(c.url);
        ASSERT_FALSE(r) << c.url;
        EXPECT_NE(r.err().message.find(c.why), std::string::npos)
            << c.url << ": " << r.err().message;
    }
}

TEST(HostPort, NeedsAPortUnlessADefaultIsGiven) {
    auto a = parse_host_port("127.0.0.1:7400");
    ASSERT_TRUE(a) << a.err().message;
    EXPECT_EQ(a->host, "127.0.0.1");
    EXPECT_EQ(a->port, 7400);
    auto b = parse_host_port("[::1]:1");
    ASSERT_TRUE(b);
    EXPECT_EQ(b->host, "::1");
    EXPECT_FALSE(parse_host_port("worker"));
    EXPECT_NE(parse_host_port("worker").err().message.find("expected host:port"),
              std::string::npos);
    auto c = parse_host_port("worker", 7400);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->port, 7400);
    EXPECT_FALSE(parse_host_port(":1"));
    EXPECT_FALSE(parse_host_port("h:65536"));
    EXPECT_FALSE(parse_host_port("h:0"));
    auto any = parse_host_port("127.0.0.1:0", std::nullopt, true);
    ASSERT_TRUE(any) << "port 0 to listen on any";
    EXPECT_EQ(any->port, 0);
}

TEST(Url, AuthorityBracketsAnIpv6Host) {
    EXPECT_EQ(authority("127.0.0.1", 8080), "127.0.0.1:8080");
    EXPECT_EQ(authority("::1", 8080), "[::1]:8080");
    EXPECT_EQ(authority("live.example", 80), "live.example:80");
}

} // namespace
} // namespace livehouse::codec::http
