#include "codec/rtmp/chunk_reader.hpp"
#include "codec/rtmp/chunk_writer.hpp"
#include "codec/rtmp/messages.hpp"
#include "rtmp_test_util.hpp"

#include <gtest/gtest.h>

namespace livehouse::codec::rtmp {
namespace {

using test::drain;

// --- raw chunk builders (independent of chunk_writer, and able to emit types 1-3) ---

std::string basic(unsigned fmt, std::uint32_t csid) {
    std::string s;
    core::byte_writer w(s);
    if (csid < 64) {
        w.u8(static_cast<std::uint8_t>((fmt << 6U) | csid));
    } else if (csid < 320) {
        w.u8(static_cast<std::uint8_t>(fmt << 6U));
        w.u8(static_cast<std::uint8_t>(csid - 64));
    } else {
        w.u8(static_cast<std::uint8_t>((fmt << 6U) | 1U));
        w.u8(static_cast<std::uint8_t>((csid - 64) & 0xFF));
        w.u8(static_cast<std::uint8_t>((csid - 64) >> 8U));
    }
    return s;
}
std::string ts_field(std::uint32_t ts) {
    std::string s;
    core::byte_writer(s).u24(ts >= 0xFFFFFF ? 0xFFFFFF : ts);
    return s;
}
std::string ext(std::uint32_t ts) {
    std::string s;
    if (ts >= 0xFFFFFF) {
        core::byte_writer(s).u32(ts);
    }
    return s;
}
std::string u24(std::uint32_t v) {
    std::string s;
    core::byte_writer(s).u24(v);
    return s;
}
std::string u32(std::uint32_t v) {
    std::string s;
    core::byte_writer(s).u32(v);
    return s;
}
std::string h0(std::uint32_t csid, std::uint32_t ts, std::uint32_t len, message_type type,
               std::uint32_t sid = 1) {
    std::string s = basic(0, csid) + ts_field(ts) + u24(len);
    s.push_back(static_cast<char>(type));
    core::byte_writer(s).u32_le(sid);
    return s + ext(ts);
}
std::string h1(std::uint32_t csid, std::uint32_t delta, std::uint32_t len, message_type type) {
    std::string s = basic(1, csid) + ts_field(delta) + u24(len);
    s.push_back(static_cast<char>(type));
    return s + ext(delta);
}
std::string h2(std::uint32_t csid, std::uint32_t delta) {
    return basic(2, csid) + ts_field(delta) + ext(delta);
}
/// A type 3 header; `ext_ts` when the chunk stream's last header was extended.
std::string h3(std::uint32_t csid, std::uint32_t ext_ts = 0) {
    return basic(3, csid) + ext(ext_ts);
}

std::string pattern(std::size_t n, char seed) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i) {
        s[i] = static_cast<char>(seed + static_cast<char>(i * 7));
    }
    return s;
}

std::vector<message> feed_ok(chunk_reader& r, std::string_view bytes) {
    auto res = r.feed(core::as_bytes(bytes));
    EXPECT_EQ(res.state, core::parse_state::ok) << res.error;
    EXPECT_EQ(res.consumed, bytes.size());
    return drain(r);
}

std::string feed_error(std::string_view bytes, chunk_limits limits = {}) {
    chunk_reader r(limits);
    auto res = r.feed(core::as_bytes(bytes));
    EXPECT_EQ(res.state, core::parse_state::error);
    return res.error;
}

/// Feeds `bytes` in pieces cut at `cuts` (ascending), keeping unconsumed bytes like a session.
std::vector<message> feed_in_pieces(std::string_view bytes, const std::vector<std::size_t>& cuts,
                                    chunk_limits limits = {}) {
    chunk_reader r(limits);
    std::string pending;
    std::size_t from = 0;
    std::vector<message> out;
    auto step = [&](std::size_t to) {
        pending.append(bytes.substr(from, to - from));
        from = to;
        auto res = r.feed(core::as_bytes(pending));
        EXPECT_NE(res.state, core::parse_state::error) << res.error;
        pending.erase(0, res.consumed);
        for (auto& m : drain(r)) {
            out.push_back(std::move(m));
        }
    };
    for (auto c : cuts) {
        step(c);
    }
    step(bytes.size());
    EXPECT_TRUE(pending.empty());
    return out;
}

