// MPEG-TS muxer; see ts_muxer.hpp. Clause numbers are ISO/IEC 13818-1 (2019).
#include "codec/mpegts/ts_muxer.hpp"

#include "codec/mpegts/crc32.hpp"

#include <algorithm>
#include <array>
#include <cstring>

namespace livehouse::codec::mpegts {

namespace {

constexpr std::uint8_t sync_byte = 0x47;
constexpr std::size_t header_size = 4;
constexpr std::size_t payload_capacity = packet_size - header_size; // 184
constexpr std::uint16_t pat_pid = 0x0000;
constexpr std::uint16_t null_pcr_pid = 0x1FFF; // §2.4.4.9: "no PCR ... 0x1FFF"
constexpr std::uint8_t stream_id_video = 0xE0; // Table 2-22: 1110 xxxx, video stream 0
constexpr std::uint8_t stream_id_audio = 0xC0; // 110x xxxx, audio stream 0
constexpr std::size_t pcr_field_size = 6;
constexpr std::size_t max_pes_header = 19; // 9 fixed + PTS 5 + DTS 5

/// Makes room for `n` more bytes at the end of `out` and returns a pointer to them. Growth is
/// geometric so a segment built from many calls stays amortised O(size).
std::uint8_t* extend(std::string& out, std::size_t n) {
    const std::size_t base = out.size();
    if (out.capacity() - base < n) {
        out.reserve(std::max(base + n, 2 * out.capacity()));
    }
    out.resize(base + n);
    return reinterpret_cast<std::uint8_t*>(out.data() + base);
}

/// §2.4.3.7 PTS/DTS: '00xx' prefix (4 bits), TS[32..30], marker, TS[29..15], marker, TS[14..0],
/// marker.
void put_timestamp(std::uint8_t* p, unsigned prefix, std::int64_t ts) {
    const auto t = static_cast<std::uint64_t>(ts & timestamp_mask);
    p[0] = static_cast<std::uint8_t>((prefix << 4U) | (((t >> 30U) & 0x07U) << 1U) | 1U);
    p[1] = static_cast<std::uint8_t>(t >> 22U);
    p[2] = static_cast<std::uint8_t>((((t >> 15U) & 0x7FU) << 1U) | 1U);
    p[3] = static_cast<std::uint8_t>(t >> 7U);
    p[4] = static_cast<std::uint8_t>(((t & 0x7FU) << 1U) | 1U);
}

/// §2.4.3.5 program_clock_reference_base (33) + reserved (6, all ones) + extension (9, zero).
void put_pcr(std::uint8_t* p, std::int64_t base90k) {
    const auto b = static_cast<std::uint64_t>(base90k & timestamp_mask);
    p[0] = static_cast<std::uint8_t>(b >> 25U);
    p[1] = static_cast<std::uint8_t>(b >> 17U);
    p[2] = static_cast<std::uint8_t>(b >> 9U);
    p[3] = static_cast<std::uint8_t>(b >> 1U);
    p[4] = static_cast<std::uint8_t>(((b & 1U) << 7U) | 0x7EU);
    p[5] = 0;
}

/// One packet carrying a whole PSI section: header, pointer_field 0, the section (CRC appended
/// here), 0xFF fill (§2.4.4: "stuffing bytes ... 0xFF" after the last section).
void write_section_packet(std::uint16_t pid, std::uint8_t& cc, const std::uint8_t* section,
                          std::size_t section_len, std::string& out) {
    std::uint8_t* p = extend(out, packet_size);
    p[0] = sync_byte;
    p[1] = static_cast<std::uint8_t>(0x40U | (pid >> 8U)); // payload_unit_start_indicator
    p[2] = static_cast<std::uint8_t>(pid & 0xFFU);
    p[3] = static_cast<std::uint8_t>(0x10U | cc); // payload only
    cc = static_cast<std::uint8_t>((cc + 1U) & 0x0FU);
    p[4] = 0; // pointer_field: the section starts right after it
    std::memcpy(p + 5, section, section_len);
    const std::uint32_t crc = crc32_mpeg2(core::bytes_view(section, section_len));
    std::uint8_t* c = p + 5 + section_len;
    c[0] = static_cast<std::uint8_t>(crc >> 24U);
    c[1] = static_cast<std::uint8_t>(crc >> 16U);
    c[2] = static_cast<std::uint8_t>(crc >> 8U);
    c[3] = static_cast<std::uint8_t>(crc);
    std::memset(c + 4, 0xFF, packet_size - (5 + section_len + 4));
}

} // namespace

ts_muxer::ts_muxer(stream_set streams) : streams_(streams) {}

std::uint16_t ts_muxer::pcr_pid() const {
    if (streams_.video) {
        return video_pid;
    }
    return streams_.audio ? audio_pid : null_pcr_pid;
}

std::uint8_t& ts_muxer::cc_for(std::uint16_t pid) {
    return pid == video_pid ? cc_video_ : cc_audio_;
}

void ts_muxer::write_tables(std::string& out) {
    // §2.4.4.3 program_association_section: one program, number 1 -> PMT PID.
    // section_length counts the bytes after it, CRC included: 5 + 4 (program) + 4 (CRC).
    const std::array<std::uint8_t, 12> pat{
        0x00, // table_id: program_association_section
        0xB0,
        13, // section_syntax_indicator 1, '0', '11'
        0x00,
        0x01, // transport_stream_id 1
        0xC1, // '11', version_number 0, current_next 1
        0x00,
        0x00, // section_number, last_section_number
        0x00,
        0x01,                                               // program_number 1
        static_cast<std::uint8_t>(0xE0U | (pmt_pid >> 8U)), // '111' + program_map_PID
        static_cast<std::uint8_t>(pmt_pid & 0xFFU)};
    write_section_packet(pat_pid, cc_pat_, pat.data(), pat.size(), out);

    // §2.4.4.8 TS_program_map_section: PCR_PID, no program descriptors, then one 5-byte entry
    // per elementary stream (stream_type, '111' + elementary_PID, '1111' + ES_info_length 0).
    std::array<std::uint8_t, 12 + 2 * 5> pmt{};
    std::size_t n = 0;
    const std::size_t streams = (streams_.video ? 1U : 0U) + (streams_.audio ? 1U : 0U);
    const std::size_t section_length = 9 + 5 * streams + 4;
    const std::uint16_t pcr = pcr_pid();
    pmt[n++] = 0x02; // table_id: TS_program_map_section
    pmt[n++] = static_cast<std::uint8_t>(0xB0U | (section_length >> 8U));
    pmt[n++] = static_cast<std::uint8_t>(section_length & 0xFFU);
    pmt[n++] = 0x00; // program_number 1
    pmt[n++] = 0x01;
    pmt[n++] = 0xC1; // '11', version_number 0, current_next_indicator 1
    pmt[n++] = 0x00; // section_number
    pmt[n++] = 0x00; // last_section_number
    pmt[n++] = static_cast<std::uint8_t>(0xE0U | (pcr >> 8U));
    pmt[n++] = static_cast<std::uint8_t>(pcr & 0xFFU);
    pmt[n++] = 0xF0; // '1111' + program_info_length 0
    pmt[n++] = 0x00;
    const auto add_stream = [&](std::uint8_t type, std::uint16_t pid) {
        pmt[n++] = type;
        pmt[n++] = static_cast<std::uint8_t>(0xE0U | (pid >> 8U));
        pmt[n++] = static_cast<std::uint8_t>(pid & 0xFFU);
        pmt[n++] = 0xF0;
        pmt[n++] = 0x00;
    };
    if (streams_.video) {
        add_stream(stream_type_h264, video_pid);
    }
    if (streams_.audio) {
        add_stream(stream_type_aac_adts, audio_pid);
    }
    write_section_packet(pmt_pid, cc_pmt_, pmt.data(), n, out);

    // A segment must carry a PCR before its first access unit is due.
    pcr_due_ = true;
}

bool ts_muxer::take_pcr(std::int64_t dts, bool force) {
    // Backwards jumps (a republish restarting at 0) also force one, so the interval test never
    // sees a negative gap; the gap is computed unsigned so no input can overflow it.
    if (force || pcr_due_ || dts < last_pcr_ ||
        static_cast<std::uint64_t>(dts) - static_cast<std::uint64_t>(last_pcr_) >=
            static_cast<std::uint64_t>(pcr_interval_90k)) {
        last_pcr_ = dts;
        pcr_due_ = false;
        return true;
    }
    return false;
}

void ts_muxer::write_video(std::int64_t pts, std::int64_t dts, bool keyframe,
                           core::bytes_view annexb, std::string& out) {
    const bool with_pcr = pcr_pid() == video_pid && take_pcr(dts, keyframe);
    // §2.4.3.7: PTS_DTS_flags '11' only when the two differ; equal DTS "shall not be present".
    const bool with_dts = (pts & timestamp_mask) != (dts & timestamp_mask);
    write_pes(video_pid, stream_id_video, pts, dts, with_dts, keyframe, with_pcr, annexb, out);
}

void ts_muxer::write_audio(std::int64_t pts, core::bytes_view adts, std::string& out) {
    const bool with_pcr = pcr_pid() == audio_pid && take_pcr(pts, false);
    // Audio-only: every AAC frame is a random access point; mark the ones that carry a PCR,
    // which include the first of each segment.
    write_pes(audio_pid, stream_id_audio, pts, pts, false, with_pcr, with_pcr, adts, out);
}

void ts_muxer::write_pes(std::uint16_t pid, std::uint8_t stream_id, std::int64_t pts,
                         std::int64_t dts, bool with_dts, bool random_access, bool with_pcr,
                         core::bytes_view payload, std::string& out) {
    // §2.4.3.6 PES_packet(): start code prefix, stream_id, PES_packet_length, then '10',
    // scrambling 00, priority 0, data_alignment_indicator 1 (each PES starts an access unit /
    // ADTS frame), copyright 0, original 0; PTS_DTS_flags; PES_header_data_length; PTS [DTS].
    std::array<std::uint8_t, max_pes_header> h{};
    const std::size_t header_data_length = with_dts ? 10 : 5;
    const std::size_t h_len = 9 + header_data_length;
    const std::size_t after_length_field = 3 + header_data_length + payload.size();
    // "A value of 0 indicates that the PES packet length is neither specified nor bounded and
    // is allowed only in PES packets whose payload consists of bytes from a video elementary
    // stream contained in transport stream packets."
    const std::size_t pes_length = after_length_field > 0xFFFF ? 0 : after_length_field;
    h[0] = 0x00;
    h[1] = 0x00;
    h[2] = 0x01;
    h[3] = stream_id;
    h[4] = static_cast<std::uint8_t>(pes_length >> 8U);
    h[5] = static_cast<std::uint8_t>(pes_length & 0xFFU);
    h[6] = 0x84;
    h[7] = with_dts ? 0xC0 : 0x80;
    h[8] = static_cast<std::uint8_t>(header_data_length);
    put_timestamp(&h[9], with_dts ? 0x3 : 0x2, pts);
    if (with_dts) {
        put_timestamp(&h[14], 0x1, dts);
    }

    // The first packet may need an adaptation field for random_access_indicator/PCR: its
    // length byte + flags byte + 6 PCR bytes. Every packet is then filled to 184 bytes of
    // payload, except the last, whose shortfall becomes adaptation-field stuffing (§2.4.3.5:
    // "stuffing_byte ... 0xFF"), the only stuffing TS allows for PES.
    const std::size_t first_af =
        (random_access || with_pcr) ? 2 + (with_pcr ? pcr_field_size : 0) : 0;
    const std::size_t total = h_len + payload.size();
    const std::size_t first_room = payload_capacity - first_af;
    const std::size_t packets =
        total <= first_room ? 1
                            : 1 + (total - first_room + payload_capacity - 1) / payload_capacity;

    std::uint8_t* p = extend(out, packets * packet_size);
    std::uint8_t& cc = cc_for(pid);
    std::size_t pos = 0; // offset into header ++ payload
    for (std::size_t i = 0; i < packets; ++i, p += packet_size) {
        const bool first = i == 0;
        const std::size_t room = payload_capacity - (first ? first_af : 0);
        const std::size_t chunk = std::min(room, total - pos);
        const std::size_t af_total = payload_capacity - chunk; // 0, or length byte + field

        p[0] = sync_byte;
        p[1] = static_cast<std::uint8_t>((first ? 0x40U : 0U) | (pid >> 8U));
        p[2] = static_cast<std::uint8_t>(pid & 0xFFU);
        // adaptation_field_control '11' (field + payload) or '01' (payload only). §2.4.3.3:
        // continuity_counter "shall not be incremented when adaptation_field_control is '00'
        // or '10'"; every packet here carries payload, so each increments it.
        p[3] = static_cast<std::uint8_t>((af_total > 0 ? 0x30U : 0x10U) | cc);
        cc = static_cast<std::uint8_t>((cc + 1U) & 0x0FU);

        std::uint8_t* q = p + header_size;
        if (af_total > 0) {
            q[0] = static_cast<std::uint8_t>(af_total - 1); // adaptation_field_length
            if (af_total > 1) {
                std::uint8_t flags = 0;
                std::uint8_t* w = q + 2;
                if (first && random_access) {
                    flags |= 0x40U; // random_access_indicator
                }
                if (first && with_pcr) {
                    flags |= 0x10U; // PCR_flag
                    put_pcr(w, dts);
                    w += pcr_field_size;
                }
                q[1] = flags;
                std::memset(w, 0xFF, static_cast<std::size_t>(q + af_total - w));
            }
            q += af_total;
        }

        // Copy `chunk` bytes of header ++ payload.
        std::size_t left = chunk;
        if (pos < h_len) {
            const std::size_t n = std::min(left, h_len - pos);
            std::memcpy(q, h.data() + pos, n);
            q += n;
            pos += n;
            left -= n;
        }
        if (left > 0) {
            std::memcpy(q, payload.data() + (pos - h_len), left);
            pos += left;
        }
    }
}

} // namespace livehouse::codec::mpegts
