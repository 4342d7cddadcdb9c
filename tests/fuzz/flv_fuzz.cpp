// libFuzzer target for the FLV path of RTMP ingest: the FLV file reader, the VIDEODATA/AUDIODATA
// tag parsers, AVCDecoderConfigurationRecord + AVCC->Annex B, AudioSpecificConfig + ADTS, and
// the MPEG-TS muxer fed with whatever frames come out.
//
// Input: an FLV file (starts with "FLV"); otherwise the first byte selects one parser and the
// rest is its input: 0 video tag payload, 1 audio tag payload (both through a tag_demuxer that
// already holds valid sequence headers, so coded frames reach the converters), 2 an AVC
// record, 3 an AudioSpecificConfig. Invariants are checked with __builtin_trap so the fuzzer
// reports logic errors, not only memory errors.
#include "codec/flv/aac.hpp"
#include "codec/flv/audio_tag.hpp"
#include "codec/flv/avc.hpp"
#include "codec/flv/flv_reader.hpp"
#include "codec/flv/tag_demuxer.hpp"
#include "codec/flv/video_tag.hpp"
#include "codec/mpegts/ts_muxer.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

namespace {

using namespace livehouse;
using namespace livehouse::codec;

void check(bool ok) {
    if (!ok) {
        __builtin_trap();
    }
}

/// Muxes a demuxed frame and checks the TS layer's basic invariants.
void mux_frame(mpegts::ts_muxer& mux, const flv::es_frame& f) {
    std::string ts;
    const std::int64_t dts = f.dts_ms * 90;
    if (f.kind == flv::es_kind::video) {
        // Annex B with 4-byte start codes (the AUD is ours, or the AU's own if it had one).
        check(f.payload.size() >= 5 && f.payload.compare(0, 4, std::string("\0\0\0\1", 4)) == 0);
        mux.write_video(dts + std::int64_t{f.cts_ms} * 90, dts, f.keyframe,
                        core::as_bytes(f.payload), ts);
    } else {
        check(f.payload.size() >= flv::adts_header_size &&
              f.payload.size() <= flv::max_adts_frame_size);
        mux.write_audio(dts, core::as_bytes(f.payload), ts);
    }
    check(!ts.empty() && ts.size() % mpegts::packet_size == 0);
    for (std::size_t i = 0; i < ts.size(); i += mpegts::packet_size) {
        check(ts[i] == 0x47);
    }
}

void feed_tag(flv::tag_demuxer& demux, mpegts::ts_muxer& mux, flv::tag_type type,
              std::int64_t ts_ms, core::bytes_view body) {
    auto r =
        type == flv::tag_type::video ? demux.on_video(ts_ms, body) : demux.on_audio(ts_ms, body);
    if (r && *r) {
        mux_frame(mux, **r);
    }
    if (!r) {
        check(!r.err().message.empty());
    }
}

struct file_summary {
    std::size_t tags = 0;
    std::size_t body_bytes = 0;
    std::size_t consumed = 0;
    bool error = false;
};

/// Reads an FLV file fed as two buffers split at `split` (split == size: one buffer).
file_summary read_file(core::bytes_view data, std::size_t split, bool demux_tags) {
    file_summary s;
    flv::flv_reader reader;
    flv::tag_demuxer demux;
    mpegts::ts_muxer mux({.video = true, .audio = true});
    std::string second;
    core::bytes_view buffer = data.first(split);
    for (bool last = split == data.size();; last = true) {
        for (;;) {
            const auto r = reader.feed(buffer);
            if (r.state == core::parse_state::error) {
                s.error = true;
                return s;
            }
            if (r.state == core::parse_state::need_more) {
                check(r.consumed == 0);
                break;
            }
            check(r.consumed > 0 && r.consumed <= buffer.size());
            if (const auto& t = reader.current()) {
                ++s.tags;
                s.body_bytes += t->body.size();
                if (demux_tags && t->type != flv::tag_type::script_data) {
                    feed_tag(demux, mux, t->type, t->timestamp_ms, t->body);
                }
            }
            s.consumed += r.consumed;
            buffer = buffer.subspan(r.consumed);
        }
        if (last) {
            return s;
        }
        second.assign(core::as_chars(buffer));
        second.append(core::as_chars(data.subspan(split)));
        buffer = core::as_bytes(second);
    }
}

// A valid Baseline SPS/PPS record and an AAC-LC 44.1 kHz stereo config, as sequence-header tags.
const std::string video_header("\x17\x00\x00\x00\x00"
                               "\x01\x42\xC0\x1E\xFF\xE1\x00\x05\x67\x42\xC0\x1E\xAB"
                               "\x01\x00\x04\x68\xCE\x3C\x80",
                               26);
const std::string audio_header("\xAF\x00\x12\x10", 4);

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const core::bytes_view input(data, size);
    if (size >= 3 && data[0] == 'F' && data[1] == 'L' && data[2] == 'V') {
        const auto whole = read_file(input, size, true);
        // Where the bytes are split must not change what is read.
        const auto split = read_file(input, size / 2, false);
        check(whole.error == split.error);
        if (!whole.error) {
            check(whole.tags == split.tags && whole.body_bytes == split.body_bytes &&
                  whole.consumed == split.consumed);
        }
        return 0;
    }
    if (size == 0) {
        return 0;
    }
    const core::bytes_view rest = input.subspan(1);
    switch (data[0] % 4) {
    case 0:
    case 1: {
        flv::tag_demuxer demux;
        mpegts::ts_muxer mux({.video = true, .audio = true});
        check(demux.on_video(0, core::as_bytes(video_header)).has_value());
        check(demux.on_audio(0, core::as_bytes(audio_header)).has_value());
        const auto type = data[0] % 4 == 0 ? flv::tag_type::video : flv::tag_type::audio;
        feed_tag(demux, mux, type, 40, rest);
        // Both configs survive any per-tag error.
        check(demux.video_config().has_value() && demux.audio_config().has_value());
        break;
    }
    case 2: {
        const auto config = flv::parse_avc_decoder_config(rest);
        if (config) {
            check(config->sps.size() <= flv::max_parameter_sets &&
                  config->pps.size() <= flv::max_parameter_sets);
            check(config->nal_length_size == 1 || config->nal_length_size == 2 ||
                  config->nal_length_size == 4);
            // Convert the record's own bytes as an AU with it: any outcome but a crash.
            std::string out;
            const auto info = flv::avcc_to_annexb(rest, *config, out);
            check(info.has_value() || out.empty());
        }
        break;
    }
    default: {
        const auto config = flv::parse_audio_specific_config(rest);
        if (config) {
            check(config->channel_config >= 1 && config->channel_config <= 7);
            check(config->sampling_index <= 12);
            std::string out;
            if (flv::write_adts_header(*config, rest.size(), out)) {
                check(out.size() == flv::adts_header_size);
            } else {
                check(out.empty());
            }
        }
        break;
    }
    }
    return 0;
}
