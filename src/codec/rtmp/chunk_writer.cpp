// Chunk stream encoder: type 0 header, then type 3 continuation chunks.
#include "codec/rtmp/chunk_writer.hpp"

#include <algorithm>

namespace livehouse::codec::rtmp {

namespace {

// §5.3.1.1: the 1-byte form holds csid 2..63, the 2-byte form 64..319, the 3-byte form
// 64..65599.
void basic_header(unsigned fmt, std::uint32_t csid, core::byte_writer& w) {
    const auto f = static_cast<std::uint8_t>(fmt << 6U);
    if (csid < 64) {
        w.u8(static_cast<std::uint8_t>(f | csid));
    } else if (csid < 320) {
        w.u8(f);
        w.u8(static_cast<std::uint8_t>(csid - 64));
    } else {
        const std::uint32_t id = csid - 64;
        w.u8(static_cast<std::uint8_t>(f | 1U));
        w.u8(static_cast<std::uint8_t>(id & 0xFFU));
        w.u8(static_cast<std::uint8_t>(id >> 8U));
    }
}

} // namespace

void chunk_writer::write(const message& m, std::string& out) const {
    write(m.csid, m.type, m.stream_id, m.timestamp_ms, m.bytes(), out);
}

void chunk_writer::write(std::uint32_t csid, message_type type, std::uint32_t stream_id,
                         std::int64_t timestamp_ms, core::bytes_view payload,
                         std::string& out) const {
    const auto ts = static_cast<std::uint32_t>(timestamp_ms);
    // §5.3.1.3: the extended field encodes values "that don't fit in the 24 bit fields", and
    // then "the Type 0, 1 or 2 chunk timestamp field MUST be set to 16777215 (0xFFFFFF)"; so
    // 0xFFFFFF itself must go extended too, or it would read as the marker.
    const bool extended = ts >= 0xFFFFFFU;
    const std::size_t chunks =
        payload.empty() ? 1 : (payload.size() + chunk_size_ - 1) / chunk_size_;
    out.reserve(out.size() + payload.size() + 18 + (chunks - 1) * 7);

    core::byte_writer w(out);
    basic_header(0, csid, w);
    w.u24(extended ? 0xFFFFFFU : ts);
    w.u24(static_cast<std::uint32_t>(payload.size()));
    w.u8(static_cast<std::uint8_t>(type));
    w.u32_le(stream_id); // §5.3.1.2.1: "Message stream ID is stored in little-endian format."
    if (extended) {
        w.u32(ts);
    }
    std::size_t pos = 0;
    for (;;) {
        const std::size_t n = std::min<std::size_t>(chunk_size_, payload.size() - pos);
        w.bytes(payload.subspan(pos, n));
        pos += n;
        if (pos >= payload.size()) {
            break;
        }
        basic_header(3, csid, w);
        if (extended) {
            w.u32(ts);
        }
    }
}

} // namespace livehouse::codec::rtmp
