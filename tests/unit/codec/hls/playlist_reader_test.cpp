// The media playlist reader: what the renderer writes reads back the same; what a player must
// refuse is refused with a message; limits hold.
#include "codec/hls/playlist_reader.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <string>

namespace livehouse::codec::hls {
namespace {

TEST(PlaylistReader, ReadsBackWhatTheRendererWrites) {
    media_playlist p;
    p.target_duration_s = 2;
    p.media_sequence = 40;
    p.discontinuity_sequence = 1;
    p.independent_segments = true;
    for (std::uint64_t s = 40; s < 46; ++s) {
        p.segments.push_back({s, 1.96 + static_cast<double>(s % 2) * 0.04,
                              fmt::format("seg-{}.ts", s), s == 43, std::nullopt});
    }
    auto r = parse_media_playlist(render(p));
    ASSERT_TRUE(r) << r.err().message;
    EXPECT_EQ(r->target_duration_s, 2);
    EXPECT_EQ(r->media_sequence, 40u);
    EXPECT_EQ(r->discontinuity_sequence, 1u);
    EXPECT_TRUE(r->independent_segments);
    EXPECT_FALSE(r->ended);
    ASSERT_EQ(r->segments.size(), 6u);
    for (std::size_t i = 0; i < 6; ++i) {
        EXPECT_EQ(r->segments[i].sequence, p.segments[i].sequence);
        EXPECT_EQ(r->segments[i].uri, p.segments[i].uri);
        EXPECT_NEAR(r->segments[i].duration_s, p.segments[i].duration_s, 0.0005);
        EXPECT_EQ(r->segments[i].discontinuity, p.segments[i].discontinuity);
    }
    p.ended = true;
    p.type = playlist_type::vod;
    auto v = parse_media_playlist(render(p));
    ASSERT_TRUE(v);
    EXPECT_TRUE(v->ended);
    EXPECT_EQ(v->type, playlist_type::vod);
}

TEST(PlaylistReader, AcceptsCrlfTitlesAndUnknownTags) {
    auto r = parse_media_playlist("#EXTM3U\r\n#EXT-X-TARGETDURATION:6\r\n#EXT-X-FOO:bar\r\n"
                                  "#EXTINF:5.5,Title, with comma\r\n/abs/seg.ts\r\n");
    ASSERT_TRUE(r) << r.err().message;
    ASSERT_EQ(r->segments.size(), 1u);
    EXPECT_EQ(r->segments[0].uri, "/abs/seg.ts");
    EXPECT_DOUBLE_EQ(r->segments[0].duration_s, 5.5);
    EXPECT_EQ(r->segments[0].sequence, 0u);
}

TEST(PlaylistReader, RefusesWhatAPlayerMustRefuse) {
    const struct {
        const char* text;
        const char* expect;
    } cases[] = {
        {"", "not #EXTM3U"},
        {"seg.ts\n", "not #EXTM3U"},
        {"#EXTM3U\n#EXTINF:2,\nseg.ts\n", "no EXT-X-TARGETDURATION"},
        {"#EXTM3U\n#EXT-X-TARGETDURATION:2\nseg.ts\n", "without #EXTINF"},
        {"#EXTM3U\n#EXT-X-TARGETDURATION:x\n", "bad EXT-X-TARGETDURATION"},
        {"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:-1,\na.ts\n", "bad EXTINF"},
        {"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:nan,\na.ts\n", "bad EXTINF"},
        {"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\na.ts\n#EXT-X-MEDIA-SEQUENCE:5\n",
         "bad EXT-X-MEDIA-SEQUENCE"},
    };
    for (const auto& c : cases) {
        auto r = parse_media_playlist(c.text);
        ASSERT_FALSE(r) << c.text;
        EXPECT_NE(r.err().message.find(c.expect), std::string::npos)
            << c.text << " -> " << r.err().message;
    }
}

TEST(PlaylistReader, LimitsHold) {
    std::string many = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n";
    for (int i = 0; i < 11; ++i) {
        many += fmt::format("#EXTINF:2,\ns{}.ts\n", i);
    }
    EXPECT_TRUE(parse_media_playlist(
        many, {.max_bytes = 1 << 20, .max_line_bytes = 4096, .max_segments = 11}));
    auto over = parse_media_playlist(
        many, {.max_bytes = 1 << 20, .max_line_bytes = 4096, .max_segments = 10});
    ASSERT_FALSE(over);
    EXPECT_NE(over.err().message.find("more than 10 segments"), std::string::npos);
    EXPECT_FALSE(
        parse_media_playlist(many, {.max_bytes = 64, .max_line_bytes = 4096, .max_segments = 100}));
    const auto long_line =
        fmt::format("#EXTM3U\n#EXT-X-TARGETDURATION:2\n#{}\n", std::string(5000, 'x'));
    EXPECT_FALSE(parse_media_playlist(
        long_line, {.max_bytes = 1 << 20, .max_line_bytes = 4096, .max_segments = 100}));
}

} // namespace
} // namespace livehouse::codec::hls
