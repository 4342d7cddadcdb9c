#include "codec/rtmp/chunk_writer.hpp"

#include <gtest/gtest.h>

namespace livehouse::codec::rtmp {
namespace {

std::string hex(std::string_view s) {
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (unsigned char c : s) {
        out += digits[c >> 4U];
        out += digits[c & 15U];
    }
    return out;
}

std::string write(std::uint32_t chunk_size, std::uint32_t csid, std::int64_t ts,
                  std::string_view payload) {
    chunk_writer w(chunk_size);
    std::string out;
    w.write(csid, message_type::audio, 1, ts, core::as_bytes(payload), out);
    return out;
}

TEST(ChunkWriter, Type0HeaderThenType3Continuations) {
    // §5.3.1.2.1: timestamp (3) + length (3) + type (1) + stream id (4, little-endian).
    EXPECT_EQ(hex(write(128, 4, 0x10, "ab")), "04"
                                              "000010"
                                              "000002"
                                              "08"
                                              "01000000"
                                              "6162");
    // Chunk size 2: "abcde" -> ab | c4 cd | c4 e
    EXPECT_EQ(hex(write(2, 4, 0, "abcde")), "04"
                                            "000000"
                                            "000005"
                                            "08"
                                            "01000000"
                                            "6162"
                                            "c4"
                                            "6364"
                                            "c4"
                                            "65");
    // An empty message is one header with no payload.
    EXPECT_EQ(hex(write(128, 3, 0, "")), "03"
                                         "000000"
                                         "000000"
                                         "08"
                                         "01000000");
}

TEST(ChunkWriter, BasicHeaderForms) {
    EXPECT_EQ(hex(write(128, 63, 0, "")).substr(0, 2), "3f");
    EXPECT_EQ(hex(write(128, 64, 0, "")).substr(0, 4), "0000"); // 2-byte form, id - 64
    EXPECT_EQ(hex(write(128, 319, 0, "")).substr(0, 4), "00ff");
    EXPECT_EQ(hex(write(128, 320, 0, "")).substr(0, 6), "010001"); // 3-byte form, little-endian
    EXPECT_EQ(hex(write(128, 65599, 0, "")).substr(0, 6), "01ffff");
    // Continuations use the same form with fmt 3.
    EXPECT_EQ(hex(write(1, 320, 0, "xy")).substr(30), "c10001"
                                                      "79");
}

TEST(ChunkWriter, ExtendedTimestamp) {
    // Below 0xFFFFFF: in the header.
    EXPECT_EQ(hex(write(128, 4, 0xFFFFFE, "a")).substr(2, 6), "fffffe");
    // At and above: 0xFFFFFF in the header, the value in the extended field, and again after
    // every type 3 basic header (§5.3.1.3).
    EXPECT_EQ(hex(write(1, 4, 0x01020304, "ab")), "04"
                                                  "ffffff"
                                                  "000002"
                                                  "08"
                                                  "01000000"
                                                  "01020304"
                                                  "61"
                                                  "c4"
                                                  "01020304"
                                                  "62");
    // 64-bit timestamps go out modulo 2^32.
    EXPECT_EQ(hex(write(128, 4, 0x100000005LL, "a")).substr(2, 6), "000005");
}

} // namespace
} // namespace livehouse::codec::rtmp
