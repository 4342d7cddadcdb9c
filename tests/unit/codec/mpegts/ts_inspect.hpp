// A small, independent MPEG-TS reader for the muxer tests: checks the packet layer (sync byte,
// size, continuity counters, adaptation fields, stuffing), the PSI (PAT/PMT, CRC) and reassembles
// PES packets with their decoded PTS/DTS, so tests can assert on what a demuxer would see.
// Every structural problem is collected in `errors` (tests assert it is empty).
#pragma once

#include "codec/mpegts/crc32.hpp"
#include "core/bytes.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace livehouse::codec::mpegts::testing {

struct packet_info {
    std::uint16_t pid = 0;
    bool pusi = false;
    std::uint8_t cc = 0;
    bool has_af = false;
    bool random_access = false;
    std::optional<std::int64_t> pcr; ///< base, 90 kHz
    std::size_t stuffing = 0;        ///< adaptation-field stuffing bytes
    std::size_t payload_size = 0;
};

struct pes_info {
    std::uint16_t pid = 0;
    std::uint8_t stream_id = 0;
    std::size_t length_field = 0;
    bool data_alignment = false;
    std::optional<std::int64_t> pts;
    std::optional<std::int64_t> dts;
    bool random_access = false;      ///< on its first packet
    std::optional<std::int64_t> pcr; ///< on its first packet
    std::size_t packets = 0;
    std::string payload; ///< elementary stream bytes
};

struct pmt_stream {
    std::uint8_t type = 0;
    std::uint16_t pid = 0;
    friend bool operator==(const pmt_stream&, const pmt_stream&) = default;
};

struct ts_view {
    std::vector<packet_info> packets;
    std::vector<pes_info> pes;
    std::size_t pat_count = 0;
    std::size_t pmt_count = 0;
    std::uint16_t pmt_pid = 0;
    std::uint16_t pcr_pid = 0;
    std::vector<pmt_stream> streams;
    std::vector<std::string> errors;
};

inline std::int64_t decode_timestamp(const std::uint8_t* p, unsigned prefix,
                                     std::vector<std::string>& errors) {
    if ((p[0] >> 4U) != prefix) {
        errors.push_back("timestamp prefix " + std::to_string(p[0] >> 4U) +
                         " != " + std::to_string(prefix));
    }
    if ((p[0] & 1U) == 0 || (p[2] & 1U) == 0 || (p[4] & 1U) == 0) {
        errors.push_back("timestamp marker bit missing");
    }
    return (static_cast<std::int64_t>((p[0] >> 1U) & 0x07U) << 30) |
           (static_cast<std::int64_t>(p[1]) << 22) | (static_cast<std::int64_t>(p[2] >> 1U) << 15) |
           (static_cast<std::int64_t>(p[3]) << 7) | static_cast<std::int64_t>(p[4] >> 1U);
}

inline void parse_pes(pes_info& pes, std::vector<std::string>& errors) {
    const std::string& b = pes.payload;
    const auto* p = reinterpret_cast<const std::uint8_t*>(b.data());
    if (b.size() < 9 || p[0] != 0 || p[1] != 0 || p[2] != 1) {
        errors.push_back("PES start code missing on pid " + std::to_string(pes.pid));
        return;
    }
    pes.stream_id = p[3];
    pes.length_field = (std::size_t{p[4]} << 8U) | p[5];
    if ((p[6] & 0xC0U) != 0x80U) {
        errors.push_back("PES '10' marker missing");
    }
    pes.data_alignment = (p[6] & 0x04U) != 0;
    const unsigned flags = p[7] >> 6U;
    const std::size_t hdl = p[8];
    if (b.size() < 9 + hdl) {
        errors.push_back("PES header truncated");
        return;
    }
    if (flags == 2) {
        pes.pts = decode_timestamp(p + 9, 2, errors);
    } else if (flags == 3) {
        pes.pts = decode_timestamp(p + 9, 3, errors);
        pes.dts = decode_timestamp(p + 14, 1, errors);
    } else {
        errors.push_back("PES without PTS");
    }
    if (pes.length_field != 0 && pes.length_field != b.size() - 6) {
        errors.push_back("PES_packet_length " + std::to_string(pes.length_field) +
                         " != " + std::to_string(b.size() - 6));
    }
    pes.payload.erase(0, 9 + hdl);
}