bool same(const message& a, const message& b) {
    return a.type == b.type && a.stream_id == b.stream_id && a.timestamp_ms == b.timestamp_ms &&
           a.csid == b.csid && *a.payload == *b.payload;
}

// --- writer -> reader round trips ---

TEST(ChunkReader, RoundTripsWriterOutput) {
    for (std::uint32_t chunk_size : {1U, 2U, 127U, 128U, 129U, 4096U, 70000U}) {
        chunk_writer w;
        std::string wire;
        if (chunk_size != default_chunk_size) {
            w.write(make_set_chunk_size(chunk_size), wire);
            w.set_chunk_size(chunk_size);
        }
        std::vector<message> sent;
        std::int64_t ts = 0;
        for (std::uint32_t csid : {2U, 3U, 63U, 64U, 319U, 320U, 65599U}) {
            for (std::size_t len : {0U, 1U, 127U, 128U, 129U, 1000U, 65539U}) {
                message m;
                m.type = len % 2 == 0 ? message_type::video : message_type::audio;
                m.stream_id = csid == 2 ? 0 : 1;
                m.csid = csid;
                m.timestamp_ms = ts;
                m.payload = core::make_shared_bytes(pattern(len, static_cast<char>(csid)));
                w.write(m, wire);
                sent.push_back(m);
                // Walk the timestamp through the extended range: 0xFFFFFE, 0xFFFFFF, ...
                ts = ts == 0 ? 0xFFFFFE : ts + 1;
            }
        }
        chunk_reader r;
        auto got = feed_ok(r, wire);
        if (chunk_size != default_chunk_size) {
            ASSERT_FALSE(got.empty());
            EXPECT_EQ(got.front().type, message_type::set_chunk_size);
            got.erase(got.begin());
        }
        ASSERT_EQ(got.size(), sent.size()) << "chunk size " << chunk_size;
        for (std::size_t i = 0; i < sent.size(); ++i) {
            EXPECT_TRUE(same(got[i], sent[i])) << "chunk size " << chunk_size << " message " << i;
        }
        EXPECT_EQ(r.chunk_size(), chunk_size);
        EXPECT_EQ(r.bytes_received(), wire.size());
    }
}

TEST(ChunkReader, RoundTripsTimestampsAcrossTheWrap) {
    chunk_writer w;
    std::string wire;
    // Steps under 2^31 ms (24 days) either way are read as such across the wrap.
    const std::int64_t stamps[] = {0xFFFFFFF0LL,  0xFFFFFFFFLL,  0x100000000LL, 0x100000010LL,
                                   0x17FFFFFFFLL, 0x1FFFFFFF0LL, 0x200000005LL};
    for (auto ts : stamps) {
        message m;
        m.type = message_type::video;
        m.csid = 6;
        m.stream_id = 1;
        m.timestamp_ms = ts;
        m.payload = core::make_shared_bytes(pattern(300, 'v'));
        w.write(m, wire);
    }
    chunk_reader r;
    auto got = feed_ok(r, wire);
    ASSERT_EQ(got.size(), std::size(stamps));
    for (std::size_t i = 0; i < got.size(); ++i) {
        EXPECT_EQ(got[i].timestamp_ms, stamps[i]) << i;
    }
}

// --- header types and timestamps (§5.3.1.2) ---

TEST(ChunkReader, HeaderTypesAccumulateDeltas) {
    const auto t = message_type::audio;
    const std::string wire = h0(4, 1000, 3, t) + "abc" + h1(4, 40, 2, t) + "de" + h2(4, 41) + "fg" +
                             h3(4) + "hi" + h3(4) + "jk";
    chunk_reader r;
    auto got = feed_ok(r, wire);
    ASSERT_EQ(got.size(), 5U);
    const std::int64_t want[] = {1000, 1040, 1081, 1122, 1163};
    const char* payloads[] = {"abc", "de", "fg", "hi", "jk"};
    for (std::size_t i = 0; i < got.size(); ++i) {
        EXPECT_EQ(got[i].timestamp_ms, want[i]) << i;
        EXPECT_EQ(*got[i].payload, payloads[i]) << i;
        EXPECT_EQ(got[i].stream_id, 1U);
        EXPECT_EQ(got[i].csid, 4U);
        EXPECT_EQ(got[i].type, t);
    }
}

