// Real encoder output through the packager: the FLV test vectors (tests/data/media, made by
// ffmpeg + x264 + aac, see make.sh) are demuxed by codec::flv exactly as RTMP ingest does and
// fed to a broadcast; the live playlist, the segments and the archive are checked.
#include "codec/flv/flv_reader.hpp"
#include "codec/flv/tag_demuxer.hpp"
#include "codec/hls/media_playlist.hpp"
#include "codec/mpegts/ts_muxer.hpp"
#include "media/archive.hpp"
#include "media/broadcast.hpp"
#include "media_test_util.hpp"

#include <gtest/gtest.h>

namespace livehouse::media {
namespace {

using namespace std::chrono_literals;

std::vector<frame> demux(const std::string& name) {
    const auto file = test::read_file(std::filesystem::path(LIVEHOUSE_TEST_DATA) / "media" / name);
    EXPECT_FALSE(file.empty()) << name;
    codec::flv::flv_reader reader;
    codec::flv::tag_demuxer demuxer;
    std::vector<frame> out;
    auto rest = core::as_bytes(file);
    while (!rest.empty()) {
        const auto r = reader.feed(rest);
        EXPECT_EQ(r.state, core::parse_state::ok) << r.error;
        if (r.state != core::parse_state::ok) {
            break;
        }
        if (const auto& t = reader.current()) {
            core::result<std::optional<codec::flv::es_frame>> es =
                std::optional<codec::flv::es_frame>{};
            if (t->type == codec::flv::tag_type::video) {
                es = demuxer.on_video(t->timestamp_ms, t->body);
            } else if (t->type == codec::flv::tag_type::audio) {
                es = demuxer.on_audio(t->timestamp_ms, t->body);
            }
            EXPECT_TRUE(es.has_value()) << es.err().message;
            if (es && *es) {
                auto& e = **es;
                frame f;
                f.kind = e.kind == codec::flv::es_kind::video ? track::video : track::audio;
                f.dts_ms = e.dts_ms;
                f.cts_ms = e.cts_ms;
                f.keyframe = e.keyframe;
                f.payload = core::make_shared_bytes(std::move(e.payload));
                out.push_back(std::move(f));
            }
        }
        rest = rest.subspan(r.consumed);
    }
    return out;
}

struct replay_result {
    std::string playlist;
    std::vector<std::shared_ptr<const segment>> segments;
    std::string vod;
};

replay_result replay(const std::string& name, track_set tracks, const test::temp_dir& dir) {
    core::manual_clock clock;
    packager_config config;
    config.target_segment = 1000ms; // the vectors are 2 s long with a keyframe every second
    config.data_dir = dir.path().string();
    broadcast_record r;
    r.id = "replay";
    broadcast b(r, config, clock, test::inline_runner());
    EXPECT_TRUE(b.begin_publish(tracks));
    for (const auto& f : demux(name)) {
        b.on_frame(f);
    }
    b.end_publish();
    replay_result out;
    out.playlist = *b.snapshot()->playlist;
    out.segments = b.snapshot()->segments;
    b.end();
    out.vod = test::read_file(dir.path() / "vod" / "replay" / "index.m3u8");
    return out;
}

void expect_valid_segments(const replay_result& r, bool video) {
    ASSERT_FALSE(r.segments.empty());
    for (const auto& s : r.segments) {
        const auto packets = test::parse_ts(s->data->view());
        ASSERT_GE(packets.size(), 3U);
        EXPECT_EQ(packets[0].pid, 0);
        EXPECT_EQ(packets[1].pid, codec::mpegts::pmt_pid);
        if (video) {
            EXPECT_EQ(packets[2].pid, codec::mpegts::video_pid);
            EXPECT_TRUE(packets[2].random_access) << "segment " << s->sequence;
        }
        EXPECT_LE(codec::hls::rounded_seconds(s->duration_s), 1);
    }
}

TEST(flv_replay, audio_video_makes_one_second_segments) {
    test::temp_dir dir;
    const auto r = replay("av.flv", {.video = true, .audio = true}, dir);
    expect_valid_segments(r, true);
    ASSERT_EQ(r.segments.size(), 2U);
    EXPECT_DOUBLE_EQ(r.segments[0]->duration_s, 1.0);
    EXPECT_NE(r.playlist.find("#EXT-X-TARGETDURATION:1\n"), std::string::npos);
    EXPECT_NE(r.vod.find("#EXT-X-PLAYLIST-TYPE:VOD\n"), std::string::npos);
    EXPECT_NE(r.vod.find("seg-1.ts\n#EXT-X-ENDLIST\n"), std::string::npos);
}

TEST(flv_replay, b_frames_keep_keyframe_cuts) {
    test::temp_dir dir;
    const auto r = replay("bframes.flv", {.video = true, .audio = true}, dir);
    expect_valid_segments(r, true);
    EXPECT_EQ(r.segments.size(), 2U);
}

TEST(flv_replay, video_only) {
    test::temp_dir dir;
    const auto r = replay("video.flv", {.video = true, .audio = false}, dir);
    expect_valid_segments(r, true);
    EXPECT_EQ(r.segments.size(), 2U);
}

TEST(flv_replay, audio_only) {
    test::temp_dir dir;
    const auto r = replay("audio.flv", {.video = false, .audio = true}, dir);
    expect_valid_segments(r, false);
    EXPECT_GE(r.segments.size(), 2U);
    EXPECT_NE(r.playlist.find("#EXT-X-TARGETDURATION:1\n"), std::string::npos);
}

} // namespace
} // namespace livehouse::media
