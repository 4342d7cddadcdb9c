// ts_muxer: tables (byte-exact PAT, PMT per stream set, CRCs), PES headers and timestamps,
// packetization at every payload size around the packet boundaries, stuffing, continuity
// counters, PCR and random_access_indicator placement. Checked with the independent reader in
// ts_inspect.hpp.
#include "codec/mpegts/ts_muxer.hpp"
#include "ts_inspect.hpp"

#include <gtest/gtest.h>

namespace livehouse::codec::mpegts {
namespace {

using testing::inspect;
using testing::pmt_stream;

std::string pattern(std::size_t n, unsigned seed = 1) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i) {
        s[i] = static_cast<char>((i * 31U + seed) & 0xFFU);
    }
    return s;
}

TEST(ts_muxer, pat_matches_ffmpeg_byte_for_byte) {
    ts_muxer mux({.video = true, .audio = true});
    std::string out;
    mux.write_tables(out);
    ASSERT_EQ(out.size(), 2 * packet_size);
    // First packet of `ffmpeg -i av.flv -c copy x.ts` after its SDT: same PAT, same CRC.
    const std::string pat("\x47\x40\x00\x10\x00\x00\xB0\x0D\x00\x01\xC1\x00\x00\x00\x01\xF0\x00"
                          "\x2A\xB1\x04\xB2",
                          21);
    EXPECT_EQ(out.substr(0, pat.size()), pat);
    EXPECT_EQ(out.substr(pat.size(), 188 - pat.size()), std::string(188 - pat.size(), '\xFF'));
}

TEST(ts_muxer, pmt_per_stream_set) {
    struct expectation {
        stream_set set;
        std::uint16_t pcr_pid;
        std::vector<pmt_stream> streams;
    };
    const std::vector<expectation> cases = {
        {{.video = true, .audio = true}, video_pid, {{0x1B, video_pid}, {0x0F, audio_pid}}},
        {{.video = true, .audio = false}, video_pid, {{0x1B, video_pid}}},
        {{.video = false, .audio = true}, audio_pid, {{0x0F, audio_pid}}},
        {{.video = false, .audio = false}, 0x1FFF, {}},
    };
    for (const auto& c : cases) {
        ts_muxer mux(c.set);
        EXPECT_EQ(mux.pcr_pid(), c.pcr_pid);
        std::string out;
        mux.write_tables(out);
        const auto v = inspect(out);
        EXPECT_TRUE(v.errors.empty()) << v.errors.front();
        EXPECT_EQ(v.pat_count, 1U);
        EXPECT_EQ(v.pmt_count, 1U);
        EXPECT_EQ(v.pmt_pid, pmt_pid);
        EXPECT_EQ(v.pcr_pid, c.pcr_pid);
        EXPECT_EQ(v.streams, c.streams);
    }
}

TEST(ts_muxer, table_continuity_counters_wrap) {
    ts_muxer mux({.video = true, .audio = true});
    std::string out;
    for (int i = 0; i < 40; ++i) {
        mux.write_tables(out);
    }
    const auto v = inspect(out);
    EXPECT_TRUE(v.errors.empty()) << v.errors.front();
    ASSERT_EQ(v.packets.size(), 80U);
    EXPECT_EQ(v.packets[0].cc, 0);
    EXPECT_EQ(v.packets[2 * 17].cc, 1); // 17th PAT: wrapped past 15
    EXPECT_EQ(v.pat_count, 40U);
}

TEST(ts_muxer, video_pts_and_dts) {
    ts_muxer mux({.video = true, .audio = false});
    std::string out;
    mux.write_video(3000 + 7200, 3000, true, core::as_bytes(pattern(100)), out);
    mux.write_video(6600, 6600, false, core::as_bytes(pattern(100)), out);
    const auto v = inspect(out);
    ASSERT_TRUE(v.errors.empty()) << v.errors.front();
    ASSERT_EQ(v.pes.size(), 2U);
    EXPECT_EQ(v.pes[0].stream_id, 0xE0);
    EXPECT_EQ(v.pes[0].pts, 10200);
    EXPECT_EQ(v.pes[0].dts, 3000);
    EXPECT_TRUE(v.pes[0].data_alignment);
    EXPECT_EQ(v.pes[1].pts, 6600);
    EXPECT_FALSE(v.pes[1].dts) << "DTS equal to PTS must be omitted";
}

