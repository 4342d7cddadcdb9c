// FLV AUDIODATA parser; see audio_tag.hpp.
#include "codec/flv/audio_tag.hpp"

#include <string>

namespace livehouse::codec::flv {

namespace {

const char* format_name(unsigned f) {
    // FLV spec §E.4.2.1 SoundFormat values, for readable "unsupported" errors.
    switch (f) {
    case 0:
        return "Linear PCM, platform endian";
    case 1:
        return "ADPCM";
    case 2:
        return "MP3";
    case 3:
        return "Linear PCM, little endian";
    case 4:
    case 5:
    case 6:
        return "Nellymoser";
    case 7:
        return "G.711 A-law";
    case 8:
        return "G.711 mu-law";
    case 11:
        return "Speex";
    case 14:
        return "MP3 8 kHz";
    case 15:
        return "Device-specific";
    default:
        return "reserved";
    }
}

} // namespace

core::result<audio_tag> parse_audio_tag(core::bytes_view payload) {
    core::byte_reader r(payload);
    const auto first = r.u8();
    if (!first) {
        return core::make_error("flv audio: empty tag");
    }
    const unsigned format = *first >> 4U;
    if (format != sound_format_aac) {
        return core::make_error("flv audio: unsupported audio format " + std::to_string(format) +
                                " (" + format_name(format) + "); only AAC (10) is supported");
    }
    // §E.4.2.1: "AACPacketType IF SoundFormat == 10 UI8".
    const auto packet_type = r.u8();
    if (!packet_type) {
        return core::make_error("flv audio: AAC header truncated (1 < 2 bytes)");
    }
    if (*packet_type > 1) {
        return core::make_error("flv audio: reserved AACPacketType " +
                                std::to_string(*packet_type));
    }
    audio_tag tag;
    tag.sound_format = static_cast<std::uint8_t>(format);
    tag.sound_rate = static_cast<std::uint8_t>((*first >> 2U) & 0x03U);
    tag.sample_16bit = (*first & 0x02U) != 0;
    tag.stereo = (*first & 0x01U) != 0;
    tag.packet_type = static_cast<aac_packet_type>(*packet_type);
    tag.body = r.rest();
    return tag;
}

} // namespace livehouse::codec::flv
