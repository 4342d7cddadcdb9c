// The client's opening handshake (RFC 6455 §4.1): the request's fields, the §1.3 example
// answer accepted, each MUST-fail case refused with its reason, a head split anywhere.
#include "codec/websocket/client_handshake.hpp"

#include <gtest/gtest.h>
#include <string>

namespace livehouse::codec::websocket {
namespace {

// RFC 6455 §1.3: key "dGhlIHNhbXBsZSBub25jZQ==" answers "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=".
constexpr std::string_view key = "dGhlIHNhbXBsZSBub25jZQ==";

std::string answer(std::string_view extra_fields = "",
                   std::string_view accept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
                   std::string_view status_line = "HTTP/1.1 101 Switching Protocols") {
    std::string s(status_line);
    s += "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n";
    if (!accept.empty()) {
        s += "Sec-WebSocket-Accept: ";
        s += accept;
        s += "\r\n";
    }
    s += extra_fields;
    s += "\r\n";
    return s;
}

TEST(ClientHandshake, RequestCarriesTheFieldsOfSection4_1) {
    const auto r = client_handshake_request("example.com:80", "/chat?x=1", key, "Origin: o\r\n");
    EXPECT_TRUE(r.starts_with("GET /chat?x=1 HTTP/1.1\r\nHost: example.com:80\r\n"));
    EXPECT_NE(r.find("\r\nUpgrade: websocket\r\n"), std::string::npos);
    EXPECT_NE(r.find("\r\nConnection: Upgrade\r\n"), std::string::npos);
    EXPECT_NE(r.find("\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"), std::string::npos);
    EXPECT_NE(r.find("\r\nSec-WebSocket-Version: 13\r\n"), std::string::npos);
    EXPECT_TRUE(r.ends_with("\r\nOrigin: o\r\n\r\n"));
}

TEST(ClientHandshake, TheRfcExampleIsAcceptedAndFramesAfterItAreLeft) {
    const auto a = answer() + "\x81\x02hi";
    const auto r = check_handshake_answer(a, key);
    ASSERT_EQ(r.result.state, core::parse_state::ok) << r.result.error;
    EXPECT_EQ(r.status, 101);
    EXPECT_EQ(a.substr(r.result.consumed), "\x81\x02hi");
}

TEST(ClientHandshake, NamesAndTokensAreCaseInsensitive) {
    const std::string a = "HTTP/1.1 101 OK\r\nUPGRADE: WebSocket\r\nconnection: keep-alive, "
                          "upgrade\r\nsec-websocket-accept:s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
    EXPECT_EQ(check_handshake_answer(a, key).result.state, core::parse_state::ok);
}

TEST(ClientHandshake, SplitAnywhereItWaitsForTheWholeHead) {
    const auto a = answer();
    for (std::size_t i = 0; i < a.size(); ++i) {
        const auto r = check_handshake_answer(std::string_view(a).substr(0, i), key);
        EXPECT_EQ(r.result.state, core::parse_state::need_more) << i;
    }
}

TEST(ClientHandshake, EachMustFailCaseFails) {
    struct bad {
        std::string text;
        std::string_view why;
        int status;
    };
    const bad cases[] = {
        {answer("", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", "HTTP/1.1 401 Unauthorized"), "not 101", 401},
        {answer("", "", "HTTP/1.1 101 Switching Protocols"), "Sec-WebSocket-Accept", 101},
        {answer("", "AAAAAAAAAAAAAAAAAAAAAAAAAAA="), "Sec-WebSocket-Accept", 101},
        {"HTTP/1.1 101 X\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "
         "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
         "Upgrade", 101},
        {"HTTP/1.1 101 X\r\nUpgrade: h2c\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "
         "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
         "Upgrade", 101},
        {"HTTP/1.1 101 X\r\nUpgrade: websocket\r\nConnection: close\r\nSec-WebSocket-Accept: "
         "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
         "Connection", 101},
        {answer("Sec-WebSocket-Extensions: permessage-deflate\r\n"), "extension", 101},
        {answer("Sec-WebSocket-Protocol: chat\r\n"), "subprotocol", 101},
        {answer("no colon here\r\n"), "header field", 101},
        {"HTTP/1.0 101 X\r\n\r\n", "status line", 0},
        {"HTTP/1.1 1x1 X\r\n\r\n", "status line", 0},
        {"HTTP/1.1 1010 X\r\n\r\n", "status line", 0},
    };
    for (const auto& c : cases) {
        const auto r = check_handshake_answer(c.text, key);
        ASSERT_EQ(r.result.state, core::parse_state::error) << c.text;
        EXPECT_NE(r.result.error.find(c.why), std::string::npos) << r.result.error;
        EXPECT_EQ(r.status, c.status) << c.text;
    }
}

TEST(ClientHandshake, AHeadOverTheLimitFailsWithOrWithoutItsEnd) {
    std::string big = "HTTP/1.1 101 X\r\nX-Pad: " + std::string(max_head_bytes, 'a');
    EXPECT_EQ(check_handshake_answer(big, key).result.state, core::parse_state::error);
    big += "\r\n\r\n";
    EXPECT_EQ(check_handshake_answer(big, key).result.state, core::parse_state::error);
}

} // namespace
} // namespace livehouse::codec::websocket
