// Fuzz target: AMF0 decoding. Whatever decodes must survive a round trip: encode it, decode
// that, and get an equal value list; and the encoding is canonical after one round.
#include "codec/rtmp/amf0.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace livehouse;
    const codec::rtmp::amf0_limits limits{
        .max_depth = 16, .max_elements = 64, .max_string = 4096, .max_values = 4096};
    auto values = codec::rtmp::amf0_decode_all(core::bytes_view(data, size), limits);
    if (!values) {
        return 0;
    }
    std::string encoded;
    codec::rtmp::amf0_encode_all(*values, encoded);
    auto again = codec::rtmp::amf0_decode_all(core::as_bytes(encoded), limits);
    if (!again || *again != *values) {
        std::abort();
    }
    std::string encoded_again;
    codec::rtmp::amf0_encode_all(*again, encoded_again);
    if (encoded_again != encoded) {
        std::abort();
    }
    // Exercise the accessors on whatever came out.
    for (const auto& v : *values) {
        (void)v.get_string("app");
        (void)v.get_number("duration");
    }
    return 0;
}
