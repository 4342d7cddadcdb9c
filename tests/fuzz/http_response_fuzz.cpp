// Fuzz target: the load tester's HTTP/1.1 response reader (codec/http/response_reader.hpp).
// Whatever the bytes: no crash, consumption within the input, and the same outcome whether the
// input comes whole or in two pieces.
#include "codec/http/response_reader.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using livehouse::codec::http::response_reader;
    const std::string_view wire(reinterpret_cast<const char*>(data), size);
    response_reader::limits limits{
        .max_head_bytes = 4096, .max_body_bytes = 1 << 20, .max_capture_bytes = 1 << 16};
    response_reader whole(limits);
    whole.reset(size > 0 && (data[0] & 1) != 0, true);
    const auto used = whole.feed(wire);
    if (used > size) {
        __builtin_trap();
    }
    response_reader split(limits);
    split.reset(size > 0 && (data[0] & 1) != 0, true);
    const std::size_t cut = size / 2;
    std::size_t used2 = split.feed(wire.substr(0, cut));
    if (!split.done() && !split.failed() && used2 == cut) {
        used2 += split.feed(wire.substr(cut));
    }
    if (whole.done() != split.done() || whole.failed() != split.failed()) {
        __builtin_trap();
    }
    if (whole.done() &&
        (used != used2 || whole.body() != split.body() || whole.status() != split.status())) {
        __builtin_trap();
    }
    return 0;
}