TEST(ts_muxer, timestamps_wrap_at_33_bits) {
    ts_muxer mux({.video = true, .audio = true});
    std::string out;
    const std::int64_t wrap = std::int64_t{1} << 33;
    mux.write_video(wrap + 5, wrap + 2, true, core::as_bytes("x"), out);
    mux.write_video(-1, -1, false, core::as_bytes("x"), out);
    mux.write_audio(wrap * 3 + 123456, core::as_bytes("y"), out);
    const auto v = inspect(out);
    ASSERT_TRUE(v.errors.empty()) << v.errors.front();
    ASSERT_EQ(v.pes.size(), 3U);
    EXPECT_EQ(v.pes[0].pts, 5);
    EXPECT_EQ(v.pes[0].dts, 2);
    EXPECT_EQ(v.pes[0].pcr, 2);
    EXPECT_EQ(v.pes[1].pts, wrap - 1);
    EXPECT_EQ(v.pes[2].pts, 123456);
    EXPECT_EQ(v.pes[2].stream_id, 0xC0);
    EXPECT_FALSE(v.pes[2].dts);
    // Max 33-bit value round-trips.
    out.clear();
    mux.write_video(wrap - 1, wrap - 2, false, core::as_bytes("x"), out);
    const auto w = inspect(out);
    ASSERT_TRUE(w.errors.empty());
    EXPECT_EQ(w.pes[0].pts, wrap - 1);
    EXPECT_EQ(w.pes[0].dts, wrap - 2);
}

// Every payload size over the first few packets, with and without the first packet's
// adaptation field: the payload must come back intact, every packet is 188 bytes, only the
// last packet of a PES is stuffed, and PES_packet_length is exact.
TEST(ts_muxer, packetizes_every_size_around_boundaries) {
    for (const bool keyframe : {false, true}) {
        ts_muxer mux({.video = true, .audio = true});
        std::string out;
        std::size_t expected_pes = 0;
        for (std::size_t n = 0; n <= 3 * 184 + 20; ++n) {
            const auto payload = pattern(n, static_cast<unsigned>(n));
            out.clear();
            // Alternate tracks so both PIDs' counters are exercised.
            if (n % 2 == 0) {
                const auto t = static_cast<std::int64_t>(n) * 3600;
                mux.write_video(t, t, keyframe, core::as_bytes(payload), out);
            } else {
                mux.write_audio(static_cast<std::int64_t>(n) * 3600, core::as_bytes(payload), out);
            }
            ++expected_pes;
            const auto v = inspect(out);
            ASSERT_TRUE(v.errors.empty()) << "size " << n << ": " << v.errors.front();
            ASSERT_EQ(v.pes.size(), 1U);
            const auto& pes = v.pes[0];
            ASSERT_EQ(pes.payload, payload) << "size " << n;
            EXPECT_EQ(pes.length_field, 3 + 5 + n);
            // Video also carries a PCR here (DTS advances 80 ms per video PES); keyframes the
            // random access flag. Audio (not the PCR PID) carries neither.
            const auto& first = v.packets.front();
            if (n % 2 == 0) {
                EXPECT_TRUE(first.pcr) << "size " << n;
                EXPECT_EQ(first.random_access, keyframe) << "size " << n;
            } else {
                EXPECT_FALSE(first.pcr || first.random_access) << "size " << n;
            }
            // Minimal packet count: no packet carries less than it could.
            const std::size_t first_af = first.pcr ? 8 : (first.random_access ? 2 : 0);
            const std::size_t total = 14 + n;
            const std::size_t expect_packets =
                total <= 184 - first_af ? 1 : 1 + (total - (184 - first_af) + 183) / 184;
            EXPECT_EQ(v.packets.size(), expect_packets) << "size " << n;
            for (std::size_t i = 0; i + 1 < v.packets.size(); ++i) {
                EXPECT_EQ(v.packets[i].stuffing, 0U) << "size " << n << " packet " << i;
            }
            EXPECT_TRUE(v.packets.front().pusi);
            for (std::size_t i = 1; i < v.packets.size(); ++i) {
                EXPECT_FALSE(v.packets[i].pusi);
            }
        }
        EXPECT_GT(expected_pes, 0U);
    }
}

TEST(ts_muxer, continuity_counters_per_pid_across_calls) {
    ts_muxer mux({.video = true, .audio = true});
    std::string out;
    mux.write_tables(out);
    for (int i = 0; i < 30; ++i) {
        mux.write_video(i * 3600, i * 3600, i % 10 == 0, core::as_bytes(pattern(700)), out);
        mux.write_audio(i * 3600, core::as_bytes(pattern(150)), out);
        if (i % 10 == 9) {
            mux.write_tables(out); // a segment boundary in the middle of the stream
        }
    }
    // inspect() flags any counter that does not advance by one per PID.
    const auto v = inspect(out);
    EXPECT_TRUE(v.errors.empty()) << v.errors.front();
    EXPECT_EQ(v.pes.size(), 60U);
    std::map<std::uint16_t, std::size_t> per_pid;
    for (const auto& p : v.packets) {
        ++per_pid[p.pid];
    }
    EXPECT_EQ(per_pid[video_pid], 30U * 4); // 700 + 14 (+8 AF on keys) bytes: 4 packets
    EXPECT_EQ(per_pid[audio_pid], 30U);
}