TEST(ChunkReader, Type3AfterType0RepeatsTheTimestampAsDelta) {
    // §5.3.1.2.4: "If a Type 3 chunk follows a Type 0 chunk, then the timestamp delta for this
    // Type 3 chunk is the same as the timestamp of the Type 0 chunk."
    const std::string wire = h0(5, 100, 1, message_type::video) + "a" + h3(5) + "b";
    chunk_reader r;
    auto got = feed_ok(r, wire);
    ASSERT_EQ(got.size(), 2U);
    EXPECT_EQ(got[0].timestamp_ms, 100);
    EXPECT_EQ(got[1].timestamp_ms, 200);
}

TEST(ChunkReader, ExtendedTimestampOnContinuationChunks) {
    // A 300-byte message at the default chunk size: 128 + 128 + 44, each type 3 chunk carrying
    // the 4-byte extended timestamp because the type 0 header did.
    const std::uint32_t ts = 0x01234567;
    const std::string p = pattern(300, 'x');
    const std::string wire = h0(7, ts, 300, message_type::video) + p.substr(0, 128) + h3(7, ts) +
                             p.substr(128, 128) + h3(7, ts) + p.substr(256);
    chunk_reader r;
    auto got = feed_ok(r, wire);
    ASSERT_EQ(got.size(), 1U);
    EXPECT_EQ(got[0].timestamp_ms, ts);
    EXPECT_EQ(*got[0].payload, p);

    // An extended delta (type 2) extends its type 3 continuations too, and a following type 3
    // message repeats the delta.
    chunk_reader r2;
    const std::string wire3 = h0(7, 10, 200, message_type::video) + p.substr(0, 128) + h3(7) +
                              p.substr(128, 72) + h2(7, 0x1000000) + p.substr(0, 128) +
                              h3(7, 0x1000000) + p.substr(128, 72) + h3(7, 0x1000000) +
                              p.substr(0, 128) + h3(7, 0x1000000) + p.substr(128, 72);
    auto got3 = feed_ok(r2, wire3);
    ASSERT_EQ(got3.size(), 3U);
    EXPECT_EQ(got3[0].timestamp_ms, 10);
    EXPECT_EQ(got3[1].timestamp_ms, 10 + 0x1000000);
    EXPECT_EQ(got3[2].timestamp_ms, 10 + 2 * 0x1000000);
    for (const auto& m : got3) {
        EXPECT_EQ(*m.payload, p.substr(0, 200));
    }
}

TEST(ChunkReader, WidensTimestampsAcross32BitWrap) {
    const auto v = message_type::video;
    const auto a = message_type::audio;
    const std::string wire = h0(6, 0xFFFFFF00, 1, v) + "1" + // extended absolute
                             h1(6, 0x200, 1, v) + "2" +      // delta past the wrap
                             h0(6, 0x300, 1, v) + "3" +      // absolute, after the wrap
                             h0(4, 0x350, 1, a) + "4" +      // new chunk stream after the wrap
                             h0(6, 0x250, 1, v) + "5";       // a small step back stays back
    chunk_reader r;
    auto got = feed_ok(r, wire);
    ASSERT_EQ(got.size(), 5U);
    EXPECT_EQ(got[0].timestamp_ms, 0xFFFFFF00LL);
    EXPECT_EQ(got[1].timestamp_ms, 0x100000100LL);
    EXPECT_EQ(got[2].timestamp_ms, 0x100000300LL);
    EXPECT_EQ(got[3].timestamp_ms, 0x100000350LL);
    EXPECT_EQ(got[4].timestamp_ms, 0x100000250LL);
}

