// Fuzz target: the embedded love journal's records (codec/love/love_journal.hpp), which start-up
// reads back from disk. Whatever decodes must encode back to the same bytes (the format has one
// spelling per record); anything else must be a refusal with a message.
#include "codec/love/love_journal.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace livehouse::codec::love;
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    if (auto b = decode_batches(bytes)) {
        if (encode_batches(*b) != bytes) {
            std::abort();
        }
    } else if (b.err().message.empty()) {
        std::abort();
    }
    if (auto s = decode_state(bytes)) {
        if (encode_state(*s) != bytes) {
            std::abort();
        }
    } else if (s.err().message.empty()) {
        std::abort();
    }
    return 0;
}