TEST(ts_muxer, large_video_pes_has_unbounded_length) {
    ts_muxer mux({.video = true, .audio = false});
    std::string out;
    const auto big = pattern(70000);
    mux.write_video(0, 0, true, core::as_bytes(big), out);
    const auto v = inspect(out);
    ASSERT_TRUE(v.errors.empty()) << v.errors.front();
    ASSERT_EQ(v.pes.size(), 1U);
    EXPECT_EQ(v.pes[0].length_field, 0U); // §2.4.3.7: 0 allowed for video only
    EXPECT_EQ(v.pes[0].payload, big);
}

TEST(ts_muxer, pcr_and_random_access_on_keyframes) {
    ts_muxer mux({.video = true, .audio = true});
    std::string out;
    mux.write_tables(out);
    mux.write_video(9000, 9000, true, core::as_bytes(pattern(1000)), out);      // key: PCR
    mux.write_audio(9000, core::as_bytes(pattern(200)), out);                   // never PCR
    mux.write_video(9000 + 3000, 9000 + 3000, false, core::as_bytes("x"), out); // 33 ms: none
    mux.write_video(9000 + 3600, 9000 + 3600, false, core::as_bytes("x"), out); // 40 ms: PCR
    mux.write_video(9000 + 4000, 9000 + 4000, true, core::as_bytes("x"), out);  // key: PCR
    mux.write_tables(out);
    mux.write_video(9000 + 4100, 9000 + 4100, false, core::as_bytes("x"), out); // after tables
    mux.write_video(100, 100, false, core::as_bytes("x"), out);                 // backwards
    const auto v = inspect(out);
    ASSERT_TRUE(v.errors.empty()) << v.errors.front();
    ASSERT_EQ(v.pes.size(), 7U);
    EXPECT_EQ(v.pes[0].pcr, 9000);
    EXPECT_TRUE(v.pes[0].random_access);
    EXPECT_FALSE(v.pes[1].pcr);
    EXPECT_FALSE(v.pes[1].random_access);
    EXPECT_FALSE(v.pes[2].pcr);
    EXPECT_FALSE(v.pes[2].random_access);
    EXPECT_EQ(v.pes[3].pcr, 9000 + 3600);
    EXPECT_FALSE(v.pes[3].random_access);
    EXPECT_EQ(v.pes[4].pcr, 9000 + 4000);
    EXPECT_TRUE(v.pes[4].random_access);
    EXPECT_EQ(v.pes[5].pcr, 9000 + 4100);
    EXPECT_EQ(v.pes[6].pcr, 100);
    // PCR and the random access flag sit on the PES's first packet only.
    for (const auto& p : v.packets) {
        if (p.pcr || p.random_access) {
            EXPECT_TRUE(p.pusi);
        }
    }
}

TEST(ts_muxer, audio_only_carries_pcr_on_audio) {
    ts_muxer mux({.video = false, .audio = true});
    std::string out;
    mux.write_tables(out);
    for (int i = 0; i < 10; ++i) {
        mux.write_audio(i * 1920, core::as_bytes(pattern(300)), out); // 21.3 ms frames
    }
    const auto v = inspect(out);
    ASSERT_TRUE(v.errors.empty()) << v.errors.front();
    ASSERT_EQ(v.pes.size(), 10U);
    EXPECT_EQ(v.pcr_pid, audio_pid);
    std::int64_t last = -1;
    for (const auto& pes : v.pes) {
        if (pes.pcr) {
            EXPECT_TRUE(pes.random_access);
            EXPECT_EQ(pes.pcr, pes.pts);
            if (last >= 0) {
                EXPECT_LE(*pes.pcr - last, 9000) << "PCR gap over 100 ms";
            }
            last = *pes.pcr;
        }
    }
    EXPECT_EQ(v.pes[0].pcr, 0);
    EXPECT_FALSE(v.pes[1].pcr); // 21 ms later: not yet due
    EXPECT_EQ(v.pes[2].pcr, 3840);
}

TEST(ts_muxer, appends_without_touching_existing_bytes) {
    ts_muxer mux({.video = true, .audio = true});
    std::string out = "HEAD";
    mux.write_tables(out);
    mux.write_video(0, 0, true, core::as_bytes(pattern(500)), out);
    EXPECT_EQ(out.substr(0, 4), "HEAD");
    EXPECT_EQ((out.size() - 4) % packet_size, 0U);
    const auto v = inspect(out.substr(4));
    EXPECT_TRUE(v.errors.empty());
}

} // namespace
} // namespace livehouse::codec::mpegts
