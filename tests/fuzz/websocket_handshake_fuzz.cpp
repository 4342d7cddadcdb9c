// Fuzz target: the client's check of a WebSocket handshake answer. Whatever the bytes, it never
// reads past them, an accepted head ends with CRLF CRLF within the 16 KiB limit and says 101,
// and an answer is accepted only when it carries the accept value of the key.
#include "codec/websocket/client_handshake.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace livehouse::codec::websocket;
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    constexpr std::string_view key = "dGhlIHNhbXBsZSBub25jZQ==";
    const auto r = check_handshake_answer(in, key);
    if (r.result.consumed > in.size()) {
        std::abort();
    }
    if (r.result.state == livehouse::core::parse_state::ok) {
        const auto head = in.substr(0, r.result.consumed);
        if (r.status != 101 || head.size() > max_head_bytes || !head.ends_with("\r\n\r\n") ||
            head.find("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") == std::string_view::npos) {
            std::abort();
        }
    }
    if (r.result.state == livehouse::core::parse_state::error && r.result.error.empty()) {
        std::abort();
    }
    return 0;
}
