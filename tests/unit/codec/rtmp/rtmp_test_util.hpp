// Helpers shared by the RTMP codec tests: the captured publish session and small byte builders.
#pragma once

#include "codec/rtmp/chunk_reader.hpp"
#include "codec/rtmp/handshake.hpp"
#include "core/bytes.hpp"

#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace livehouse::codec::rtmp::test {

/// Whole file as bytes; empty if missing (the test then fails on its size check).
inline std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

/// ffmpeg publishing 3 s of H.264 + AAC to nginx-rtmp, client->server (see
/// tests/data/rtmp/capture.sh). Starts with C0+C1+C2.
inline const std::string& captured_c2s() {
    static const std::string bytes =
        read_file(std::string(LIVEHOUSE_TEST_DATA) + "/rtmp/publish_session.c2s.bin");
    return bytes;
}
/// nginx's answer: S0+S1+S2, then its chunk stream.
inline const std::string& captured_s2c() {
    static const std::string bytes =
        read_file(std::string(LIVEHOUSE_TEST_DATA) + "/rtmp/publish_session.s2c.bin");
    return bytes;
}
/// The client's chunk stream (after the handshake).
inline std::string captured_chunks() {
    return captured_c2s().substr(1 + 2 * handshake_size);
}

inline std::vector<message> drain(chunk_reader& r) {
    std::vector<message> out;
    while (auto m = r.next()) {
        out.push_back(std::move(*m));
    }
    return out;
}

} // namespace livehouse::codec::rtmp::test
