// Test helpers shared by the flv and mpegts codec tests: load the sample files made by
// tests/data/media/make.sh, read every FLV tag (owned copies), and demux them into elementary
// stream frames with the production parsers.
#pragma once

#include "codec/flv/flv_reader.hpp"
#include "codec/flv/tag_demuxer.hpp"
#include "core/bytes.hpp"

#include <cstdint>
#include <fstream>
#include <gtest/gtest.h>
#include <iterator>
#include <string>
#include <vector>

namespace livehouse::codec::flv::testing {

inline std::string media_path(const std::string& name) {
    return std::string(LIVEHOUSE_TEST_DATA) + "/media/" + name;
}

/// The whole file; fails the calling test (non-fatally) and returns "" when it is missing.
inline std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    EXPECT_TRUE(in.good()) << "cannot open " << path;
    return {std::istreambuf_iterator<char>(in), {}};
}

struct owned_tag {
    tag_type type = tag_type::video;
    std::uint32_t timestamp_ms = 0;
    std::uint32_t stream_id = 0;
    std::string body;

    friend bool operator==(const owned_tag&, const owned_tag&) = default;
};

inline owned_tag own(const tag& t) {
    return {t.type, t.timestamp_ms, t.stream_id, std::string(core::as_chars(t.body))};
}

struct flv_file {
    file_header header;
    std::vector<owned_tag> tags;
    std::size_t unconsumed = 0; ///< bytes left over at the end (0 for a clean file)
};

/// Reads a whole in-memory FLV file in one buffer; ADD_FAILUREs on a parse error.
inline flv_file parse_flv(const std::string& bytes) {
    flv_file f;
    flv_reader reader;
    core::bytes_view rest = core::as_bytes(bytes);
    for (;;) {
        const auto r = reader.feed(rest);
        if (r.state == core::parse_state::error) {
            ADD_FAILURE() << r.error;
            break;
        }
        if (r.state == core::parse_state::need_more) {
            break;
        }
        if (reader.current()) {
            f.tags.push_back(own(*reader.current()));
        }
        rest = rest.subspan(r.consumed);
    }
    if (reader.header()) {
        f.header = *reader.header();
    }
    f.unconsumed = rest.size();
    return f;
}

inline flv_file load_flv(const std::string& name) {
    return parse_flv(read_file(media_path(name)));
}

/// Every coded frame of the file, in tag order; ADD_FAILUREs on a demux error.
inline std::vector<es_frame> demux(const flv_file& f, tag_demuxer* state = nullptr) {
    tag_demuxer local;
    tag_demuxer& d = state != nullptr ? *state : local;
    std::vector<es_frame> frames;
    for (const auto& t : f.tags) {
        if (t.type == tag_type::script_data) {
            continue;
        }
        auto r = t.type == tag_type::video ? d.on_video(t.timestamp_ms, core::as_bytes(t.body))
                                           : d.on_audio(t.timestamp_ms, core::as_bytes(t.body));
        if (!r) {
            ADD_FAILURE() << "tag at " << t.timestamp_ms << " ms: " << r.err().message;
            continue;
        }
        if (*r) {
            frames.push_back(std::move(**r));
        }
    }
    return frames;
}

} // namespace livehouse::codec::flv::testing
