// Random ids and stream keys from OpenSSL's CSPRNG. See ids.hpp.
#include "media/ids.hpp"

#include <array>
#include <cstdint>
#include <cstdlib>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <spdlog/spdlog.h>

namespace livehouse::media {

namespace {

template <std::size_t N> std::array<std::uint8_t, N> random_bytes() {
    std::array<std::uint8_t, N> out{};
    if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) {
        spdlog::critical("RAND_bytes failed: cannot make unpredictable ids; aborting");
        std::abort();
    }
    return out;
}

} // namespace

std::string make_broadcast_id() {
    static constexpr std::string_view alphabet = "abcdefghijklmnopqrstuvwxyz234567";
    // 12 characters * 5 bits = 60 bits, taken from 8 random bytes.
    const auto bytes = random_bytes<8>();
    std::uint64_t bits = 0;
    for (auto b : bytes) {
        bits = (bits << 8U) | b;
    }
    std::string id(broadcast_id_length, 'a');
    for (auto& c : id) {
        c = alphabet[bits & 31U];
        bits >>= 5U;
    }
    return id;
}

std::string make_stream_key() {
    static constexpr std::string_view hex = "0123456789abcdef";
    const auto bytes = random_bytes<16>();
    std::string key(stream_key_prefix);
    key.reserve(stream_key_prefix.size() + 32);
    for (auto b : bytes) {
        key += hex[b >> 4U];
        key += hex[b & 15U];
    }
    return key;
}

bool is_valid_broadcast_id(std::string_view id) {
    if (id.empty() || id.size() > 64) {
        return false;
    }
    for (char c : id) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!ok) {
            return false;
        }
    }
    return true;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
    // Hashing first makes the comparison length-independent; CRYPTO_memcmp's running time does
    // not depend on where the digests differ. A SHA-256 collision is not a practical concern.
    using digest = std::array<unsigned char, SHA256_DIGEST_LENGTH>;
    auto sha256 = [](std::string_view s) {
        digest d{};
        SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), d.data());
        return d;
    };
    const auto da = sha256(a);
    const auto db = sha256(b);
    return CRYPTO_memcmp(da.data(), db.data(), da.size()) == 0;
}

} // namespace livehouse::media