inline void parse_section(const std::uint8_t* payload, std::size_t n, ts_view& v) {
    if (n < 1 || payload[0] + 1U + 3U > n) {
        v.errors.push_back("PSI pointer_field/section header truncated");
        return;
    }
    const std::uint8_t* s = payload + 1 + payload[0];
    const std::size_t section_length = ((s[1] & 0x0FU) << 8U) | s[2];
    if (3 + section_length > n - 1 - payload[0]) {
        v.errors.push_back("PSI section overruns its packet");
        return;
    }
    if (crc32_mpeg2(core::bytes_view(s, 3 + section_length)) != 0) {
        v.errors.push_back("PSI CRC mismatch (table_id " + std::to_string(s[0]) + ")");
    }
    if (s[0] == 0x00) {
        ++v.pat_count;
        v.pmt_pid = static_cast<std::uint16_t>(((s[10] & 0x1FU) << 8U) | s[11]);
        if (section_length != 13 || s[8] != 0 || s[9] != 1) {
            v.errors.push_back("PAT is not one program numbered 1");
        }
    } else if (s[0] == 0x02) {
        ++v.pmt_count;
        v.pcr_pid = static_cast<std::uint16_t>(((s[8] & 0x1FU) << 8U) | s[9]);
        const std::size_t info_len = ((s[10] & 0x0FU) << 8U) | s[11];
        std::vector<pmt_stream> streams;
        for (std::size_t i = 12 + info_len; i + 5 <= 3 + section_length - 4; i += 5) {
            streams.push_back(
                {s[i], static_cast<std::uint16_t>(((s[i + 1] & 0x1FU) << 8U) | s[i + 2])});
        }
        v.streams = streams;
    } else {
        v.errors.push_back("unexpected table_id " + std::to_string(s[0]));
    }
}

inline ts_view inspect(const std::string& ts) {
    ts_view v;
    if (ts.size() % 188 != 0) {
        v.errors.push_back("size " + std::to_string(ts.size()) + " is not a multiple of 188");
    }
    std::map<std::uint16_t, int> last_cc;
    std::map<std::uint16_t, std::size_t> open_pes; // pid -> index in v.pes
    for (std::size_t off = 0; off + 188 <= ts.size(); off += 188) {
        const auto* p = reinterpret_cast<const std::uint8_t*>(ts.data() + off);
        packet_info pk;
        if (p[0] != 0x47) {
            v.errors.push_back("no sync byte at " + std::to_string(off));
            continue;
        }
        pk.pusi = (p[1] & 0x40U) != 0;
        pk.pid = static_cast<std::uint16_t>(((p[1] & 0x1FU) << 8U) | p[2]);
        const unsigned afc = (p[3] >> 4U) & 0x03U;
        pk.cc = p[3] & 0x0FU;
        pk.has_af = (afc & 2U) != 0;
        const bool has_payload = (afc & 1U) != 0;
        std::size_t pos = 4;
        if (pk.has_af) {
            const std::size_t len = p[4];
            if (len > 183) {
                v.errors.push_back("adaptation_field_length " + std::to_string(len));
                continue;
            }
            if (len > 0) {
                const unsigned flags = p[5];
                pk.random_access = (flags & 0x40U) != 0;
                std::size_t q = 6;
                if ((flags & 0x10U) != 0) {
                    const std::int64_t base =
                        (std::int64_t{p[6]} << 25) | (std::int64_t{p[7]} << 17) |
                        (std::int64_t{p[8]} << 9) | (std::int64_t{p[9]} << 1) | (p[10] >> 7U);
                    pk.pcr = base;
                    q += 6;
                }
                for (; q < 5 + len; ++q) {
                    if (p[q] != 0xFF) {
                        v.errors.push_back("non-0xFF stuffing byte");
                        break;
                    }
                    ++pk.stuffing;
                }
            } else {
                pk.stuffing = 1; // a lone adaptation_field_length of 0 is one stuffing byte
            }
            pos = 5 + len;
        }
        pk.payload_size = has_payload ? 188 - pos : 0;
        if (has_payload) {
            // §2.4.3.3: the counter increments by one per payload-carrying packet of a PID.
            if (auto it = last_cc.find(pk.pid);
                it != last_cc.end() && pk.cc != ((it->second + 1) & 0x0F)) {
                v.errors.push_back("continuity error on pid " + std::to_string(pk.pid) + " at " +
                                   std::to_string(off));
            }
            last_cc[pk.pid] = pk.cc;
        }
        if (pk.pid == 0 || (v.pmt_pid != 0 && pk.pid == v.pmt_pid)) {
            if (!pk.pusi) {
                v.errors.push_back("PSI packet without payload_unit_start_indicator");
            }
            parse_section(p + pos, 188 - pos, v);
        } else if (has_payload) {
            if (pk.pusi) {
                open_pes[pk.pid] = v.pes.size();
                pes_info pes;
                pes.pid = pk.pid;
                pes.random_access = pk.random_access;
                pes.pcr = pk.pcr;
                v.pes.push_back(pes);
            }
            if (auto it = open_pes.find(pk.pid); it != open_pes.end()) {
                auto& pes = v.pes[it->second];
                pes.payload.append(reinterpret_cast<const char*>(p + pos), 188 - pos);
                ++pes.packets;
            } else {
                v.errors.push_back("payload before the first PES start on pid " +
                                   std::to_string(pk.pid));
            }
        }
        v.packets.push_back(pk);
    }
    for (auto& pes : v.pes) {
        parse_pes(pes, v.errors);
    }
    return v;
}

} // namespace livehouse::codec::mpegts::testing
