// AudioSpecificConfig parser and ADTS header writer; see aac.hpp.
#include "codec/flv/aac.hpp"

#include <array>

namespace livehouse::codec::flv {

namespace {

// ISO/IEC 14496-3 Table 1.18 (samplingFrequencyIndex); 0xD, 0xE reserved, 0xF escape.
constexpr std::array<std::uint32_t, 13> sampling_rates{
    96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350};

/// MSB-first bit reader over a byte span; every read is bounds-checked.
class bit_reader {
  public:
    explicit bit_reader(core::bytes_view data) : data_(data) {}

    /// Reads `n` <= 32 bits; nullopt (and no progress) past the end.
    std::optional<std::uint32_t> bits(unsigned n) {
        if (n > data_.size() * 8 - pos_) {
            return std::nullopt;
        }
        std::uint32_t v = 0;
        for (unsigned i = 0; i < n; ++i, ++pos_) {
            const unsigned bit = (data_[pos_ / 8] >> (7U - pos_ % 8U)) & 1U;
            v = (v << 1U) | bit;
        }
        return v;
    }

  private:
    core::bytes_view data_;
    std::size_t pos_ = 0;
};

/// §1.6.2.1 GetAudioObjectType(): 5 bits, escape 31 -> 32 + 6 bits.
std::optional<std::uint32_t> read_object_type(bit_reader& r) {
    auto aot = r.bits(5);
    if (aot && *aot == 31) {
        auto ext = r.bits(6);
        if (!ext) {
            return std::nullopt;
        }
        return 32 + *ext;
    }
    return aot;
}

/// samplingFrequencyIndex, with the 24-bit explicit frequency mapped back onto the table.
core::result<std::uint8_t> read_sampling_index(bit_reader& r) {
    const auto index = r.bits(4);
    if (!index) {
        return core::make_error("samplingFrequencyIndex truncated");
    }
    if (*index == 0xF) {
        const auto hz = r.bits(24);
        if (!hz) {
            return core::make_error("samplingFrequency truncated");
        }
        // ADTS has only the 4-bit index, so an explicit rate must be one of the table's.
        for (std::size_t i = 0; i < sampling_rates.size(); ++i) {
            if (sampling_rates[i] == *hz) {
                return static_cast<std::uint8_t>(i);
            }
        }
        return core::make_error("explicit samplingFrequency " + std::to_string(*hz) +
                                " Hz has no samplingFrequencyIndex");
    }
    if (*index >= sampling_rates.size()) {
        return core::make_error("reserved samplingFrequencyIndex " + std::to_string(*index));
    }
    return static_cast<std::uint8_t>(*index);
}

bool has_ga_specific_config(std::uint32_t aot) {
    // §1.6.2.1 AudioSpecificConfig(): "case 1: case 2: case 3: case 4: case 6: case 7: case 17:
    // case 19: case 20: case 21: case 22: case 23: GASpecificConfig();"
    switch (aot) {
    case 1:
    case 2:
    case 3:
    case 4:
    case 6:
    case 7:
    case 17:
    case 19:
    case 20:
    case 21:
    case 22:
    case 23:
        return true;
    default:
        return false;
    }
}

} // namespace

std::optional<std::uint32_t> sample_rate_hz(std::uint8_t sampling_index) {
    if (sampling_index >= sampling_rates.size()) {
        return std::nullopt;
    }
    return sampling_rates[sampling_index];
}

std::string audio_specific_config::codec_string() const {
    const unsigned aot = ps ? 29U : (sbr ? 5U : object_type);
    return "mp4a.40." + std::to_string(aot);
}

core::result<audio_specific_config> parse_audio_specific_config(core::bytes_view asc) {
    bit_reader r(asc);
    audio_specific_config c;
    auto aot = read_object_type(r);
    if (!aot) {
        return core::make_error("aac config: audioObjectType truncated");
    }
    if (*aot == 0) {
        return core::make_error("aac config: audioObjectType 0 (null object)");
    }
    auto index = read_sampling_index(r);
    if (!index) {
        return index.err().wrap("aac config");
    }
    const auto channels = r.bits(4);
    if (!channels) {
        return core::make_error("aac config: channelConfiguration truncated");
    }
    if (*channels == 0) {
        return core::make_error("aac config: channelConfiguration 0 (program config element) "
                                "is not supported");
    }
    if (*channels > 7) {
        return core::make_error("aac config: reserved channelConfiguration " +
                                std::to_string(*channels));
    }
    c.sampling_index = *index;
    c.sample_rate = sampling_rates[*index];
    c.output_sample_rate = c.sample_rate;
    c.channel_config = static_cast<std::uint8_t>(*channels);

    // §1.6.2.1: "if (audioObjectType == 5 || audioObjectType == 29) { extensionAudioObjectType
    // = 5; sbrPresentFlag = 1; ... extensionSamplingFrequencyIndex; ... audioObjectType =
    // GetAudioObjectType(); if (audioObjectType == 22) extensionChannelConfiguration; }"
    if (*aot == 5 || *aot == 29) {
        c.sbr = true;
        c.ps = *aot == 29;
        auto ext_index = read_sampling_index(r);
        if (!ext_index) {
            return ext_index.err().wrap("aac config: SBR extension");
        }
        c.output_sample_rate = sampling_rates[*ext_index];
        aot = read_object_type(r);
        if (!aot) {
            return core::make_error("aac config: SBR core audioObjectType truncated");
        }
        if (*aot == 0 || *aot == 5 || *aot == 29) {
            return core::make_error("aac config: invalid SBR core audioObjectType " +
                                    std::to_string(*aot));
        }
        if (*aot == 22 && !r.bits(4)) {
            return core::make_error("aac config: extensionChannelConfiguration truncated");
        }
    }
    c.object_type = static_cast<std::uint8_t>(*aot);

    // GASpecificConfig §4.4.1: "frameLengthFlag: 0 -> 1024/128 lines, 1 -> 960/120 lines".
    // A 2-byte config ends exactly here for AAC LC, so absence means the default.
    if (has_ga_specific_config(*aot)) {
        if (auto frame_length_flag = r.bits(1); frame_length_flag && *frame_length_flag == 1) {
            c.samples_per_frame = 960;
        }
    }
    return c;
}

core::result<void> write_adts_header(const audio_specific_config& config, std::size_t raw_size,
                                     std::string& out) {
    // Table 1.A.6: profile_ObjectType is "audioObjectType - 1" in 2 bits: Main, LC, SSR, LTP.
    if (config.object_type < 1 || config.object_type > 4) {
        return core::make_error("adts: audioObjectType " + std::to_string(config.object_type) +
                                " cannot be carried in ADTS (only 1..4)");
    }
    if (raw_size > max_adts_frame_size - adts_header_size) {
        return core::make_error("adts: raw frame of " + std::to_string(raw_size) +
                                " bytes exceeds the 13-bit aac_frame_length");
    }
    const unsigned profile = config.object_type - 1U;
    const unsigned sfi = config.sampling_index & 0x0FU;
    const unsigned ch = config.channel_config & 0x07U;
    const auto len = static_cast<unsigned>(raw_size + adts_header_size);
    constexpr unsigned fullness = 0x7FF; // "0x7FF signals a variable rate bitstream"

    // adts_fixed_header(): syncword 0xFFF, ID 0 (MPEG-4), layer 00, protection_absent 1,
    // profile_ObjectType(2), sampling_frequency_index(4), private_bit 0,
    // channel_configuration(3), original_copy 0, home 0; adts_variable_header():
    // copyright_identification_bit 0, copyright_identification_start 0, aac_frame_length(13),
    // adts_buffer_fullness(11), number_of_raw_data_blocks_in_frame(2) = 0 (one block).
    const std::array<char, adts_header_size> h{
        static_cast<char>(0xFF),
        static_cast<char>(0xF1),
        static_cast<char>((profile << 6U) | (sfi << 2U) | (ch >> 2U)),
        static_cast<char>(((ch & 0x3U) << 6U) | (len >> 11U)),
        static_cast<char>((len >> 3U) & 0xFFU),
        static_cast<char>(((len & 0x7U) << 5U) | (fullness >> 6U)),
        static_cast<char>((fullness & 0x3FU) << 2U),
    };
    out.append(h.data(), h.size());
    return {};
}

core::result<void> append_adts_frame(const audio_specific_config& config, core::bytes_view raw,
                                     std::string& out) {
    if (auto ok = write_adts_header(config, raw.size(), out); !ok) {
        return ok;
    }
    out.append(core::as_chars(raw));
    return {};
}

} // namespace livehouse::codec::flv
