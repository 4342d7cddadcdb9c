// response_reader: framing by length, chunks, close and no-body statuses; keep-alive rules;
// any split of the bytes reads the same; malformed input and limits fail.
#include "codec/http/response_reader.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <string>

namespace livehouse::codec::http {
namespace {

/// Feeds `wire` in pieces of `step` bytes; returns the bytes consumed.
std::size_t feed_in_steps(response_reader& r, std::string_view wire, std::size_t step) {
    std::size_t used = 0;
    while (used < wire.size() && !r.done() && !r.failed()) {
        used += r.feed(wire.substr(used, std::min(step, wire.size() - used)));
    }
    return used;
}

TEST(ResponseReader, ContentLengthAtEverySplit) {
    const std::string wire = "HTTP/1.1 200 OK\r\nServer: x\r\nContent-Length: 11\r\n"
                             "Content-Type: text/plain\r\n\r\nhello worldHTTP/1.1 204 No";
    for (std::size_t step = 1; step <= wire.size(); ++step) {
        response_reader r;
        r.reset(false, true);
        const auto used = feed_in_steps(r, wire, step);
        ASSERT_TRUE(r.done()) << step << ": " << r.error();
        EXPECT_EQ(used, wire.find("HTTP/1.1 204")) << "stops at the end of the response";
        EXPECT_EQ(r.status(), 200);
        EXPECT_TRUE(r.keep_alive());
        EXPECT_EQ(r.body_bytes(), 11u);
        EXPECT_EQ(r.body(), "hello world");
    }
}

TEST(ResponseReader, ChunkedWithExtensionsAndTrailers) {
    const std::string wire = "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
                             "5;name=v\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n";
    for (std::size_t step = 1; step <= wire.size(); ++step) {
        response_reader r;
        r.reset(false, true);
        EXPECT_EQ(feed_in_steps(r, wire, step), wire.size());
        ASSERT_TRUE(r.done()) << step << ": " << r.error();
        EXPECT_EQ(r.body(), "hello world");
        EXPECT_EQ(r.body_bytes(), 11u);
    }
}

TEST(ResponseReader, NoBodyStatusesAndHead) {
    for (const char* wire :
         {"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n",
          "HTTP/1.1 304 Not Modified\r\n\r\n", "HTTP/1.1 100 Continue\r\n\r\n"}) {
        response_reader r;
        r.reset(false, false);
        r.feed(wire);
        EXPECT_TRUE(r.done()) << wire;
        EXPECT_EQ(r.body_bytes(), 0u);
    }
    response_reader head;
    head.reset(true, false);
    head.feed("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
    EXPECT_TRUE(head.done()) << "a HEAD answer has no body whatever its Content-Length";
}

TEST(ResponseReader, KeepAliveRules) {
    const struct {
        const char* wire;
        bool keep;
    } cases[] = {
        {"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", true},
        {"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", false},
        {"HTTP/1.1 200 OK\r\nconnection: Keep-Alive, CLOSE\r\nContent-Length: 0\r\n\r\n", false},
        {"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", false},
        {"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n", true},
    };
    for (const auto& c : cases) {
        response_reader r;
        r.reset(false, false);
        r.feed(c.wire);
        ASSERT_TRUE(r.done()) << c.wire;
        EXPECT_EQ(r.keep_alive(), c.keep) << c.wire;
    }
}

TEST(ResponseReader, UntilCloseEndsAtEof) {
    response_reader r;
    r.reset(false, true);
    r.feed("HTTP/1.1 200 OK\r\n\r\npart one, ");
    EXPECT_FALSE(r.done());
    r.feed("part two");
    r.finish_at_eof();
    ASSERT_TRUE(r.done());
    EXPECT_FALSE(r.keep_alive());
    EXPECT_EQ(r.body(), "part one, part two");

    response_reader cut;
    cut.reset(false, false);
    cut.feed("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort");
    cut.finish_at_eof();
    EXPECT_TRUE(cut.failed());
}

TEST(ResponseReader, MalformedAndOverLimitsFail) {
    const char* bad[] = {
        "HTTP/2 200 OK\r\n\r\n",
        "HTTP/1.1 2x0 OK\r\n\r\n",
        "HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcXY",
    };
    for (const char* wire : bad) {
        response_reader r;
        r.reset(false, false);
        r.feed(wire);
        EXPECT_TRUE(r.failed()) << wire;
        EXPECT_FALSE(r.error().empty());
    }
    response_reader small({.max_head_bytes = 64, .max_body_bytes = 10, .max_capture_bytes = 4});
    small.reset(false, false);
    small.feed(fmt::format("HTTP/1.1 200 OK\r\nX: {}\r\n\r\n", std::string(100, 'a')));
    EXPECT_TRUE(small.failed()) << "head over the limit";
    small.reset(false, false);
    small.feed("HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n");
    EXPECT_TRUE(small.failed()) << "body over the limit";
    small.reset(false, true);
    small.feed("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
    EXPECT_TRUE(small.failed()) << "captured body over the limit";
    small.reset(false, false);
    small.feed("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
    EXPECT_TRUE(small.done()) << "not captured: only counted";
}

TEST(ResponseReader, ABodyReadWithTheHeadIsNotCopiedIntoTheHead) {
    // A segment's head and 64 KiB of its body come in one read: the reader keeps the head
    // only (its buffers stay with the connection, 100,000 of them in a load test).
    response_reader r;
    r.reset(false, false);
    const std::string body(64 * 1024, 'x');
    const std::string wire = "HTTP/1.1 200 OK\r\nContent-Length: 65536\r\n\r\n" + body;
    EXPECT_EQ(r.feed(wire), wire.size());
    ASSERT_TRUE(r.done());
    EXPECT_EQ(r.body_bytes(), body.size());
    EXPECT_LT(r.held_bytes(), 1024u);
    // The blank line split over two reads: found, and nothing after it copied either.
    response_reader s;
    s.reset(false, false);
    const std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 65536\r\n\r";
    EXPECT_EQ(s.feed(head), head.size());
    const std::string rest = "\n" + body;
    EXPECT_EQ(s.feed(rest), rest.size());
    ASSERT_TRUE(s.done());
    EXPECT_EQ(s.status(), 200);
    EXPECT_LT(s.held_bytes(), 1024u);
}

} // namespace
} // namespace livehouse::codec::http
