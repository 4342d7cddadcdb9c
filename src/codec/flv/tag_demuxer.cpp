// FLV tag -> elementary stream frames; see tag_demuxer.hpp.
#include "codec/flv/tag_demuxer.hpp"

#include "codec/flv/audio_tag.hpp"
#include "codec/flv/video_tag.hpp"

namespace livehouse::codec::flv {

core::result<std::optional<es_frame>> tag_demuxer::on_video(std::int64_t dts_ms,
                                                            core::bytes_view payload) {
    auto tag = parse_video_tag(payload);
    if (!tag) {
        return tag.err();
    }
    // "If FrameType == 5, instead of a video payload, the message stream contains a UI8":
    // seek markers for a client, nothing to decode.
    if (tag->is_command()) {
        return std::optional<es_frame>{};
    }
    switch (tag->packet_type) {
    case avc_packet_type::sequence_header: {
        auto config = parse_avc_decoder_config(tag->body);
        if (!config) {
            return config.err().wrap("flv video");
        }
        video_config_ = std::move(*config);
        ++generation_;
        return std::optional<es_frame>{};
    }
    case avc_packet_type::end_of_sequence:
        return std::optional<es_frame>{};
    case avc_packet_type::nalu:
        break;
    }
    if (!video_config_) {
        // Without the record we do not even know the NAL length size.
        return core::make_error("flv video: coded frame before the AVC sequence header");
    }
    es_frame f;
    f.kind = es_kind::video;
    f.dts_ms = dts_ms;
    f.cts_ms = tag->composition_time_ms;
    auto info = avcc_to_annexb(tag->body, *video_config_, f.payload);
    if (!info) {
        return info.err().wrap("flv video");
    }
    if (info->nal_count == 0) {
        return std::optional<es_frame>{};
    }
    f.keyframe = info->has_idr;
    return std::optional<es_frame>{std::move(f)};
}

core::result<std::optional<es_frame>> tag_demuxer::on_audio(std::int64_t dts_ms,
                                                            core::bytes_view payload) {
    auto tag = parse_audio_tag(payload);
    if (!tag) {
        return tag.err();
    }
    if (tag->packet_type == aac_packet_type::sequence_header) {
        auto config = parse_audio_specific_config(tag->body);
        if (!config) {
            return config.err().wrap("flv audio");
        }
        audio_config_ = *config;
        ++generation_;
        return std::optional<es_frame>{};
    }
    if (!audio_config_) {
        return core::make_error("flv audio: raw AAC frame before the AAC sequence header");
    }
    if (tag->body.empty()) {
        return std::optional<es_frame>{};
    }
    es_frame f;
    f.kind = es_kind::audio;
    f.dts_ms = dts_ms;
    f.keyframe = true;
    f.payload.reserve(adts_header_size + tag->body.size());
    if (auto ok = append_adts_frame(*audio_config_, tag->body, f.payload); !ok) {
        return ok.err().wrap("flv audio");
    }
    return std::optional<es_frame>{std::move(f)};
}

} // namespace livehouse::codec::flv
