// AVCDecoderConfigurationRecord parser and AVCC -> Annex B conversion; see avc.hpp.
#include "codec/flv/avc.hpp"

#include <algorithm>
#include <array>

namespace livehouse::codec::flv {

namespace {

constexpr std::array<char, 4> start_code{0, 0, 0, 1};
// AUD NAL: forbidden_zero_bit 0, nal_ref_idc 0, type 9; primary_pic_type 7 ("I, SI, P, SP, B":
// any slice type may follow) + rbsp_stop_one_bit + alignment -> 0xF0 (H.264 §7.3.2.4).
constexpr std::array<char, 6> aud_nal{0, 0, 0, 1, 0x09, static_cast<char>(0xF0)};

unsigned type_of(std::uint8_t nal_header) {
    return nal_header & 0x1FU;
}

/// Reads `count` parameter sets (UI16 length + bytes) of the given NAL type into `into`.
core::result<void> read_parameter_sets(core::byte_reader& r, std::size_t count, nal_type want,
                                       const char* what, std::vector<std::string>& into) {
    into.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
        const auto len = r.u16();
        if (!len) {
            return core::make_error(std::string(what) + " length truncated");
        }
        const auto nal = r.take(*len);
        if (!nal) {
            return core::make_error(std::string(what) + " length " + std::to_string(*len) +
                                    " overruns the record (" + std::to_string(r.remaining()) +
                                    " bytes left)");
        }
        if (nal->empty()) {
            return core::make_error(std::string("empty ") + what);
        }
        if (type_of((*nal)[0]) != static_cast<unsigned>(want)) {
            return core::make_error(std::string(what) + " has nal_unit_type " +
                                    std::to_string(type_of((*nal)[0])));
        }
        into.emplace_back(core::as_chars(*nal));
    }
    return {};
}

} // namespace

std::string avc_decoder_config::codec_string() const {
    static constexpr char hex[] = "0123456789abcdef";
    std::string s = "avc1.";
    for (const std::uint8_t b : {profile, compatibility, level}) {
        s.push_back(hex[b >> 4U]);
        s.push_back(hex[b & 0x0FU]);
    }
    return s;
}

core::result<avc_decoder_config> parse_avc_decoder_config(core::bytes_view record) {
    core::byte_reader r(record);
    avc_decoder_config c;
    const auto version = r.u8();
    const auto profile = r.u8();
    const auto compat = r.u8();
    const auto level = r.u8();
    const auto length_size = r.u8();
    const auto num_sps = r.u8();
    if (!num_sps) {
        return core::make_error("avc config: record truncated (" + std::to_string(record.size()) +
                                " < 6 bytes)");
    }
    // §5.2.4.1.1: "configurationVersion = 1". Incompatible changes bump it; refuse them.
    if (*version != 1) {
        return core::make_error("avc config: unsupported configurationVersion " +
                                std::to_string(*version));
    }
    c.version = *version;
    c.profile = *profile;
    c.compatibility = *compat;
    c.level = *level;
    // "bit(6) reserved = '111111'b; unsigned int(2) lengthSizeMinusOne;" — §5.2.4.1.2: "the
    // value of this field shall be one of 0, 1, or 3 corresponding to a length encoded with 1,
    // 2, or 4 bytes". Reserved bits are not checked: some encoders write zeros there.
    const unsigned minus_one = *length_size & 0x03U;
    if (minus_one == 2) {
        return core::make_error("avc config: lengthSizeMinusOne 2 (3-byte NAL lengths) is "
                                "not allowed");
    }
    c.nal_length_size = static_cast<std::uint8_t>(minus_one + 1);

    // "bit(3) reserved = '111'b; unsigned int(5) numOfSequenceParameterSets;" (max 31 < 32)
    const std::size_t sps_count = *num_sps & 0x1FU;
    if (auto ok = read_parameter_sets(r, sps_count, nal_type::sps, "SPS", c.sps); !ok) {
        return ok.err().wrap("avc config");
    }
    const auto num_pps = r.u8();
    if (!num_pps) {
        return core::make_error("avc config: numOfPictureParameterSets truncated");
    }
    if (*num_pps > max_parameter_sets) {
        return core::make_error("avc config: " + std::to_string(*num_pps) + " PPS > limit " +
                                std::to_string(max_parameter_sets));
    }
    if (auto ok = read_parameter_sets(r, *num_pps, nal_type::pps, "PPS", c.pps); !ok) {
        return ok.err().wrap("avc config");
    }

    std::size_t total = 0;
    for (const auto* list : {&c.sps, &c.pps}) {
        for (const auto& ps : *list) {
            total += start_code.size() + ps.size();
        }
    }
    c.annexb_parameter_sets.reserve(total);
    for (const auto* list : {&c.sps, &c.pps}) {
        for (const auto& ps : *list) {
            c.annexb_parameter_sets.append(start_code.data(), start_code.size());
            c.annexb_parameter_sets.append(ps);
        }
    }
    return c;
}