TEST(ChunkReader, FirstTimestampOfAStreamIsNotNegative) {
    // Commands at 0 first, then media starting above 2^31: not taken as a step back.
    const std::string wire = h0(3, 0, 1, message_type::command_amf0) + "c" +
                             h0(6, 0xC0000000, 1, message_type::video) + "v";
    chunk_reader r;
    auto got = feed_ok(r, wire);
    ASSERT_EQ(got.size(), 2U);
    EXPECT_EQ(got[1].timestamp_ms, 0xC0000000LL);
}

TEST(ChunkReader, InterleavedChunkStreams) {
    const std::string v = pattern(300, 'v');
    const std::string a = pattern(200, 'a');
    const std::string wire = h0(6, 40, 300, message_type::video) + v.substr(0, 128) +
                             h0(4, 40, 200, message_type::audio) + a.substr(0, 128) + h3(6) +
                             v.substr(128, 128) + h3(4) + a.substr(128) + h3(6) + v.substr(256);
    chunk_reader r;
    auto got = feed_ok(r, wire);
    ASSERT_EQ(got.size(), 2U);
    EXPECT_EQ(got[0].type, message_type::audio); // completed first
    EXPECT_EQ(*got[0].payload, a);
    EXPECT_EQ(got[0].csid, 4U);
    EXPECT_EQ(got[1].type, message_type::video);
    EXPECT_EQ(*got[1].payload, v);
}

TEST(ChunkReader, MultiByteBasicHeaders) {
    for (std::uint32_t csid : {64U, 65U, 319U, 320U, 321U, 65599U}) {
        const std::string wire = h0(csid, 5, 2, message_type::audio) + "xy";
        chunk_reader r;
        auto got = feed_ok(r, wire);
        ASSERT_EQ(got.size(), 1U);
        EXPECT_EQ(got[0].csid, csid);
        EXPECT_EQ(*got[0].payload, "xy");
    }
}

// --- protocol control (§5.4) ---

TEST(ChunkReader, SetChunkSizeAppliesToTheNextChunk) {
    const std::string p = pattern(500, 'p');
    const std::string wire = h0(2, 0, 4, message_type::set_chunk_size, 0) + u32(500) +
                             h0(6, 0, 500, message_type::video) + p;
    chunk_reader r;
    auto got = feed_ok(r, wire);
    ASSERT_EQ(got.size(), 2U);
    EXPECT_EQ(got[0].type, message_type::set_chunk_size);
    EXPECT_EQ(*got[1].payload, p);
    EXPECT_EQ(r.chunk_size(), 500U);
}

TEST(ChunkReader, SetChunkSizeRefusals) {
    auto scs = [](std::uint32_t size) {
        return h0(2, 0, 4, message_type::set_chunk_size, 0) + u32(size);
    };
    EXPECT_NE(feed_error(scs(0)).find("invalid size"), std::string::npos);
    EXPECT_NE(feed_error(scs(0x80000001)).find("invalid size"), std::string::npos);
    EXPECT_NE(feed_error(scs(16 * 1024 * 1024 + 1)).find("> limit"), std::string::npos);
    EXPECT_NE(feed_error(h0(2, 0, 2, message_type::set_chunk_size, 0) + "ab").find("shorter"),
              std::string::npos);
    chunk_reader r;
    feed_ok(r, scs(16 * 1024 * 1024));
    EXPECT_EQ(r.chunk_size(), 16U * 1024 * 1024);
}

TEST(ChunkReader, AbortDiscardsThePartialMessage) {
    const std::string p = pattern(300, 'p');
    const std::string wire = h0(6, 0, 300, message_type::video) + p.substr(0, 128) +
                             h0(2, 0, 4, message_type::abort, 0) + u32(6) +
                             h0(6, 80, 5, message_type::video) + "fresh";
    chunk_reader r;
    auto got = feed_ok(r, wire);
    ASSERT_EQ(got.size(), 2U);
    EXPECT_EQ(got[0].type, message_type::abort);
    EXPECT_EQ(*got[1].payload, "fresh");
    EXPECT_EQ(got[1].timestamp_ms, 80);
    // Abort of a chunk stream with nothing in progress (or unknown) is harmless.
    auto more = feed_ok(r, h0(2, 0, 4, message_type::abort, 0) + u32(99));
    EXPECT_EQ(more.size(), 1U);
}

