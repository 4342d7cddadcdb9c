// RTMP server handshake: plain (RTMP spec §5.2) and the FP9 digest variant. The digest layout is
// not in Adobe's published spec; it is the de-facto protocol every FP9-speaking client (ffmpeg's
// rtmpproto, librtmp as used by OBS) and server implements, described in the header.
#include "codec/rtmp/handshake.hpp"

#include <cstring>
#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <random>

namespace livehouse::codec::rtmp {

namespace {

// "Genuine Adobe Flash Player 001" + 32 fixed bytes.
constexpr std::array<std::uint8_t, 62> fp_key = {
    'G',  'e',  'n',  'u',  'i',  'n',  'e',  ' ',  'A',  'd',  'o',  'b',  'e',  ' ',  'F',  'l',
    'a',  's',  'h',  ' ',  'P',  'l',  'a',  'y',  'e',  'r',  ' ',  '0',  '0',  '1',  0xF0, 0xEE,
    0xC2, 0x4A, 0x80, 0x68, 0xBE, 0xE8, 0x2E, 0x00, 0xD0, 0xD1, 0x02, 0x9E, 0x7E, 0x57, 0x6E, 0xEC,
    0x5D, 0x2D, 0x29, 0x80, 0x6F, 0xAB, 0x93, 0xB8, 0xE6, 0x36, 0xCF, 0xEB, 0x31, 0xAE};
// "Genuine Adobe Flash Media Server 001" + the same 32 fixed bytes.
constexpr std::array<std::uint8_t, 68> fms_key = {
    'G',  'e',  'n',  'u',  'i',  'n',  'e',  ' ',  'A',  'd',  'o',  'b',  'e',  ' ',
    'F',  'l',  'a',  's',  'h',  ' ',  'M',  'e',  'd',  'i',  'a',  ' ',  'S',  'e',
    'r',  'v',  'e',  'r',  ' ',  '0',  '0',  '1',  0xF0, 0xEE, 0xC2, 0x4A, 0x80, 0x68,
    0xBE, 0xE8, 0x2E, 0x00, 0xD0, 0xD1, 0x02, 0x9E, 0x7E, 0x57, 0x6E, 0xEC, 0x5D, 0x2D,
    0x29, 0x80, 0x6F, 0xAB, 0x93, 0xB8, 0xE6, 0x36, 0xCF, 0xEB, 0x31, 0xAE};
constexpr std::size_t fp_text_key_size = 30;
constexpr std::size_t fms_text_key_size = 36;

// The version we put in a digest S1 (bytes 4..7). Any non-zero value marks a digest S1; this one
// reads as "FMS 4.5.0.1", which librtmp and ffmpeg accept.
constexpr std::uint32_t server_version = 0x04050001;

std::array<std::uint8_t, digest_size> hmac_sha256(core::bytes_view key, core::bytes_view data) {
    std::array<std::uint8_t, digest_size> out{};
    unsigned int len = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), data.data(), data.size(),
         out.data(), &len);
    return out;
}

void random_fill(std::uint8_t* p, std::size_t n) {
    if (RAND_bytes(p, static_cast<int>(n)) == 1) {
        return;
    }
    // The handshake's random bytes protect nothing (RTMP is unencrypted): a weaker generator is
    // acceptable if OpenSSL's is unavailable, failing the handshake is not.
    std::mt19937 gen(std::random_device{}());
    for (std::size_t i = 0; i < n; ++i) {
        p[i] = static_cast<std::uint8_t>(gen());
    }
}

std::optional<digest_scheme> find_digest(core::bytes_view packet, core::bytes_view key) {
    if (packet.size() < handshake_size) {
        return std::nullopt;
    }
    // Scheme 1 first: it is what ffmpeg and librtmp send by default.
    for (auto scheme : {digest_scheme::scheme1, digest_scheme::scheme0}) {
        const auto off = digest_offset(packet, scheme);
        const auto want = packet_digest(packet, off, key);
        if (CRYPTO_memcmp(want.data(), packet.data() + off, digest_size) == 0) {
            return scheme;
        }
    }
    return std::nullopt;
}

void put_u32(std::uint8_t* p, std::uint32_t v) {
    p[0] = static_cast<std::uint8_t>(v >> 24U);
    p[1] = static_cast<std::uint8_t>(v >> 16U);
    p[2] = static_cast<std::uint8_t>(v >> 8U);
    p[3] = static_cast<std::uint8_t>(v);
}

} // namespace

core::bytes_view flash_player_key(bool with_suffix) {
    return core::bytes_view(fp_key).first(with_suffix ? fp_key.size() : fp_text_key_size);
}

core::bytes_view flash_media_server_key(bool with_suffix) {
    return core::bytes_view(fms_key).first(with_suffix ? fms_key.size() : fms_text_key_size);
}

