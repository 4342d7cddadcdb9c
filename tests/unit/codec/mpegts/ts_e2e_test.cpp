// End to end: the sample FLV files through flv_reader -> tag_demuxer -> ts_muxer into .ts files,
// checked by our independent reader (ts_inspect.hpp) and by ffprobe/ffmpeg themselves. The
// ffmpeg part is skipped (GTEST_SKIP) where ffprobe is not installed.
#include "../flv/sample_media.hpp"
#include "codec/mpegts/ts_muxer.hpp"
#include "livehouse_test/temp_dir.hpp"
#include "ts_inspect.hpp"

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <regex>
#include <sstream>

namespace livehouse::codec::mpegts {
namespace {

using flv::es_frame;
using flv::es_kind;
using livehouse::test::temp_dir;

struct muxed {
    std::string ts;
    std::vector<es_frame> frames;
    stream_set streams;
};

/// Muxes a whole sample file the way the segmenter will: tables first and again before every
/// video keyframe (a segment boundary), 90 kHz timestamps from the FLV milliseconds.
muxed mux_sample(const std::string& name) {
    muxed m;
    m.frames = flv::testing::demux(flv::testing::load_flv(name));
    for (const auto& f : m.frames) {
        (f.kind == es_kind::video ? m.streams.video : m.streams.audio) = true;
    }
    ts_muxer mux(m.streams);
    mux.write_tables(m.ts);
    bool first_video = true;
    for (const auto& f : m.frames) {
        const std::int64_t dts = f.dts_ms * 90;
        if (f.kind == es_kind::video) {
            if (f.keyframe && !first_video) {
                mux.write_tables(m.ts);
            }
            first_video = false;
            mux.write_video(dts + std::int64_t{f.cts_ms} * 90, dts, f.keyframe,
                            core::as_bytes(f.payload), m.ts);
        } else {
            mux.write_audio(dts, core::as_bytes(f.payload), m.ts);
        }
    }
    return m;
}

struct run_result {
    int status = -1;
    std::string output; ///< stdout and stderr
};

run_result run(const std::string& command) {
    run_result r;
    FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
    if (pipe == nullptr) {
        return r;
    }
    std::array<char, 4096> buf{};
    std::size_t n = 0;
    while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) {
        r.output.append(buf.data(), n);
    }
    r.status = ::pclose(pipe);
    return r;
}

bool have_ffmpeg_tools() {
    return std::system("command -v ffprobe >/dev/null 2>&1 && command -v ffmpeg >/dev/null 2>&1") ==
           0;
}

/// Our own reader's view: structure, one PES per frame with the right timestamps, PCR and
/// random_access_indicator on every video keyframe.
void check_structure(const muxed& m) {
    const auto v = testing::inspect(m.ts);
    ASSERT_TRUE(v.errors.empty()) << v.errors.front();
    ASSERT_EQ(v.pes.size(), m.frames.size());
    for (std::size_t i = 0; i < m.frames.size(); ++i) {
        const auto& f = m.frames[i];
        const auto& pes = v.pes[i];
        ASSERT_EQ(pes.payload, f.payload) << "frame " << i;
        const std::int64_t dts = f.dts_ms * 90;
        const std::int64_t pts = dts + std::int64_t{f.cts_ms} * 90;
        EXPECT_EQ(pes.pts, pts) << "frame " << i;
        if (pts != dts) {
            EXPECT_EQ(pes.dts, dts) << "frame " << i;
        } else {
            EXPECT_FALSE(pes.dts) << "frame " << i;
        }
        if (f.kind == es_kind::video) {
            EXPECT_EQ(pes.pid, video_pid);
            EXPECT_EQ(pes.random_access, f.keyframe) << "frame " << i;
            if (f.keyframe) {
                EXPECT_EQ(pes.pcr, dts) << "frame " << i;
            }
        } else {
            EXPECT_EQ(pes.pid, audio_pid);
        }
    }
    EXPECT_GE(v.pat_count, 1U);
    EXPECT_EQ(v.pat_count, v.pmt_count);
}

double json_number_after(const std::string& json, const std::string& section,
                         const std::string& key) {
    const auto at = json.find("\"" + section + "\"");
    if (at == std::string::npos) {
        return -1;
    }
    std::smatch m;
    const std::string tail = json.substr(at);
    if (!std::regex_search(tail, m, std::regex("\"" + key + "\": \"?([0-9.]+)"))) {
        return -1;
    }
    return std::stod(m[1].str());
}

void check_with_ffmpeg(const std::string& name, const muxed& m) {
    temp_dir dir;
    ASSERT_FALSE(dir.path().empty());
    const auto file = dir.path() / (name + ".ts");
    {
        std::ofstream out(file, std::ios::binary);
        out.write(m.ts.data(), static_cast<std::streamsize>(m.ts.size()));
        ASSERT_TRUE(out.good());
    }
    const std::string quoted = "'" + file.string() + "'";

    const auto probe = run("ffprobe -v error -show_streams -show_format -of json " + quoted);
    ASSERT_EQ(probe.status, 0) << probe.output;
    const bool h264 = probe.output.find("\"codec_name\": \"h264\"") != std::string::npos;
    const bool aac = probe.output.find("\"codec_name\": \"aac\"") != std::string::npos;
    EXPECT_EQ(h264, m.streams.video) << probe.output;
    EXPECT_EQ(aac, m.streams.audio) << probe.output;
    EXPECT_NE(probe.output.find("\"format_name\": \"mpegts\""), std::string::npos);
    const double duration = json_number_after(probe.output, "format", "duration");
    EXPECT_NEAR(duration, 2.0, 0.1) << probe.output;
    if (m.streams.video) {
        EXPECT_NE(probe.output.find("\"width\": 320"), std::string::npos);
        EXPECT_NE(probe.output.find("\"height\": 240"), std::string::npos);
    }
    if (m.streams.audio) {
        EXPECT_NE(probe.output.find("\"sample_rate\": \"44100\""), std::string::npos);
    }

    // Decode everything: ffmpeg must not report a single error (missing SPS, bad ADTS, CC
    // discontinuity, PES trouble...).
    const auto decode = run("ffmpeg -nostdin -v error -i " + quoted + " -f null -");
    EXPECT_EQ(decode.status, 0);
    EXPECT_EQ(decode.output, "") << decode.output;

    if (m.streams.video) {
        const auto count = run("ffprobe -v error -count_frames -select_streams v:0 -show_entries "
                               "stream=nb_read_frames -of csv=p=0 " +
                               quoted);
        // One line per stream section (ffprobe also lists the program's streams).
        std::istringstream lines(count.output);
        std::size_t counted = 0;
        for (std::string line; std::getline(lines, line);) {
            if (!line.empty()) {
                EXPECT_EQ(line, "50") << count.output;
                ++counted;
            }
        }
        EXPECT_GE(counted, 1U) << count.output;
    }
}

class ts_end_to_end : public ::testing::TestWithParam<const char*> {};

TEST_P(ts_end_to_end, muxes_sample_into_valid_ts) {
    const std::string name = GetParam();
    const auto m = mux_sample(name + ".flv");
    ASSERT_FALSE(m.frames.empty());
    check_structure(m);
    if (::testing::Test::HasFatalFailure()) {
        return;
    }
    if (!have_ffmpeg_tools()) {
        GTEST_SKIP() << "ffprobe/ffmpeg not installed";
    }
    check_with_ffmpeg(name, m);
}

INSTANTIATE_TEST_SUITE_P(samples, ts_end_to_end,
                         ::testing::Values("av", "video", "audio", "bframes"));

} // namespace
} // namespace livehouse::codec::mpegts
