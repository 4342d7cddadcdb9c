// Fuzz target: chat client messages. Whatever parses as a send must respect the limits it was
// parsed with (text length in characters, ref bytes), and a refusal always has a code.
#include "codec/chat/client_message.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace livehouse::codec::chat;
    const client_limits limits{.max_message_bytes = 4096, .max_text_chars = 50, .max_ref_bytes = 8};
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto r = parse_client_message(text, limits);
    if (const auto* c = std::get_if<client_command>(&r)) {
        if (c->text.empty() || utf8_length(c->text) > limits.max_text_chars ||
            c->ref.size() > limits.max_ref_bytes) {
            std::abort();
        }
    } else if (std::get<refusal>(r).code.empty()) {
        std::abort();
    }
    return 0;
}
