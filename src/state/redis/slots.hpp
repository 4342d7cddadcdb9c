// Redis Cluster key slots: which of the 16384 slots a key lives in. Cluster spec, "Keys
// distribution model": HASH_SLOT = CRC16(key) mod 16384, where only the part between the first
// '{' and the first '}' after it is hashed when that part is not empty ("hash tags"), so
// related keys can be forced into one slot and be used together by one command or script.
#pragma once

#include <cstdint>
#include <string_view>

namespace livehouse::state::redis {

inline constexpr std::uint16_t slot_count = 16384;

/// CRC16-CCITT (XMODEM: poly 0x1021, init 0), the cluster spec's reference CRC.
std::uint16_t crc16(std::string_view data);

/// The slot of `key`, honouring hash tags.
std::uint16_t key_slot(std::string_view key);

} // namespace livehouse::state::redis
