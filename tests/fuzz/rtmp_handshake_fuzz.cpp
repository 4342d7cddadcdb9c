// Fuzz target: the RTMP server handshake fed arbitrary bytes in arbitrary pieces. It must never
// read out of bounds, never consume more than it was given, and after C0+C1 always have exactly
// S0+S1+S2 to send.
#include "codec/rtmp/handshake.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace livehouse;
    if (size == 0) {
        return 0;
    }
    const std::size_t step = 1 + data[0] * 16U;
    const core::bytes_view in(data + 1, size - 1);
    codec::rtmp::server_handshake hs;
    std::size_t pos = 0;   // first unconsumed byte
    std::size_t avail = 0; // bytes "received" so far
    while (avail < in.size() && !hs.done()) {
        avail = std::min(in.size(), avail + step);
        auto r = hs.feed(in.subspan(pos, avail - pos));
        if (r.consumed > avail - pos) {
            std::abort();
        }
        if (r.state == core::parse_state::error) {
            return 0;
        }
        pos += r.consumed;
        if (hs.state() != codec::rtmp::server_handshake::phase::c0c1 &&
            hs.output().size() != 1 + 2 * codec::rtmp::handshake_size) {
            std::abort();
        }
        // A second feed with the same bytes makes progress only if a whole packet is there.
        if (r.state == core::parse_state::ok && r.consumed > 0 && !hs.done()) {
            auto again = hs.feed(in.subspan(pos, avail - pos));
            if (again.state == core::parse_state::error) {
                std::abort();
            }
            pos += again.consumed;
        }
    }
    return 0;
}
