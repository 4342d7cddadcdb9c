// FLV file reader; see flv_reader.hpp.
#include "codec/flv/flv_reader.hpp"

#include <string>

namespace livehouse::codec::flv {

namespace {

constexpr std::size_t base_header_size = 9; // E.2: "DataOffset ... 9 for FLV version 1"
constexpr std::size_t previous_tag_size_bytes = 4;
constexpr std::size_t tag_header_size = 11;

} // namespace

core::feed_result flv_reader::fail(std::string why) {
    error_ = "flv file: " + why;
    return core::feed_result::fail(0, error_);
}

core::feed_result flv_reader::feed(core::bytes_view data) {
    current_.reset();
    needed_ = 0;
    if (!error_.empty()) {
        return core::feed_result::fail(0, error_);
    }
    return header_ ? parse_tag(data) : parse_header(data);
}

core::feed_result flv_reader::parse_header(core::bytes_view data) {
    core::byte_reader r(data);
    // Signature first, so a non-FLV input fails fast instead of waiting for 9 bytes.
    constexpr std::uint8_t signature[3] = {'F', 'L', 'V'};
    for (std::size_t i = 0; i < 3 && i < data.size(); ++i) {
        if (data[i] != signature[i]) {
            return fail("bad signature (not an FLV file)");
        }
    }
    if (data.size() < base_header_size) {
        needed_ = base_header_size + previous_tag_size_bytes;
        return core::feed_result::need_more();
    }
    r.skip(3);
    file_header h;
    h.version = *r.u8();
    const std::uint8_t flags = *r.u8();
    h.data_offset = *r.u32();
    // E.2: "Version UI8 File version (for example, 0x01 for FLV version 1)".
    if (h.version != 1) {
        return fail("unsupported version " + std::to_string(h.version));
    }
    // "TypeFlagsAudio UB[1]" is bit 2, "TypeFlagsVideo UB[1]" bit 0; the rest is reserved.
    h.has_audio = (flags & 0x04U) != 0;
    h.has_video = (flags & 0x01U) != 0;
    // "DataOffset UI32: The length of this header in bytes"; the body starts there, and may
    // leave room for future header fields that we skip.
    if (h.data_offset < base_header_size || h.data_offset > limits_.max_header_size) {
        return fail("DataOffset " + std::to_string(h.data_offset) + " outside [9, " +
                    std::to_string(limits_.max_header_size) + "]");
    }
    const std::size_t total = h.data_offset + previous_tag_size_bytes;
    if (data.size() < total) {
        needed_ = total;
        return core::feed_result::need_more();
    }
    // E.3: "PreviousTagSize0 UI32 Always 0". Tolerated if not, like the later ones.
    core::byte_reader pts(data.subspan(h.data_offset, previous_tag_size_bytes));
    if (*pts.u32() != 0) {
        ++mismatches_;
    }
    header_ = h;
    return core::feed_result::ok(total);
}

core::feed_result flv_reader::parse_tag(core::bytes_view data) {
    if (data.size() < tag_header_size) {
        needed_ = tag_header_size + previous_tag_size_bytes;
        return core::feed_result::need_more();
    }
    core::byte_reader r(data);
    const std::uint8_t first = *r.u8();
    // E.4.1: "Reserved UB[2] Reserved for FMS, should be 0; Filter UB[1] ... 1 = encrypted;
    // TagType UB[5]".
    if ((first & 0x20U) != 0) {
        return fail("filtered (encrypted) tag is not supported");
    }
    const unsigned type = first & 0x1FU;
    if (type != 8 && type != 9 && type != 18) {
        return fail("unknown tag type " + std::to_string(type));
    }
    const std::uint32_t size = *r.u24();
    const std::uint32_t ts_low = *r.u24();
    const std::uint8_t ts_high = *r.u8(); // "TimestampExtended UI8: upper 8 bits"
    const std::uint32_t stream_id = *r.u24();
    if (size > limits_.max_tag_size) {
        return fail("tag DataSize " + std::to_string(size) + " > limit " +
                    std::to_string(limits_.max_tag_size));
    }
    const std::size_t total = tag_header_size + size + previous_tag_size_bytes;
    if (data.size() < total) {
        needed_ = total;
        return core::feed_result::need_more();
    }
    tag t;
    t.type = static_cast<tag_type>(type);
    t.timestamp_ms = (static_cast<std::uint32_t>(ts_high) << 24U) | ts_low;
    t.stream_id = stream_id;
    t.body = *r.take(size);
    // E.3: "PreviousTagSizeN UI32 Size of last tag, including its header, in bytes".
    const std::uint32_t previous = *r.u32();
    if (previous != tag_header_size + size && previous != 0) {
        ++mismatches_;
    }
    current_ = t;
    ++tags_;
    return core::feed_result::ok(total);
}

} // namespace livehouse::codec::flv