TEST(ChunkReader, AcknowledgementWindow) {
    chunk_reader r;
    EXPECT_FALSE(r.ack_due().has_value()); // no window yet
    feed_ok(r, h0(2, 0, 4, message_type::window_ack_size, 0) + u32(100));
    EXPECT_EQ(r.peer_window(), 100U);
    EXPECT_FALSE(r.ack_due().has_value()); // 16 bytes so far
    feed_ok(r, h0(6, 0, 90, message_type::video) + pattern(90, 'a'));
    const std::uint64_t received = r.bytes_received();
    EXPECT_EQ(received, 16U + 12 + 90);
    auto ack = r.ack_due();
    ASSERT_TRUE(ack.has_value());
    EXPECT_EQ(*ack, received);
    EXPECT_FALSE(r.ack_due().has_value()); // sent; next after another window
    r.add_bytes_received(3073);            // the handshake counts too
    EXPECT_EQ(r.ack_due(), static_cast<std::uint32_t>(received + 3073));
}

// --- violations and limits ---

TEST(ChunkReader, RefusesViolations) {
    EXPECT_NE(feed_error(h2(4, 1) + "x").find("starts with a type 2"), std::string::npos);
    EXPECT_NE(feed_error(h3(4) + "x").find("starts with a type 3"), std::string::npos);
    // A new message header while one is in progress on the same chunk stream.
    const std::string p = pattern(200, 'p');
    EXPECT_NE(feed_error(h0(6, 0, 200, message_type::video) + p.substr(0, 128) +
                         h0(6, 0, 5, message_type::video) + "hello")
                  .find("while a 200-byte message has 72 bytes left"),
              std::string::npos);
}

TEST(ChunkReader, Limits) {
    EXPECT_NE(feed_error(h0(6, 0, 8 * 1024 * 1024 + 1, message_type::video))
                  .find("message length 8388609 > limit 8388608"),
              std::string::npos);
    // A 65th chunk stream.
    std::string many;
    for (std::uint32_t csid = 3; csid < 3 + 65; ++csid) {
        many += h0(csid, 0, 1, message_type::audio) + "x";
    }
    const auto why = feed_error(many);
    EXPECT_NE(why.find("more than 64 chunk streams (csid 67)"), std::string::npos) << why;
    // Bytes held in partial messages across chunk streams.
    std::string partials;
    for (std::uint32_t csid = 3; csid < 6; ++csid) {
        partials += h0(csid, 0, 6000, message_type::video) + pattern(128, 'q');
    }
    EXPECT_NE(feed_error(partials, {.max_partial_bytes = 12000}).find("partial"),
              std::string::npos);
    chunk_reader ok_reader({.max_partial_bytes = 18000});
    feed_ok(ok_reader, partials);
}

TEST(ChunkReader, ErrorIsStickyAndKeepsTheGoodPrefix) {
    chunk_reader r;
    const std::string good = h0(4, 0, 2, message_type::audio) + "ok";
    const std::string bad = h3(9);
    auto res = r.feed(core::as_bytes(good + bad));
    EXPECT_EQ(res.state, core::parse_state::error);
    EXPECT_EQ(res.consumed, good.size());
    EXPECT_EQ(r.queued(), 1U); // the message before the error is still delivered
    EXPECT_FALSE(r.error().empty());
    auto again = r.feed(core::as_bytes(good));
    EXPECT_EQ(again.state, core::parse_state::error);
    EXPECT_EQ(again.consumed, 0U);
}

