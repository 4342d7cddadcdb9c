// Helpers for the media tests: synthetic frames (small but well-formed Annex B access units
// and ADTS frames), an MPEG-TS packet walker to check segment structure, an inline and a
// deferred task_runner, and the shared temporary directory (livehouse_test/temp_dir.hpp).
#pragma once

#include "livehouse_test/temp_dir.hpp"
#include "media/broadcast.hpp"
#include "media/frame.hpp"

#include <cstdint>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <gtest/gtest.h>
#include <sstream>
#include <string>
#include <vector>

namespace livehouse::media::test {

/// An Annex B access unit: AUD, then SPS + PPS + IDR slice for a keyframe, else a non-IDR slice.
inline std::string annexb_access_unit(bool keyframe, std::size_t slice_bytes = 200) {
    std::string au("\x00\x00\x00\x01\x09\xf0", 6);
    if (keyframe) {
        au += std::string("\x00\x00\x00\x01\x67\x42\xc0\x1e\xd9\x00", 10); // SPS
        au += std::string("\x00\x00\x00\x01\x68\xce\x3c\x80", 8);          // PPS
        au += std::string("\x00\x00\x00\x01\x65", 5);                      // IDR slice
    } else {
        au += std::string("\x00\x00\x00\x01\x41", 5); // non-IDR slice
    }
    au.append(slice_bytes, '\x5a');
    return au;
}

/// One ADTS frame (AAC LC, 44.1 kHz, stereo) with `raw_bytes` of payload.
inline std::string adts_frame(std::size_t raw_bytes = 100) {
    const std::size_t len = 7 + raw_bytes;
    std::string f(7, '\0');
    f[0] = '\xff';
    f[1] = '\xf1';
    f[2] = '\x50';
    f[3] = static_cast<char>(0x80U | ((len >> 11U) & 0x03U));
    f[4] = static_cast<char>((len >> 3U) & 0xffU);
    f[5] = static_cast<char>(((len & 0x07U) << 5U) | 0x1fU);
    f[6] = '\xfc';
    f.append(raw_bytes, '\x21');
    return f;
}

inline frame video_frame(std::int64_t dts_ms, bool keyframe, std::int32_t cts_ms = 0) {
    frame f;
    f.kind = track::video;
    f.dts_ms = dts_ms;
    f.cts_ms = cts_ms;
    f.keyframe = keyframe;
    f.payload = core::make_shared_bytes(annexb_access_unit(keyframe));
    return f;
}

inline frame audio_frame(std::int64_t dts_ms) {
    frame f;
    f.kind = track::audio;
    f.dts_ms = dts_ms;
    f.keyframe = true;
    f.payload = core::make_shared_bytes(adts_frame());
    return f;
}

/// Video frames at `fps` from `from_ms` (inclusive) to `to_ms` (exclusive), a keyframe every
/// `gop_ms` counted from `gop_origin_ms`; dts = round(n * 1000 / fps).
inline std::vector<frame> video_frames(std::int64_t from_ms, std::int64_t to_ms, int fps = 25,
                                       std::int64_t gop_ms = 2000, std::int64_t gop_origin_ms = 0) {
    std::vector<frame> out;
    for (std::int64_t n = 0;; ++n) {
        const std::int64_t dts = from_ms + (n * 1000 + fps / 2) / fps;
        if (dts >= to_ms) {
            break;
        }
        const bool key = (dts - gop_origin_ms) % gop_ms == 0;
        out.push_back(video_frame(dts, key));
    }
    return out;
}

/// The packets of a TS buffer, checked for size and sync bytes.
struct ts_packet {
    std::uint16_t pid = 0;
    bool payload_start = false;
    bool random_access = false;
    bool has_pcr = false;
    std::uint8_t cc = 0;
    std::string payload;
};

inline std::vector<ts_packet> parse_ts(std::string_view ts) {
    std::vector<ts_packet> out;
    EXPECT_EQ(ts.size() % 188, 0U);
    for (std::size_t off = 0; off + 188 <= ts.size(); off += 188) {
        const auto* p = reinterpret_cast<const std::uint8_t*>(ts.data() + off);
        EXPECT_EQ(p[0], 0x47) << "sync byte at " << off;
        ts_packet k;
        k.pid = static_cast<std::uint16_t>(((p[1] & 0x1fU) << 8U) | p[2]);
        k.payload_start = (p[1] & 0x40U) != 0;
        k.cc = p[3] & 0x0fU;
        std::size_t pos = 4;
        if ((p[3] & 0x20U) != 0) {
            const std::size_t af_len = p[4];
            if (af_len > 0) {
                k.random_access = (p[5] & 0x40U) != 0;
                k.has_pcr = (p[5] & 0x10U) != 0;
            }
            pos = 5 + af_len;
        }
        if ((p[3] & 0x10U) != 0 && pos < 188) {
            k.payload.assign(ts.data() + off + pos, 188 - pos);
        }
        out.push_back(std::move(k));
    }
    return out;
}

/// Runs every task at once, on the caller's thread.
inline task_runner inline_runner() {
    return [](std::function<void()> task) { task(); };
}

/// Keeps tasks until run_all(): a slow disk, or a pool that has not got to them yet.
struct deferred_runner {
    std::deque<std::function<void()>> tasks;
    task_runner runner() {
        return [this](std::function<void()> t) { tasks.push_back(std::move(t)); };
    }
    void run_all() {
        while (!tasks.empty()) {
            auto t = std::move(tasks.front());
            tasks.pop_front();
            t();
        }
    }
};

using livehouse::test::temp_dir;

inline std::string read_file(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

} // namespace livehouse::media::test
