// flv_reader: the real sample files (tests/data/media), split at every offset, fed a byte at a
// time, and malformed headers/tags.
#include "codec/flv/flv_reader.hpp"
#include "sample_media.hpp"

#include <algorithm>
#include <gtest/gtest.h>

namespace livehouse::codec::flv {
namespace {

using testing::flv_file;
using testing::owned_tag;

std::size_t count(const flv_file& f, tag_type t) {
    return static_cast<std::size_t>(
        std::count_if(f.tags.begin(), f.tags.end(), [t](const auto& x) { return x.type == t; }));
}

/// Feeds `bytes` as two buffers split at `split`, the way a socket would deliver them: the
/// unconsumed tail of the first buffer is copied into a second one with the rest appended.
/// Each tag is compared with `expect` as it comes out (no copies), and the count returned.
std::size_t parse_split(const std::string& bytes, std::size_t split,
                        const std::vector<owned_tag>& expect, std::string& error) {
    std::size_t n = 0;
    flv_reader reader;
    std::string second;
    core::bytes_view buffer = core::as_bytes(bytes).first(split);
    for (bool last = false;; last = true) {
        core::bytes_view rest = buffer;
        for (;;) {
            const auto r = reader.feed(rest);
            if (r.state == core::parse_state::error) {
                error = r.error;
                return n;
            }
            if (r.state == core::parse_state::need_more) {
                EXPECT_EQ(r.consumed, 0U);
                break;
            }
            if (const auto& t = reader.current()) {
                if (n >= expect.size() || t->type != expect[n].type ||
                    t->timestamp_ms != expect[n].timestamp_ms ||
                    core::as_chars(t->body) != expect[n].body) {
                    error = "tag " + std::to_string(n) + " differs";
                    return n;
                }
                ++n;
            }
            rest = rest.subspan(r.consumed);
        }
        if (last) {
            if (!rest.empty()) {
                error = "clean file left " + std::to_string(rest.size()) + " bytes";
            }
            return n;
        }
        second.assign(core::as_chars(rest));
        second.append(bytes, split);
        buffer = core::as_bytes(second);
    }
}

TEST(flv_reader, parses_audio_video_sample) {
    const auto f = testing::load_flv("av.flv");
    EXPECT_EQ(f.header.version, 1);
    EXPECT_TRUE(f.header.has_audio);
    EXPECT_TRUE(f.header.has_video);
    EXPECT_EQ(f.header.data_offset, 9U);
    EXPECT_EQ(f.unconsumed, 0U);
    ASSERT_FALSE(f.tags.empty());
    // ffmpeg writes onMetaData first, then the two sequence headers.
    EXPECT_EQ(f.tags.front().type, tag_type::script_data);
    EXPECT_EQ(f.tags.front().body.substr(0, 13), std::string("\x02\x00\x0a"
                                                             "onMetaData",
                                                             13));
    // 2 s at 25 fps: 50 pictures + sequence header + end of sequence; 44.1 kHz AAC: ~87
    // frames + 1 header.
    EXPECT_EQ(count(f, tag_type::video), 52U);
    EXPECT_GE(count(f, tag_type::audio), 87U);
    EXPECT_LE(count(f, tag_type::audio), 89U);
    EXPECT_EQ(count(f, tag_type::script_data), 1U);
    std::vector<std::uint32_t> video_times;
    for (const auto& t : f.tags) {
        EXPECT_EQ(t.stream_id, 0U);
        if (t.type == tag_type::video) {
            EXPECT_TRUE(video_times.empty() || t.timestamp_ms >= video_times.back());
            video_times.push_back(t.timestamp_ms);
        }
    }
    // ffmpeg starts video at 23 ms (the AAC encoder's priming delay); pictures are 40 ms apart:
    // header @23, frames 23..1983, end of sequence @1983.
    ASSERT_EQ(video_times.size(), 52U);
    EXPECT_EQ(video_times[50] - video_times[1], 49U * 40U);
}

TEST(flv_reader, single_track_flags) {
    const auto audio = testing::load_flv("audio.flv");
    EXPECT_TRUE(audio.header.has_audio);
    EXPECT_FALSE(audio.header.has_video);
    EXPECT_EQ(count(audio, tag_type::video), 0U);
    EXPECT_GT(count(audio, tag_type::audio), 80U);
    EXPECT_EQ(audio.unconsumed, 0U);

    const auto video = testing::load_flv("video.flv");
    EXPECT_FALSE(video.header.has_audio);
    EXPECT_TRUE(video.header.has_video);
    EXPECT_EQ(count(video, tag_type::audio), 0U);
    EXPECT_EQ(count(video, tag_type::video), 52U);
    EXPECT_EQ(video.unconsumed, 0U);
}

// Beast's parsegrind habit: every split point must give the same tags as one buffer.
TEST(flv_reader, split_at_every_offset) {
    for (const char* name : {"av.flv", "audio.flv"}) {
        const auto bytes = testing::read_file(testing::media_path(name));
        const auto whole = testing::parse_flv(bytes);
        ASSERT_GT(whole.tags.size(), 10U);
        for (std::size_t split = 0; split <= bytes.size(); ++split) {
            std::string error;
            const auto n = parse_split(bytes, split, whole.tags, error);
            ASSERT_TRUE(error.empty()) << name << " split " << split << ": " << error;
            ASSERT_EQ(n, whole.tags.size()) << name << " split " << split;
        }
    }
}

TEST(flv_reader, byte_at_a_time) {
    const auto bytes = testing::read_file(testing::media_path("video.flv"));
    const auto whole = testing::parse_flv(bytes);
    flv_reader reader;
    std::string buffer;
    std::vector<owned_tag> tags;
    for (const char c : bytes) {
        buffer.push_back(c);
        const auto r = reader.feed(core::as_bytes(buffer));
        ASSERT_NE(r.state, core::parse_state::error) << r.error;
        if (r.state == core::parse_state::ok) {
            // One byte completes an element exactly when the buffer reaches its size.
            EXPECT_EQ(r.consumed, buffer.size());
            if (reader.current()) {
                tags.push_back(testing::own(*reader.current()));
            }
            buffer.erase(0, r.consumed);
        } else if (reader.needed() != 0) {
            EXPECT_GT(reader.needed(), buffer.size());
        }
    }
    EXPECT_TRUE(buffer.empty());
    EXPECT_EQ(tags, whole.tags);
    EXPECT_EQ(reader.tags_read(), whole.tags.size());
    EXPECT_EQ(reader.previous_tag_size_mismatches(), 0U);
}

TEST(flv_reader, needed_reports_pending_element_size) {
    const auto bytes = testing::read_file(testing::media_path("av.flv"));
    flv_reader reader;
    auto r = reader.feed(core::as_bytes(bytes).first(5));
    EXPECT_EQ(r.state, core::parse_state::need_more);
    EXPECT_EQ(reader.needed(), 13U); // 9-byte header + PreviousTagSize0
    r = reader.feed(core::as_bytes(bytes));
    ASSERT_EQ(r.state, core::parse_state::ok);
    EXPECT_EQ(r.consumed, 13U);
    EXPECT_FALSE(reader.current());
    const auto tail = core::as_bytes(bytes).subspan(13);
    r = reader.feed(tail.first(11));
    EXPECT_EQ(r.state, core::parse_state::need_more);
    const std::size_t size = (std::size_t{tail[1]} << 16U) | (std::size_t{tail[2]} << 8U) | tail[3];
    EXPECT_EQ(reader.needed(), 11 + size + 4);
}

std::string header(std::uint8_t version = 1, std::uint8_t flags = 5, std::uint32_t offset = 9) {
    std::string h = "FLV";
    core::byte_writer w(h);
    w.u8(version);
    w.u8(flags);
    w.u32(offset);
    if (offset > 9) {
        h.append(offset - 9, '\0');
    }
    w.u32(0);
    return h;
}

std::string make_tag(std::uint8_t type_byte, std::string_view body, std::uint32_t ts = 0,
                     std::uint32_t previous = 0xFFFFFFFF) {
    std::string t;
    core::byte_writer w(t);
    w.u8(type_byte);
    w.u24(static_cast<std::uint32_t>(body.size()));
    w.u24(ts & 0xFFFFFFU);
    w.u8(static_cast<std::uint8_t>(ts >> 24U));
    w.u24(0);
    w.bytes(body);
    w.u32(previous == 0xFFFFFFFF ? static_cast<std::uint32_t>(11 + body.size()) : previous);
    return t;
}

core::feed_result feed_all(flv_reader& reader, const std::string& bytes,
                           std::vector<owned_tag>* tags = nullptr) {
    core::bytes_view rest = core::as_bytes(bytes);
    for (;;) {
        auto r = reader.feed(rest);
        if (r.state != core::parse_state::ok) {
            return r;
        }
        if (tags != nullptr && reader.current()) {
            tags->push_back(testing::own(*reader.current()));
        }
        rest = rest.subspan(r.consumed);
    }
}

TEST(flv_reader, extended_timestamp_and_skipped_header_bytes) {
    std::vector<owned_tag> tags;
    flv_reader reader;
    const auto r = feed_all(reader, header(1, 1, 20) + make_tag(9, "\x17\x01", 0x12345678), &tags);
    EXPECT_EQ(r.state, core::parse_state::need_more);
    ASSERT_EQ(tags.size(), 1U);
    EXPECT_EQ(reader.header()->data_offset, 20U);
    EXPECT_EQ(tags[0].timestamp_ms, 0x12345678U); // TimestampExtended is the upper byte
    EXPECT_EQ(tags[0].body, "\x17\x01");
}

TEST(flv_reader, rejects_malformed_input) {
    struct bad_case {
        const char* name;
        std::string bytes;
        const char* expect;
    };
    const std::vector<bad_case> cases = {
        {"signature", "FLX\x01\x05", "signature"},
        {"signature first byte", "G", "signature"},
        {"version", header(2), "version"},
        {"short offset", header(1, 5, 8), "DataOffset"},
        {"huge offset", header(1, 5, 4096), "DataOffset"},
        {"unknown tag", header() + make_tag(7, "x"), "unknown tag type 7"},
        {"encrypted", header() + make_tag(0x20 | 9, "x"), "encrypted"},
    };
    for (const auto& c : cases) {
        flv_reader reader;
        const auto r = feed_all(reader, c.bytes);
        ASSERT_EQ(r.state, core::parse_state::error) << c.name;
        EXPECT_NE(r.error.find(c.expect), std::string::npos) << c.name << ": " << r.error;
        // Errors are sticky.
        const auto again = reader.feed(core::as_bytes(header()));
        EXPECT_EQ(again.state, core::parse_state::error) << c.name;
    }
}

TEST(flv_reader, enforces_tag_size_limit) {
    const auto bytes = testing::read_file(testing::media_path("av.flv"));
    flv_reader reader(reader_limits{.max_tag_size = 1000});
    const auto r = feed_all(reader, bytes);
    ASSERT_EQ(r.state, core::parse_state::error);
    EXPECT_NE(r.error.find("limit 1000"), std::string::npos) << r.error;
    // The limit is checked from the 11-byte header alone, before the body arrives.
    flv_reader early(reader_limits{.max_tag_size = 1000});
    std::string big = header() + make_tag(9, std::string(2000, 'x'));
    big.resize(13 + 11);
    EXPECT_EQ(feed_all(early, big).state, core::parse_state::error);
}

TEST(flv_reader, counts_previous_tag_size_mismatch) {
    flv_reader reader;
    const auto bytes = header() + make_tag(8, "\xaf\x01", 0, 0) + make_tag(8, "\xaf\x01", 23, 99) +
                       make_tag(8, "\xaf\x01", 46);
    std::vector<owned_tag> tags;
    EXPECT_EQ(feed_all(reader, bytes, &tags).state, core::parse_state::need_more);
    EXPECT_EQ(tags.size(), 3U);
    EXPECT_EQ(reader.previous_tag_size_mismatches(), 1U); // 0 is tolerated, 99 is counted
}

TEST(flv_reader, truncated_file_only_needs_more) {
    const auto bytes = testing::read_file(testing::media_path("audio.flv"));
    for (std::size_t len = 0; len < bytes.size(); len += 7) {
        flv_reader reader;
        const auto r = feed_all(reader, bytes.substr(0, len));
        ASSERT_EQ(r.state, core::parse_state::need_more) << "prefix " << len << ": " << r.error;
    }
}

} // namespace
} // namespace livehouse::codec::flv