TEST(ChunkReader, PartialChunkIsNotConsumed) {
    // Every prefix of a type 0, a type 1 (found by the fuzzer: a header cut inside its length
    // field), a type 2 and a 3-byte-basic-header chunk.
    const std::string c0 = h0(6, 0, 10, message_type::video) + "0123456789";
    const std::string c1 = h1(6, 40, 3, message_type::video) + "abc";
    const std::string c2 = h2(6, 40) + "def";
    const std::string c3 = h0(400, 0x1000000, 2, message_type::audio) + "gh";
    const std::string wire = c0 + c1 + c2 + c3;
    const std::size_t ends[] = {c0.size(), c0.size() + c1.size(), c0.size() + c1.size() + c2.size(),
                                wire.size()};
    for (std::size_t n = 0; n <= wire.size(); ++n) {
        chunk_reader r;
        auto res = r.feed(core::as_bytes(wire).first(n));
        std::size_t whole = 0;
        std::size_t complete = 0;
        for (auto e : ends) {
            if (e <= n) {
                whole = e;
                ++complete;
            }
        }
        EXPECT_EQ(res.consumed, whole) << n;
        EXPECT_EQ(res.state, whole == n ? core::parse_state::ok : core::parse_state::need_more);
        EXPECT_EQ(r.queued(), complete) << n;
        // And the rest completes the same four messages.
        auto rest = r.feed(core::as_bytes(wire).subspan(res.consumed));
        EXPECT_EQ(rest.state, core::parse_state::ok) << n;
        auto got = drain(r);
        ASSERT_EQ(got.size(), 4U) << n;
        EXPECT_EQ(*got[1].payload, "abc");
        EXPECT_EQ(got[1].timestamp_ms, 40);
        EXPECT_EQ(got[2].timestamp_ms, 80);
        EXPECT_EQ(got[3].timestamp_ms, 0x1000000);
    }
}

// --- the captured ffmpeg publish session ---

class CapturedSession : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        chunks_ = new std::string(test::captured_chunks());
        chunk_reader r;
        auto res = r.feed(core::as_bytes(*chunks_));
        ASSERT_EQ(res.state, core::parse_state::ok) << res.error;
        reference_ = new std::vector<message>(drain(r));
    }
    static void TearDownTestSuite() {
        delete chunks_;
        delete reference_;
    }
    static void expect_reference(const std::vector<message>& got, const std::string& what) {
        ASSERT_EQ(got.size(), reference_->size()) << what;
        for (std::size_t i = 0; i < got.size(); ++i) {
            ASSERT_TRUE(same(got[i], (*reference_)[i])) << what << ", message " << i;
        }
    }
    static std::string* chunks_;
    static std::vector<message>* reference_;
};
std::string* CapturedSession::chunks_ = nullptr;
std::vector<message>* CapturedSession::reference_ = nullptr;

TEST_F(CapturedSession, DecodesThePublishFlow) {
    const auto& msgs = *reference_;
    std::vector<std::string> commands;
    std::size_t video = 0;
    std::size_t audio = 0;
    bool metadata = false;
    std::int64_t last_video_ts = -1;
    for (const auto& m : msgs) {
        if (m.type == message_type::command_amf0) {
            auto c = parse_command(m.bytes());
            ASSERT_TRUE(c.has_value()) << c.err().message;
            commands.push_back(c->name);
            if (c->name == "publish") {
                ASSERT_FALSE(c->args.empty());
                EXPECT_EQ(c->args[0], amf0_value("test"));
                EXPECT_EQ(m.stream_id, 1U);
            }
        } else if (m.type == message_type::data_amf0) {
            auto md = parse_metadata(m.bytes());
            ASSERT_TRUE(md.has_value()) << md.err().message;
            ASSERT_TRUE(md->has_value());
            const auto& meta = **md;
            EXPECT_EQ(meta.get_number("width"), 320);
            EXPECT_EQ(meta.get_number("height"), 240);
            EXPECT_EQ(meta.get_number("videocodecid"), 7);  // AVC
            EXPECT_EQ(meta.get_number("audiocodecid"), 10); // AAC
            metadata = true;
        } else if (m.type == message_type::video) {
            ASSERT_GE(m.payload->size(), 5U);
            if (video == 0) {
                // FLV AVC sequence header first: keyframe|AVC (0x17), AVCPacketType 0.
                EXPECT_EQ(static_cast<std::uint8_t>((*m.payload)[0]), 0x17);
                EXPECT_EQ((*m.payload)[1], 0);
            }
            EXPECT_GE(m.timestamp_ms, last_video_ts);
            last_video_ts = m.timestamp_ms;
            EXPECT_EQ(m.stream_id, 1U);
            ++video;
        } else if (m.type == message_type::audio) {
            ++audio;
        }
    }
    const std::vector<std::string> want_first = {"connect", "releaseStream", "FCPublish",
                                                 "createStream", "publish"};
    ASSERT_GE(commands.size(), want_first.size());
    EXPECT_EQ(std::vector<std::string>(commands.begin(), commands.begin() + 5), want_first);
    EXPECT_EQ(commands.back(), "deleteStream");
    EXPECT_TRUE(metadata);
    // 3 s at 25 fps; AAC at 44.1 kHz is ~43 frames/s.
    EXPECT_GE(video, 70U);
    EXPECT_GE(audio, 120U);
    EXPECT_GE(last_video_ts, 2800);
}

