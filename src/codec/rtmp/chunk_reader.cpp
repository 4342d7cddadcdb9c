// Chunk stream decoder. Each loop iteration parses one chunk without changing any state, and
// commits it only once the whole chunk (headers and payload) is in the input: a chunk split
// across reads is simply parsed again from its first byte on the next feed.
#include "codec/rtmp/chunk_reader.hpp"

#include <algorithm>
#include <fmt/format.h>

namespace livehouse::codec::rtmp {

namespace {

constexpr std::uint32_t extended_marker = 0xFFFFFF;
constexpr std::int64_t wrap = std::int64_t{1} << 32;

} // namespace

chunk_reader::chunk_reader(chunk_limits limits) : limits_(limits) {}

chunk_reader::chunk_stream* chunk_reader::find_stream(std::uint32_t csid) {
    if (last_stream_ < streams_.size() && streams_[last_stream_].csid == csid) {
        return &streams_[last_stream_];
    }
    for (std::size_t i = 0; i < streams_.size(); ++i) {
        if (streams_[i].csid == csid) {
            last_stream_ = i;
            return &streams_[i];
        }
    }
    return nullptr;
}

core::feed_result chunk_reader::fail(std::size_t consumed, std::string why) {
    error_ = "chunk stream: " + why;
    return core::feed_result::fail(consumed, error_);
}

std::int64_t chunk_reader::widen(const chunk_stream& cs, std::uint32_t ts32) const {
    if (cs.has_timestamp) {
        // Serial-number arithmetic on the 32-bit wire value: a step of less than 2^31 either way
        // is taken as is, so 0xFFFFFFF0 -> 0x10 moves forward by 0x20 across the wrap.
        const auto step = static_cast<std::int32_t>(ts32 - cs.timestamp32);
        const std::int64_t t = cs.timestamp64 + step;
        return t >= 0 ? t : std::int64_t{ts32};
    }
    // First message on this chunk stream: place it in the 2^32 period nearest to the newest
    // timestamp seen on any chunk stream (audio may first appear after video wrapped).
    const std::int64_t base = (max_timestamp_ & ~(wrap - 1)) + ts32;
    std::int64_t best = base;
    for (std::int64_t c : {base - wrap, base + wrap}) {
        if (c >= 0 && std::llabs(c - max_timestamp_) < std::llabs(best - max_timestamp_)) {
            best = c;
        }
    }
    return best;
}

std::optional<message> chunk_reader::next() {
    if (out_.empty()) {
        return std::nullopt;
    }
    message m = std::move(out_.front());
    out_.pop_front();
    return m;
}

std::optional<std::uint32_t> chunk_reader::ack_due() {
    if (peer_window_ == 0 || bytes_received_ - last_ack_ < peer_window_) {
        return std::nullopt;
    }
    last_ack_ = bytes_received_;
    // §5.4.3: "Sequence number (4 bytes): This field holds the number of bytes received so
    // far." It wraps like every 32-bit RTMP counter.
    return static_cast<std::uint32_t>(bytes_received_);
}

std::string chunk_reader::apply_control(const message& m) {
    core::byte_reader r(m.bytes());
    switch (m.type) {
    case message_type::set_chunk_size: {
        auto v = r.u32();
        if (!v) {
            return "Set Chunk Size: payload shorter than 4 bytes";
        }
        // §5.4.1: "The first bit of this field MUST be zero"; "This field holds the new
        // maximum chunk size ... Valid sizes are 1 to 2147483647 (0x7FFFFFFF) inclusive".
        if ((*v & 0x80000000U) != 0 || *v == 0) {
            return fmt::format("Set Chunk Size: invalid size 0x{:08x}", *v);
        }
        if (*v > limits_.max_chunk_size) {
            return fmt::format("Set Chunk Size: {} > limit {}", *v, limits_.max_chunk_size);
        }
        chunk_size_ = *v;
        return {};
    }
    case message_type::abort: {
        // §5.4.2: "used to notify the peer if it is waiting for chunks to complete a message,
        // then to discard the partially received message over a chunk stream."
        auto csid = r.u32();
        if (!csid) {
            return "Abort: payload shorter than 4 bytes";
        }
        if (auto* cs = find_stream(*csid); cs != nullptr && cs->in_progress) {
            partial_bytes_ -= cs->length;
            cs->in_progress = false;
            cs->partial.clear();
            cs->partial.shrink_to_fit();
        }
        return {};
    }
    case message_type::window_ack_size: {
        auto v = r.u32();
        if (!v) {
            return "Window Acknowledgement Size: payload shorter than 4 bytes";
        }
        peer_window_ = *v;
        return {};
    }
    default:
        return {};
    }
}

core::feed_result chunk_reader::feed(core::bytes_view in) {
    if (!error_.empty()) {
        return core::feed_result::fail(0, error_);
    }
    std::size_t pos = 0;
    while (pos < in.size()) {
        core::byte_reader r(in.subspan(pos));

        // §5.3.1.1 Chunk Basic Header: fmt (2 bits) + csid (6 bits); csid 0 means a 2-byte
        // form ("ID is computed as (the second byte + 64)"), 1 a 3-byte form ("(the third
        // byte)*256 + (the second byte) + 64"), 2 is reserved for low-level protocol messages.
        const std::uint8_t b0 = *r.u8();
        const unsigned fmt = b0 >> 6U;
        std::uint32_t csid = b0 & 0x3FU;
        if (csid == 0) {
            auto b1 = r.u8();
            if (!b1) {
                break;
            }
            csid = *b1 + 64U;
        } else if (csid == 1) {
            auto b1 = r.u8();
            auto b2 = r.u8();
            if (!b2) {
                break;
            }
            csid = std::uint32_t{*b2} * 256U + *b1 + 64U;
        }

        // §5.3.1.2 Chunk Message Header: type 0 = 11 bytes, 1 = 7, 2 = 3, 3 = none.
        std::uint32_t ts_field = 0;
        std::uint32_t length = 0;
        std::uint8_t type = 0;
        std::uint32_t stream_id = 0;
        if (fmt <= 2) {
            auto t = r.u24();
            if (!t) {
                break;
            }
            ts_field = *t;
        }
        if (fmt <= 1) {
            auto l = r.u24();
            if (!l) {
                break;
            }
            auto ty = r.u8();
            if (!ty) {
                break;
            }
            length = *l;
            type = *ty;
        }
        if (fmt == 0) {
            // "Message stream ID is stored in little-endian format."
            auto sid = r.u32_le();
            if (!sid) {
                break;
            }
            stream_id = *sid;
        }

        chunk_stream* cs = find_stream(csid);
        if (cs == nullptr) {
            // §5.3.1.2.1: "Type 0 chunks MUST be used at the start of a chunk stream". We also
            // accept type 1 (it carries length and type; stream id 0 is implied), as nginx-rtmp
            // does; types 2 and 3 would leave the message length unknown.
            if (fmt >= 2) {
                return fail(pos, fmt::format("csid {} starts with a type {} chunk", csid, fmt));
            }
            if (streams_.size() >= limits_.max_chunk_streams) {
                return fail(pos, fmt::format("more than {} chunk streams (csid {})",
                                             limits_.max_chunk_streams, csid));
            }
        } else if (fmt <= 2 && cs->in_progress) {
            return fail(pos, fmt::format("csid {}: type {} chunk while a {}-byte message "
                                         "has {} bytes left",
                                         csid, fmt, cs->length, cs->length - cs->partial.size()));
        }
        if (fmt <= 1 && length > limits_.max_message_length) {
            return fail(pos, fmt::format("csid {}: message length {} > limit {}", csid, length,
                                         limits_.max_message_length));
        }

        // §5.3.1.3 Extended Timestamp: present when the 24-bit field is 0xFFFFFF, and "present
        // in Type 3 chunks when the most recent Type 0, 1, or 2 chunk for the same chunk stream
        // ID indicated the presence of an extended timestamp field".
        const bool extended =
            fmt <= 2 ? ts_field == extended_marker : (cs != nullptr && cs->extended);
        std::uint32_t ext_value = 0;
        if (extended) {
            auto e = r.u32();
            if (!e) {
                break;
            }
            ext_value = *e;
        }

        const bool new_message = fmt <= 2 || !cs->in_progress;
        const std::uint32_t msg_length = fmt <= 1 ? length : cs->length;
        const std::size_t have = new_message ? 0 : cs->partial.size();
        const std::size_t chunk_payload = std::min<std::size_t>(chunk_size_, msg_length - have);
        if (new_message && partial_bytes_ + msg_length > limits_.max_partial_bytes) {
            return fail(pos,
                        fmt::format("csid {}: {} bytes in partial messages > "
                                    "limit {}",
                                    csid, partial_bytes_ + msg_length, limits_.max_partial_bytes));
        }
        auto payload = r.take(chunk_payload);
        if (!payload) {
            break;
        }

        // The whole chunk is here: commit it.
        if (cs == nullptr) {
            streams_.push_back(chunk_stream{});
            last_stream_ = streams_.size() - 1;
            cs = &streams_.back();
            cs->csid = csid;
        }
        if (fmt <= 2) {
            cs->extended = extended;
            const std::uint32_t field = extended ? ext_value : ts_field;
            std::uint32_t ts32 = 0;
            if (fmt == 0) {
                // Absolute timestamp. §5.3.1.2.4 (type 3): "If a Type 3 chunk follows a Type 0
                // chunk, then the timestamp delta for this Type 3 chunk is the same as the
                // timestamp of the Type 0 chunk."
                ts32 = field;
                cs->delta = field;
                cs->stream_id = stream_id;
            } else {
                // §5.3.1.2.2/3: "timestamp delta ... the difference between the current
                // timestamp and the previous chunk's timestamp".
                ts32 = cs->timestamp32 + field;
                cs->delta = field;
            }
            if (fmt <= 1) {
                cs->length = length;
                cs->type = static_cast<message_type>(type);
            }
            cs->timestamp64 = widen(*cs, ts32);
            cs->timestamp32 = ts32;
            cs->has_timestamp = true;
        } else if (new_message) {
            // A type 3 chunk starting a new message repeats the previous delta.
            const std::uint32_t ts32 = cs->timestamp32 + cs->delta;
            cs->timestamp64 = widen(*cs, ts32);
            cs->timestamp32 = ts32;
        }
        if (new_message) {
            cs->in_progress = true;
            cs->partial.clear();
            cs->partial.reserve(cs->length); // bounded: counted in partial_bytes_
            partial_bytes_ += cs->length;
            max_timestamp_ = std::max(max_timestamp_, cs->timestamp64);
        }
        cs->partial.append(core::as_chars(*payload));
        pos += r.position();
        bytes_received_ += r.position();

        if (cs->partial.size() == cs->length) {
            cs->in_progress = false;
            partial_bytes_ -= cs->length;
            message m;
            m.type = cs->type;
            m.stream_id = cs->stream_id;
            m.timestamp_ms = cs->timestamp64;
            m.csid = csid;
            m.payload = core::make_shared_bytes(std::move(cs->partial));
            cs->partial = std::string();
            if (m.type == message_type::set_chunk_size || m.type == message_type::abort ||
                m.type == message_type::window_ack_size) {
                if (auto why = apply_control(m); !why.empty()) {
                    return fail(pos, std::move(why));
                }
            }
            out_.push_back(std::move(m));
        }
    }
    if (pos < in.size()) {
        return core::feed_result::need_more(pos);
    }
    return core::feed_result::ok(pos);
}

} // namespace livehouse::codec::rtmp
