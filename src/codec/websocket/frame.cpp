// frame_reader: RFC 6455 §5 frame decoding with the limits checked on the header; the frame
// encoders; the handshake's accept key (§4.2.2); UTF-8 validation (RFC 3629).
#include "codec/websocket/frame.hpp"

#include <array>
#include <cassert>
#include <cstring>
#include <fmt/format.h>
#include <openssl/evp.h>

namespace livehouse::codec::websocket {

namespace {

constexpr std::size_t max_control_payload = 125; // §5.5: "125 bytes or less"

bool known_opcode(std::uint8_t op) {
    // §5.2: %x3-7 and %xB-F are "reserved for further (control) frames".
    return op <= 0x2 || (op >= 0x8 && op <= 0xA);
}

bool is_control(std::uint8_t op) {
    return (op & 0x8U) != 0; // §5.5: "Control frames are identified by opcodes where the most
                             // significant bit of the opcode is 1."
}

/// §5.3: "octet i of the transformed data is the XOR of octet i of the original data with
/// octet at index i modulo 4 of the masking key".
std::string unmask(core::bytes_view payload, const std::array<std::uint8_t, 4>& key) {
    std::string out(payload.size(), '\0');
    auto* dst = reinterpret_cast<std::uint8_t*>(out.data());
    for (std::size_t i = 0; i < payload.size(); ++i) {
        dst[i] = static_cast<std::uint8_t>(payload[i] ^ key[i & 3U]);
    }
    return out;
}

bool is_continuation_byte(unsigned char c) {
    return (c & 0xC0U) == 0x80U;
}

} // namespace

frame_reader::frame_reader(role r, frame_limits limits) : role_(r), limits_(limits) {}

core::feed_result frame_reader::fail(std::size_t consumed, std::uint16_t code, std::string why) {
    error_code_ = code;
    error_ = std::move(why);
    partial_.clear();
    partial_op_.reset();
    return core::feed_result::fail(consumed, error_);
}

core::feed_result frame_reader::feed(core::bytes_view in) {
    if (error_code_ != 0) {
        return core::feed_result::fail(0, error_);
    }
    std::size_t pos = 0;
    while (pos < in.size()) {
        if (closed_) {
            // §5.5.1: "The application MUST NOT send any more data frames after sending a
            // Close frame." Whatever follows is not ours to interpret.
            return core::feed_result::ok(in.size());
        }
        core::byte_reader r(in.subspan(pos));
        const auto b0 = r.u8();
        const auto b1 = r.u8();
        if (!b1) {
            return core::feed_result::need_more(pos);
        }
        const bool fin = (*b0 & 0x80U) != 0;
        const auto op = static_cast<std::uint8_t>(*b0 & 0x0FU);
        const bool masked = (*b1 & 0x80U) != 0;
        const auto len7 = static_cast<std::uint8_t>(*b1 & 0x7FU);

        // §5.2: "RSV1, RSV2, RSV3: MUST be 0 unless an extension is negotiated".
        if ((*b0 & 0x70U) != 0) {
            return fail(pos, close_code::protocol_error, "RSV bits set, no extension negotiated");
        }
        if (!known_opcode(op)) {
            return fail(pos, close_code::protocol_error, fmt::format("reserved opcode {:#x}", op));
        }
        const bool control = is_control(op);
        if (control && !fin) {
            // §5.5: "All control frames ... MUST NOT be fragmented."
            return fail(pos, close_code::protocol_error, "fragmented control frame");
        }
        if (control && len7 > max_control_payload) {
            return fail(pos, close_code::protocol_error, "control frame payload over 125 bytes");
        }
        if (role_ == role::server && !masked) {
            // §5.1: "The server MUST close the connection upon receiving a frame that is not
            // masked."
            return fail(pos, close_code::protocol_error, "unmasked client frame");
        }
        if (role_ == role::client && masked) {
            // §5.1: "A client MUST close a connection if it detects a masked frame."
            return fail(pos, close_code::protocol_error, "masked server frame");
        }

        std::uint64_t length = len7;
        if (len7 == 126) {
            const auto n = r.u16();
            if (!n) {
                return core::feed_result::need_more(pos);
            }
            // §5.2: "the minimal number of bytes MUST be used to encode the length".
            if (*n < 126) {
                return fail(pos, close_code::protocol_error,
                            "payload length not minimally encoded");
            }
            length = *n;
        } else if (len7 == 127) {
            const auto n = r.u64();
            if (!n) {
                return core::feed_result::need_more(pos);
            }
            // §5.2: "the most significant bit MUST be 0".
            if ((*n >> 63U) != 0) {
                return fail(pos, close_code::protocol_error, "payload length over 63 bits");
            }
            if (*n <= 0xFFFF) {
                return fail(pos, close_code::protocol_error,
                            "payload length not minimally encoded");
            }
            length = *n;
        }

        if (!control) {
            // §5.4: a continuation belongs to a started message; a text or binary frame
            // starts one, and cannot while another is unfinished.
            if (op == 0 && !partial_op_) {
                return fail(pos, close_code::protocol_error,
                            "continuation frame without a message");
            }
            if (op != 0 && partial_op_) {
                return fail(pos, close_code::protocol_error,
                            "new data frame inside a fragmented message");
            }
            // The limit, on the header: a peer announcing 2^62 bytes is refused before it
            // sends (or we buffer) any of them.
            const std::size_t so_far = op == 0 ? partial_.size() : 0;
            if (length > limits_.max_message_bytes - so_far) {
                return fail(pos, close_code::too_big,
                            fmt::format("message of {} bytes over the limit of {}", so_far + length,
                                        limits_.max_message_bytes));
            }
            const std::size_t fragments = op == 0 ? fragments_ + 1 : 1;
            if (fragments > limits_.max_fragments) {
                return fail(
                    pos, close_code::too_big,
                    fmt::format("message in more than {} fragments", limits_.max_fragments));
            }
        }

        std::array<std::uint8_t, 4> key{};
        if (masked) {
            const auto k = r.take(4);
            if (!k) {
                return core::feed_result::need_more(pos);
            }
            std::memcpy(key.data(), k->data(), 4);
        }
        // length <= max_message_bytes (data) or 125 (control) here, so it fits size_t.
        const auto payload = r.take(static_cast<std::size_t>(length));
        if (!payload) {
            return core::feed_result::need_more(pos);
        }
        const std::size_t frame_end = pos + r.position();
        std::string data = masked ? unmask(*payload, key) : std::string(core::as_chars(*payload));
        if (!deliver(static_cast<opcode>(op), fin, std::move(data), pos)) {
            return core::feed_result::fail(pos, error_);
        }
        pos = frame_end;
    }
    return core::feed_result::ok(pos);
}

bool frame_reader::deliver(opcode op, bool fin, std::string payload, std::size_t pos) {
    switch (op) {
    case opcode::ping:
    case opcode::pong:
        out_.push_back(event{op, std::move(payload), close_code::no_status});
        return true;
    case opcode::close: {
        // §5.5.1: "If there is a body, the first two bytes of the body MUST be a 2-byte
        // unsigned integer ... Following the 2-byte integer, the body MAY contain UTF-8-encoded
        // data".
        event e{opcode::close, {}, close_code::no_status};
        if (payload.size() == 1) {
            fail(pos, close_code::protocol_error, "close frame with a 1-byte payload");
            return false;
        }
        if (payload.size() >= 2) {
            const auto code =
                static_cast<std::uint16_t>((static_cast<unsigned char>(payload[0]) << 8U) |
                                           static_cast<unsigned char>(payload[1]));
            if (!valid_close_code(code)) {
                fail(pos, close_code::protocol_error, fmt::format("invalid close code {}", code));
                return false;
            }
            e.code = code;
            e.payload = payload.substr(2);
            if (!valid_utf8(e.payload)) {
                fail(pos, close_code::invalid_payload, "close reason is not valid UTF-8");
                return false;
            }
        }
        closed_ = true;
        out_.push_back(std::move(e));
        return true;
    }
    case opcode::text:
    case opcode::binary:
        if (fin) {
            if (op == opcode::text && !valid_utf8(payload)) {
                // §8.1: "When an endpoint is to interpret a byte stream as UTF-8 but finds
                // that the byte stream is not, in fact, a valid UTF-8 stream, that endpoint
                // MUST _Fail the WebSocket Connection_."
                fail(pos, close_code::invalid_payload, "text message is not valid UTF-8");
                return false;
            }
            out_.push_back(event{op, std::move(payload), close_code::no_status});
            return true;
        }
        partial_op_ = op;
        partial_ = std::move(payload);
        fragments_ = 1;
        return true;
    case opcode::continuation:
        partial_ += payload;
        ++fragments_;
        if (!fin) {
            return true;
        }
        if (*partial_op_ == opcode::text && !valid_utf8(partial_)) {
            // Checked on the whole message: a code point may be split across fragments.
            fail(pos, close_code::invalid_payload, "text message is not valid UTF-8");
            return false;
        }
        out_.push_back(event{*partial_op_, std::move(partial_), close_code::no_status});
        partial_ = std::string();
        partial_op_.reset();
        fragments_ = 0;
        return true;
    }
    return false; // unreachable: known_opcode() filtered the rest
}

std::optional<event> frame_reader::next() {
    if (out_head_ == out_.size()) {
        return std::nullopt;
    }
    event e = std::move(out_[out_head_++]);
    if (out_head_ == out_.size()) {
        out_.clear();
        out_head_ = 0;
    }
    return e;
}

void frame_reader::shrink() {
    if (partial_.empty() && !partial_op_) {
        std::string().swap(partial_);
    }
    if (out_head_ == out_.size()) {
        std::vector<event>().swap(out_);
        out_head_ = 0;
    }
}

std::string encode_frame(opcode op, std::string_view payload, role r, std::uint32_t mask_key) {
    assert(!is_control(static_cast<std::uint8_t>(op)) || payload.size() <= max_control_payload);
    const bool masked = r == role::client;
    std::string out;
    out.reserve(14 + payload.size());
    core::byte_writer w(out);
    w.u8(static_cast<std::uint8_t>(0x80U | static_cast<std::uint8_t>(op))); // FIN, no RSV
    const std::uint8_t mask_bit = masked ? 0x80 : 0x00;
    // §5.2: 0-125 in the 7-bit field, 126 + 16 bits up to 65535, else 127 + 64 bits.
    if (payload.size() <= 125) {
        w.u8(static_cast<std::uint8_t>(mask_bit | payload.size()));
    } else if (payload.size() <= 0xFFFF) {
        w.u8(static_cast<std::uint8_t>(mask_bit | 126U));
        w.u16(static_cast<std::uint16_t>(payload.size()));
    } else {
        w.u8(static_cast<std::uint8_t>(mask_bit | 127U));
        w.u64(payload.size());
    }
    if (!masked) {
        w.bytes(payload);
        return out;
    }
    w.u32(mask_key);
    const std::array<std::uint8_t, 4> key{
        static_cast<std::uint8_t>(mask_key >> 24U), static_cast<std::uint8_t>(mask_key >> 16U),
        static_cast<std::uint8_t>(mask_key >> 8U), static_cast<std::uint8_t>(mask_key)};
    out += unmask(core::as_bytes(payload), key); // masking is its own inverse
    return out;
}

std::string encode_close(std::uint16_t code, std::string_view reason, role r,
                         std::uint32_t mask_key) {
    std::string payload;
    if (code != 0 && code != close_code::no_status) {
        // 125 bytes in all: the code, then at most 123 bytes of reason, cut on a code point
        // boundary so the reason stays valid UTF-8.
        if (reason.size() > max_control_payload - 2) {
            std::size_t n = max_control_payload - 2;
            while (n > 0 && is_continuation_byte(static_cast<unsigned char>(reason[n]))) {
                --n;
            }
            reason = reason.substr(0, n);
        }
        core::byte_writer w(payload);
        w.u16(code);
        w.bytes(reason);
    }
    return encode_frame(opcode::close, payload, r, mask_key);
}

std::string accept_key(std::string_view sec_websocket_key) {
    // §4.2.2: "concatenate this with the Globally Unique Identifier ... take the SHA-1 hash of
    // this concatenated value ... base64-encoded".
    static constexpr std::string_view guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    std::string input;
    input.reserve(sec_websocket_key.size() + guid.size());
    input.append(sec_websocket_key);
    input.append(guid);
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int digest_len = 0;
    if (EVP_Digest(input.data(), input.size(), digest.data(), &digest_len, EVP_sha1(), nullptr) !=
        1) {
        return {}; // libcrypto out of memory; the handshake then fails on the client's check
    }
    std::array<unsigned char, 4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1> b64{};
    const int n = EVP_EncodeBlock(b64.data(), digest.data(), static_cast<int>(digest_len));
    return {reinterpret_cast<const char*>(b64.data()), static_cast<std::size_t>(n)};
}

bool valid_utf8(std::string_view s) {
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const std::size_t n = s.size();
    std::size_t i = 0;
    while (i < n) {
        // ASCII fast path, 8 bytes at a time (chat text is mostly ASCII).
        if (i + 8 <= n) {
            std::uint64_t word = 0;
            std::memcpy(&word, p + i, 8);
            if ((word & 0x8080808080808080ULL) == 0) {
                i += 8;
                continue;
            }
        }
        const unsigned char c = p[i];
        if (c < 0x80) {
            ++i;
            continue;
        }
        // RFC 3629 §4: the second byte's range depends on the first (this excludes overlong
        // forms, the surrogates U+D800..DFFF, and everything above U+10FFFF).
        std::size_t extra = 0;
        unsigned char lo = 0x80;
        unsigned char hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF) {
            extra = 1;
        } else if (c == 0xE0) {
            extra = 2;
            lo = 0xA0;
        } else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) {
            extra = 2;
        } else if (c == 0xED) {
            extra = 2;
            hi = 0x9F;
        } else if (c == 0xF0) {
            extra = 3;
            lo = 0x90;
        } else if (c >= 0xF1 && c <= 0xF3) {
            extra = 3;
        } else if (c == 0xF4) {
            extra = 3;
            hi = 0x8F;
        } else {
            return false; // 0x80..0xC1 (continuation or overlong lead), 0xF5..0xFF
        }
        if (n - i <= extra) {
            return false; // truncated sequence
        }
        if (p[i + 1] < lo || p[i + 1] > hi) {
            return false;
        }
        for (std::size_t k = 2; k <= extra; ++k) {
            if (!is_continuation_byte(p[i + k])) {
                return false;
            }
        }
        i += extra + 1;
    }
    return true;
}

bool valid_client_key(std::string_view key) {
    // 16 bytes are 5 groups of 3 plus 1: 22 base64 characters and "==" (RFC 4648 §4).
    if (key.size() != 24 || key.substr(22) != "==") {
        return false;
    }
    for (char c : key.substr(0, 22)) {
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                        (c >= '0' && c <= '9') || c == '+' || c == '/';
        if (!ok) {
            return false;
        }
    }
    return true;
}

bool valid_close_code(std::uint16_t code) {
    // §7.4.1 defines 1000-1003 and 1007-1011 (1012-1014 were registered with IANA later);
    // 1004 is reserved, 1005, 1006 and 1015 "MUST NOT be set as a status code in a Close
    // control frame". §7.4.2: 3000-3999 registered, 4000-4999 private use.
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
           (code >= 3000 && code <= 4999);
}

} // namespace livehouse::codec::websocket
