// Key slots for Redis Cluster routing (see slots.hpp).
#include "state/redis/slots.hpp"

namespace livehouse::state::redis {

std::uint16_t crc16(std::string_view data) {
    // Bitwise CRC16/XMODEM; keys are short, so a table buys nothing measurable here.
    std::uint16_t crc = 0;
    for (const char ch : data) {
        crc ^= static_cast<std::uint16_t>(static_cast<std::uint8_t>(ch) << 8);
        for (int i = 0; i < 8; ++i) {
            crc = (crc & 0x8000) != 0 ? static_cast<std::uint16_t>((crc << 1) ^ 0x1021)
                                      : static_cast<std::uint16_t>(crc << 1);
        }
    }
    return crc;
}

std::uint16_t key_slot(std::string_view key) {
    // "if the key contains a { character, and if there is a } character to the right of {, and
    // if there are one or more characters between the first occurrence of { and the first
    // occurrence of }, then instead of hashing the key, only what is between is hashed."
    if (const auto open = key.find('{'); open != std::string_view::npos) {
        if (const auto close = key.find('}', open + 1);
            close != std::string_view::npos && close > open + 1) {
            key = key.substr(open + 1, close - open - 1);
        }
    }
    return static_cast<std::uint16_t>(crc16(key) % slot_count);
}

} // namespace livehouse::state::redis