/// Feeds `wire` in two pieces cut at `cut`, the way a session does (the unconsumed tail of the
/// first piece is fed again with the second), and checks the messages against `want`. No
/// copies and one check per split, so every offset of a long capture stays affordable.
bool split_matches(std::string_view wire, std::size_t cut, const std::vector<message>& want) {
    chunk_reader r;
    const auto first = r.feed(core::as_bytes(wire.substr(0, cut)));
    if (first.state == core::parse_state::error) {
        return false;
    }
    const auto second = r.feed(core::as_bytes(wire.substr(first.consumed)));
    if (second.state != core::parse_state::ok || first.consumed + second.consumed != wire.size() ||
        r.queued() != want.size()) {
        return false;
    }
    for (const auto& w : want) {
        auto m = r.next();
        if (!same(*m, w)) {
            return false;
        }
    }
    return true;
}

TEST_F(CapturedSession, SameMessagesWhenSplitInTwoAtEveryOffset) {
    // Every offset of the first 16 KiB (connect .. publish, metadata, sequence headers, the
    // first GOP: every header type and control message of the session), as a stream of its own.
    const std::string& wire = *chunks_;
    chunk_reader probe;
    const auto head_len = probe.feed(core::as_bytes(wire).first(16 * 1024)).consumed;
    const std::string_view head = std::string_view(wire).substr(0, head_len);
    const auto head_msgs = drain(probe);
    ASSERT_GT(head_msgs.size(), 20U);
    for (std::size_t cut = 0; cut <= head.size(); ++cut) {
        ASSERT_TRUE(split_matches(head, cut, head_msgs)) << "split at " << cut;
    }
    // The whole session at a prime stride (61) (every split is also covered, one piece at a time,
    // by SameMessagesFedByteByByte).
    for (std::size_t cut = 0; cut <= wire.size(); cut += 61) {
        ASSERT_TRUE(split_matches(wire, cut, *reference_)) << "split at " << cut;
    }
}

TEST_F(CapturedSession, SameMessagesFedByteByByte) {
    const std::string& wire = *chunks_;
    std::vector<std::size_t> cuts;
    for (std::size_t i = 1; i < wire.size(); ++i) {
        cuts.push_back(i);
    }
    expect_reference(feed_in_pieces(wire, cuts), "byte by byte");
}

TEST_F(CapturedSession, EveryTruncationStopsCleanly) {
    // Any prefix decodes to a prefix of the messages and never errors.
    const std::string& wire = *chunks_;
    for (std::size_t n = 0; n < wire.size(); n += 97) {
        chunk_reader r;
        auto res = r.feed(core::as_bytes(wire).first(n));
        ASSERT_NE(res.state, core::parse_state::error) << n;
        auto got = drain(r);
        ASSERT_LE(got.size(), reference_->size());
        for (std::size_t i = 0; i < got.size(); ++i) {
            ASSERT_TRUE(same(got[i], (*reference_)[i]));
        }
    }
}

} // namespace
} // namespace livehouse::codec::rtmp
