// CRC-32 of MPEG-2 PSI sections (ISO/IEC 13818-1 Annex A): polynomial 0x04C11DB7, initial value
// 0xFFFFFFFF, MSB first, no reflection, no final XOR. Running it over a whole section including
// its CRC_32 field yields 0, which is how a reader verifies one.
#pragma once

#include "core/bytes.hpp"

#include <cstdint>

namespace livehouse::codec::mpegts {

/// CRC-32/MPEG-2 of `data`. Pure, table-driven, thread-safe.
std::uint32_t crc32_mpeg2(core::bytes_view data);

} // namespace livehouse::codec::mpegts