std::size_t digest_offset(core::bytes_view packet, digest_scheme scheme) {
    // Each 764-byte block holds a 4-byte offset seed; the digest lies within the block's other
    // 760 bytes: offset = (sum of the seed bytes) % 728 + seed position + 4.
    const std::size_t seed = scheme == digest_scheme::scheme0 ? 8 : 772;
    const std::size_t sum =
        std::size_t{packet[seed]} + packet[seed + 1] + packet[seed + 2] + packet[seed + 3];
    return sum % 728 + seed + 4;
}

std::array<std::uint8_t, digest_size> packet_digest(core::bytes_view packet, std::size_t offset,
                                                    core::bytes_view key) {
    // The digest covers the packet with its own 32 bytes cut out.
    std::array<std::uint8_t, handshake_size - digest_size> joined{};
    std::memcpy(joined.data(), packet.data(), offset);
    std::memcpy(joined.data() + offset, packet.data() + offset + digest_size,
                handshake_size - offset - digest_size);
    return hmac_sha256(key, joined);
}

std::optional<digest_scheme> find_client_digest(core::bytes_view c1) {
    return find_digest(c1, flash_player_key(false));
}

std::optional<digest_scheme> find_server_digest(core::bytes_view s1) {
    return find_digest(s1, flash_media_server_key(false));
}

core::feed_result server_handshake::feed(core::bytes_view in) {
    switch (phase_) {
    case phase::c0c1: {
        if (in.size() < 1 + handshake_size) {
            // Refuse a non-RTMP peer (an HTTP request, TLS) on its first byte.
            if (!in.empty() && in[0] >= 32) {
                return core::feed_result::fail(
                    0, fmt::format("handshake: C0 version {} is not RTMP", in[0]));
            }
            return core::feed_result::need_more(0);
        }
        const std::uint8_t version = in[0];
        // §5.2.2: "Values 0-2 are deprecated ...; 4-31 are reserved for future
        // implementations; and 32-255 are not allowed". 6 and 8 are RTMPE (encrypted), which
        // we do not speak; for other versions "a server that does not recognize the client's
        // requested version SHOULD respond with 3".
        if (version >= 32) {
            return core::feed_result::fail(
                0, fmt::format("handshake: C0 version {} is not RTMP", version));
        }
        if (version == 6 || version == 8) {
            return core::feed_result::fail(
                0, fmt::format("handshake: C0 version {} (RTMPE) not supported", version));
        }
        answer(in.subspan(1, handshake_size));
        phase_ = phase::c2;
        return core::feed_result::ok(1 + handshake_size);
    }
    case phase::c2:
        if (in.size() < handshake_size) {
            return core::feed_result::need_more(0);
        }
        phase_ = phase::done;
        return core::feed_result::ok(handshake_size);
    case phase::done:
        break;
    }
    return core::feed_result::ok(0);
}

void server_handshake::answer(core::bytes_view c1) {
    client_version_ = (std::uint32_t{c1[4]} << 24U) | (std::uint32_t{c1[5]} << 16U) |
                      (std::uint32_t{c1[6]} << 8U) | c1[7];
    if (client_version_ != 0) {
        scheme_ = find_client_digest(c1);
    }
    kind_ = scheme_ ? handshake_kind::digest : handshake_kind::plain;

    output_.assign(1 + 2 * handshake_size, '\0');
    auto* out = reinterpret_cast<std::uint8_t*>(output_.data());
    out[0] = rtmp_version; // S0
    std::uint8_t* s1 = out + 1;
    std::uint8_t* s2 = s1 + handshake_size;

    // S1 (§5.2.3): time, then zero (plain) or our version (digest), then random bytes.
    put_u32(s1, epoch_ms_);
    random_fill(s1 + 8, handshake_size - 8);

    if (kind_ == handshake_kind::plain) {
        // §5.2.3: S2's "Time" MUST be C1's time, "Time2" the time C1 was read, and "Random
        // echo" MUST be C1's random data.
        std::memcpy(s2, c1.data(), handshake_size);
        put_u32(s2 + 4, epoch_ms_);
        return;
    }

    // S1 carries our digest at the client's scheme, keyed with the FMS text key.
    put_u32(s1 + 4, server_version);
    const core::bytes_view s1_view(s1, handshake_size);
    const auto s1_off = digest_offset(s1_view, *scheme_);
    const auto s1_digest = packet_digest(s1_view, s1_off, flash_media_server_key(false));
    std::memcpy(s1 + s1_off, s1_digest.data(), digest_size);

    // S2: random, signed with a key derived from the client's C1 digest.
    random_fill(s2, handshake_size - digest_size);
    const auto c1_off = digest_offset(c1, *scheme_);
    const auto key = hmac_sha256(flash_media_server_key(true), c1.subspan(c1_off, digest_size));
    const auto signature = hmac_sha256(key, core::bytes_view(s2, handshake_size - digest_size));
    std::memcpy(s2 + handshake_size - digest_size, signature.data(), digest_size);
}

} // namespace livehouse::codec::rtmp
