// CRC-32/MPEG-2; see crc32.hpp.
#include "codec/mpegts/crc32.hpp"

#include <array>

namespace livehouse::codec::mpegts {

namespace {

constexpr std::array<std::uint32_t, 256> make_table() {
    std::array<std::uint32_t, 256> table{};
    for (std::uint32_t i = 0; i < 256; ++i) {
        std::uint32_t c = i << 24U;
        for (int bit = 0; bit < 8; ++bit) {
            c = (c & 0x80000000U) != 0 ? (c << 1U) ^ 0x04C11DB7U : c << 1U;
        }
        table[i] = c;
    }
    return table;
}

constexpr auto table = make_table();

} // namespace

std::uint32_t crc32_mpeg2(core::bytes_view data) {
    std::uint32_t crc = 0xFFFFFFFFU;
    for (const std::uint8_t b : data) {
        crc = (crc << 8U) ^ table[((crc >> 24U) ^ b) & 0xFFU];
    }
    return crc;
}

} // namespace livehouse::codec::mpegts