core::result<annexb_info> avcc_to_annexb(core::bytes_view au, const avc_decoder_config& config,
                                         std::string& out) {
    const std::size_t n = config.nal_length_size;
    annexb_info info;
    bool has_aud = false;
    bool has_sps = false;
    bool has_pps = false;
    std::size_t out_bytes = 0;

    // Pass 1: validate every length and learn what the AU carries, so pass 2 can size `out`
    // once and never has to undo a partial append.
    std::size_t pos = 0;
    while (pos < au.size()) {
        if (au.size() - pos < n) {
            return core::make_error("avc access unit: NAL length field truncated at offset " +
                                    std::to_string(pos));
        }
        std::size_t len = 0;
        for (std::size_t i = 0; i < n; ++i) {
            len = (len << 8U) | au[pos + i];
        }
        pos += n;
        if (len > au.size() - pos) {
            return core::make_error("avc access unit: NAL length " + std::to_string(len) +
                                    " overruns the access unit (" +
                                    std::to_string(au.size() - pos) + " bytes left)");
        }
        if (len == 0) {
            continue; // harmless padding some muxers emit; nothing to carry over
        }
        switch (static_cast<nal_type>(type_of(au[pos]))) {
        case nal_type::idr_slice:
            info.has_idr = true;
            break;
        case nal_type::sps:
            has_sps = true;
            break;
        case nal_type::pps:
            has_pps = true;
            break;
        case nal_type::access_unit_delimiter:
            has_aud = true;
            break;
        default:
            break;
        }
        ++info.nal_count;
        out_bytes += start_code.size() + len;
        pos += len;
    }
    if (info.nal_count == 0) {
        return info;
    }

    info.added_aud = !has_aud;
    info.added_parameter_sets =
        info.has_idr && !(has_sps && has_pps) && !config.annexb_parameter_sets.empty();
    if (info.added_aud) {
        out_bytes += aud_nal.size();
    }
    if (info.added_parameter_sets) {
        out_bytes += config.annexb_parameter_sets.size();
    }
    if (out.capacity() - out.size() < out_bytes) {
        // Geometric growth so a caller appending many AUs to one buffer stays amortised O(n).
        out.reserve(std::max(out.size() + out_bytes, 2 * out.capacity()));
    }

    // Pass 2: AUD first, then parameter sets before the first non-AUD NAL, then the AU.
    if (info.added_aud) {
        out.append(aud_nal.data(), aud_nal.size());
    }
    bool parameter_sets_pending = info.added_parameter_sets;
    pos = 0;
    while (pos < au.size()) {
        std::size_t len = 0;
        for (std::size_t i = 0; i < n; ++i) {
            len = (len << 8U) | au[pos + i];
        }
        pos += n;
        if (len == 0) {
            continue;
        }
        const auto nal = au.subspan(pos, len);
        pos += len;
        if (parameter_sets_pending &&
            type_of(nal[0]) != static_cast<unsigned>(nal_type::access_unit_delimiter)) {
            out.append(config.annexb_parameter_sets);
            parameter_sets_pending = false;
        }
        out.append(start_code.data(), start_code.size());
        out.append(core::as_chars(nal));
    }
    return info;
}

} // namespace livehouse::codec::flv
