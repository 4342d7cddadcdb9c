// CRC-32/MPEG-2 against the catalogue check value and a PAT written by ffmpeg.
#include "codec/mpegts/crc32.hpp"

#include <gtest/gtest.h>
#include <string>

namespace livehouse::codec::mpegts {
namespace {

TEST(crc32_mpeg2, check_value) {
    // CRC RevEng catalogue, CRC-32/MPEG-2: check = 0x0376E6E7 over "123456789".
    EXPECT_EQ(crc32_mpeg2(core::as_bytes("123456789")), 0x0376E6E7U);
    EXPECT_EQ(crc32_mpeg2({}), 0xFFFFFFFFU);
}

TEST(crc32_mpeg2, ffmpeg_pat_section) {
    // The PAT section ffmpeg's mpegts muxer writes (tsid 1, program 1 -> PMT 0x1000) ends in
    // CRC 2A B1 04 B2; over the whole section, CRC included, the result is 0.
    const std::string section("\x00\xB0\x0D\x00\x01\xC1\x00\x00\x00\x01\xF0\x00", 12);
    EXPECT_EQ(crc32_mpeg2(core::as_bytes(section)), 0x2AB104B2U);
    EXPECT_EQ(crc32_mpeg2(core::as_bytes(section + "\x2A\xB1\x04\xB2")), 0U);
}

} // namespace
} // namespace livehouse::codec::mpegts
