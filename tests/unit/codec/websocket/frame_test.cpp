// RFC 6455 framing: the §5.7 examples byte for byte, every rule of §5 with its close code,
// input split at every offset, UTF-8 edge cases (RFC 3629), the §1.3 accept key.
#include "codec/websocket/frame.hpp"

#include <gtest/gtest.h>
#include <string>
#include <vector>

namespace livehouse::codec::websocket {
namespace {

using namespace std::string_literals;

std::string bytes(std::initializer_list<unsigned> v) {
    std::string s;
    for (unsigned b : v) {
        s.push_back(static_cast<char>(b));
    }
    return s;
}

/// A raw frame with any first byte, masked (client to server) unless `masked` is false; the
/// length is encoded as `len_form` asks: 0 = minimal, 126 or 127 = that form whatever the size.
std::string raw_frame(unsigned b0, std::string_view payload, bool masked = true,
                      unsigned len_form = 0, std::uint32_t key = 0x11223344) {
    std::string out;
    core::byte_writer w(out);
    w.u8(static_cast<std::uint8_t>(b0));
    const std::uint8_t m = masked ? 0x80 : 0;
    const unsigned form = len_form != 0              ? len_form
                          : payload.size() < 126     ? 0
                          : payload.size() <= 0xFFFF ? 126
                                                     : 127;
    if (form == 0) {
        w.u8(static_cast<std::uint8_t>(m | payload.size()));
    } else if (form == 126) {
        w.u8(m | 126);
        w.u16(static_cast<std::uint16_t>(payload.size()));
    } else {
        w.u8(m | 127);
        w.u64(payload.size());
    }
    if (masked) {
        w.u32(key);
        for (std::size_t i = 0; i < payload.size(); ++i) {
            out.push_back(static_cast<char>(payload[i] ^ (key >> (8 * (3 - (i % 4))))));
        }
    } else {
        out.append(payload);
    }
    return out;
}

std::string client_frame(opcode op, std::string_view payload) {
    return encode_frame(op, payload, role::client, 0xA1B2C3D4);
}

struct decoded {
    std::vector<event> events;
    core::parse_state state = core::parse_state::ok;
    std::uint16_t code = 0;
    std::size_t consumed = 0;
};

/// Feeds everything at once.
decoded decode(std::string_view in, role r = role::server, frame_limits limits = {}) {
    frame_reader reader(r, limits);
    decoded d;
    auto res = reader.feed(core::as_bytes(in));
    d.state = res.state;
    d.consumed = res.consumed;
    d.code = reader.error_close_code();
    while (auto e = reader.next()) {
        d.events.push_back(std::move(*e));
    }
    return d;
}

/// Feeds `in` in pieces of the given sizes, keeping the unconsumed tail as a session does.
decoded decode_split(std::string_view in, const std::vector<std::size_t>& cuts,
                     role r = role::server, frame_limits limits = {}) {
    frame_reader reader(r, limits);
    decoded d;
    std::string buffer;
    std::size_t pos = 0;
    auto feed_piece = [&](std::size_t n) {
        buffer.append(in.substr(pos, n));
        pos += n;
        auto res = reader.feed(core::as_bytes(buffer));
        EXPECT_LE(res.consumed, buffer.size());
        buffer.erase(0, res.consumed);
        d.consumed += res.consumed;
        d.state = res.state;
        d.code = reader.error_close_code();
        while (auto e = reader.next()) {
            d.events.push_back(std::move(*e));
        }
    };
    for (auto c : cuts) {
        feed_piece(c);
        if (d.state == core::parse_state::error) {
            return d;
        }
    }
    feed_piece(in.size() - pos);
    return d;
}

void expect_event(const event& e, opcode op, std::string_view payload,
                  std::uint16_t code = close_code::no_status) {
    EXPECT_EQ(e.op, op);
    EXPECT_EQ(e.payload, payload);
    EXPECT_EQ(e.code, code);
}

// --- RFC 6455 §5.7 examples ---

TEST(WebsocketFrame, Rfc5_7SingleFrameUnmaskedText) {
    const auto wire = bytes({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f});
    EXPECT_EQ(encode_frame(opcode::text, "Hello"), wire);
    auto d = decode(wire, role::client);
    ASSERT_EQ(d.state, core::parse_state::ok);
    EXPECT_EQ(d.consumed, wire.size());
    ASSERT_EQ(d.events.size(), 1U);
    expect_event(d.events[0], opcode::text, "Hello");
    // A server refuses the same bytes: they are unmasked.
    EXPECT_EQ(decode(wire, role::server).code, close_code::protocol_error);
}

TEST(WebsocketFrame, Rfc5_7SingleFrameMaskedText) {
    const auto wire = bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58});
    EXPECT_EQ(encode_frame(opcode::text, "Hello", role::client, 0x37fa213d), wire);
    auto d = decode(wire, role::server);
    ASSERT_EQ(d.state, core::parse_state::ok);
    ASSERT_EQ(d.events.size(), 1U);
    expect_event(d.events[0], opcode::text, "Hello");
    // A client refuses masked frames.
    EXPECT_EQ(decode(wire, role::client).code, close_code::protocol_error);
}

TEST(WebsocketFrame, Rfc5_7FragmentedUnmaskedText) {
    const auto wire = bytes({0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f});
    frame_reader reader(role::client);
    auto first = reader.feed(core::as_bytes(std::string_view(wire).substr(0, 5)));
    EXPECT_EQ(first.state, core::parse_state::ok);
    EXPECT_EQ(reader.queued(), 0U);
    EXPECT_EQ(reader.partial_bytes(), 3U); // "Hel" held
    auto second = reader.feed(core::as_bytes(std::string_view(wire).substr(5)));
    EXPECT_EQ(second.state, core::parse_state::ok);
    auto e = reader.next();
    ASSERT_TRUE(e);
    expect_event(*e, opcode::text, "Hello");
    EXPECT_EQ(reader.partial_bytes(), 0U);
}

TEST(WebsocketFrame, Rfc5_7PingAndMaskedPong) {
    const auto ping = bytes({0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f});
    EXPECT_EQ(encode_frame(opcode::ping, "Hello"), ping);
    auto d = decode(ping, role::client);
    ASSERT_EQ(d.events.size(), 1U);
    expect_event(d.events[0], opcode::ping, "Hello");

    const auto pong = bytes({0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58});
    EXPECT_EQ(encode_frame(opcode::pong, "Hello", role::client, 0x37fa213d), pong);
    d = decode(pong, role::server);
    ASSERT_EQ(d.events.size(), 1U);
    expect_event(d.events[0], opcode::pong, "Hello");
}

TEST(WebsocketFrame, Rfc5_7Binary256And64KiB) {
    const std::string p256(256, 'x');
    const auto f256 = encode_frame(opcode::binary, p256);
    EXPECT_EQ(f256.substr(0, 4), bytes({0x82, 0x7E, 0x01, 0x00}));
    EXPECT_EQ(f256.size(), 4U + 256U);

    const std::string p64k(65536, 'y');
    const auto f64k = encode_frame(opcode::binary, p64k);
    EXPECT_EQ(f64k.substr(0, 10), bytes({0x82, 0x7F, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00}));
    EXPECT_EQ(f64k.size(), 10U + 65536U);

    const frame_limits big{.max_message_bytes = 65536, .max_fragments = 64};
    auto d = decode(f256 + f64k, role::client, big);
    ASSERT_EQ(d.state, core::parse_state::ok);
    ASSERT_EQ(d.events.size(), 2U);
    expect_event(d.events[0], opcode::binary, p256);
    expect_event(d.events[1], opcode::binary, p64k);
}

TEST(WebsocketFrame, LengthFormBoundaries) {
    const auto header_len = [](std::size_t n) {
        const auto f = encode_frame(opcode::binary, std::string(n, 'a'));
        return f.size() - n;
    };
    EXPECT_EQ(header_len(0), 2U);
    EXPECT_EQ(header_len(125), 2U);
    EXPECT_EQ(header_len(126), 4U);
    EXPECT_EQ(header_len(65535), 4U);
    EXPECT_EQ(header_len(65536), 10U);
    // Masked: 4 more bytes, and the reader gets the payload back at every boundary.
    const frame_limits big{.max_message_bytes = 70000, .max_fragments = 64};
    for (std::size_t n : {0U, 1U, 125U, 126U, 127U, 65535U, 65536U}) {
        const std::string payload(n, 'z');
        const auto f = encode_frame(opcode::text, payload, role::client, 0xdeadbeef);
        EXPECT_EQ(f.size(), header_len(n) + 4 + n);
        auto d = decode(f, role::server, big);
        ASSERT_EQ(d.events.size(), 1U) << n;
        EXPECT_EQ(d.events[0].payload, payload);
    }
}

// --- fragmentation ---

TEST(WebsocketFrame, ControlFramesBetweenFragments) {
    const auto wire = raw_frame(0x01, "Hel") + client_frame(opcode::ping, "p1") +
                      raw_frame(0x00, "l") + client_frame(opcode::pong, "") + raw_frame(0x80, "o") +
                      client_frame(opcode::text, "next");
    auto d = decode(wire);
    ASSERT_EQ(d.state, core::parse_state::ok);
    ASSERT_EQ(d.events.size(), 4U);
    expect_event(d.events[0], opcode::ping, "p1");
    expect_event(d.events[1], opcode::pong, "");
    expect_event(d.events[2], opcode::text, "Hello");
    expect_event(d.events[3], opcode::text, "next");
}

TEST(WebsocketFrame, FragmentedBinaryAndEmptyFragments) {
    const auto wire = raw_frame(0x02, "") + raw_frame(0x00, "\x01\x02"s) + raw_frame(0x80, "");
    auto d = decode(wire);
    ASSERT_EQ(d.events.size(), 1U);
    expect_event(d.events[0], opcode::binary, "\x01\x02"s);
}

TEST(WebsocketFrame, SplitAtEveryOffset) {
    const std::string text(300, 'q'); // a 16-bit length
    const auto wire = client_frame(opcode::text, "Hello") + raw_frame(0x01, "ab\xE2"s) +
                      client_frame(opcode::ping, "still there?") + raw_frame(0x80, "\x82\xAC"s) +
                      client_frame(opcode::text, text) + client_frame(opcode::binary, "") +
                      encode_close(close_code::normal, "bye", role::client, 0x01020304);
    auto whole = decode(wire);
    ASSERT_EQ(whole.state, core::parse_state::ok);
    ASSERT_EQ(whole.events.size(), 6U);
    expect_event(whole.events[0], opcode::text, "Hello");
    expect_event(whole.events[1], opcode::ping, "still there?");
    expect_event(whole.events[2], opcode::text, "ab\xE2\x82\xAC");
    expect_event(whole.events[3], opcode::text, text);
    expect_event(whole.events[4], opcode::binary, "");
    expect_event(whole.events[5], opcode::close, "bye", close_code::normal);

    for (std::size_t cut = 0; cut <= wire.size(); ++cut) {
        auto d = decode_split(wire, {cut});
        ASSERT_EQ(d.state, core::parse_state::ok) << cut;
        EXPECT_EQ(d.consumed, wire.size()) << cut;
        ASSERT_EQ(d.events.size(), whole.events.size()) << cut;
        for (std::size_t i = 0; i < d.events.size(); ++i) {
            EXPECT_EQ(d.events[i].op, whole.events[i].op) << cut;
            EXPECT_EQ(d.events[i].payload, whole.events[i].payload) << cut;
            EXPECT_EQ(d.events[i].code, whole.events[i].code) << cut;
        }
    }
    // One byte at a time.
    auto bytewise = decode_split(wire, std::vector<std::size_t>(wire.size(), 1));
    ASSERT_EQ(bytewise.events.size(), whole.events.size());
    EXPECT_EQ(bytewise.events[3].payload, text);
}

TEST(WebsocketFrame, NeedMoreReportsWholeFramesOnly) {
    const auto a = client_frame(opcode::text, "first");
    const auto b = client_frame(opcode::text, "second");
    const auto both = a + b;
    frame_reader reader;
    auto r = reader.feed(core::as_bytes(std::string_view(both).substr(0, a.size() + 3)));
    EXPECT_EQ(r.state, core::parse_state::need_more);
    EXPECT_EQ(r.consumed, a.size());
    ASSERT_EQ(reader.queued(), 1U);
    EXPECT_EQ(reader.next()->payload, "first");
    EXPECT_FALSE(reader.next());
}

// --- errors, each with its close code ---

struct error_case {
    const char* name;
    std::string wire;
    std::uint16_t code;
    role r = role::server;
};

TEST(WebsocketFrame, EveryErrorHasItsCloseCode) {
    const auto ok = client_frame(opcode::text, "ok");
    const std::vector<error_case> cases = {
        {"rsv1", raw_frame(0xC1, "x"), close_code::protocol_error},
        {"rsv2", raw_frame(0xA1, "x"), close_code::protocol_error},
        {"rsv3", raw_frame(0x91, "x"), close_code::protocol_error},
        {"opcode 3", raw_frame(0x83, "x"), close_code::protocol_error},
        {"opcode 0xB", raw_frame(0x8B, "x"), close_code::protocol_error},
        {"opcode 0xF", raw_frame(0x8F, ""), close_code::protocol_error},
        {"unmasked client frame", raw_frame(0x81, "x", false), close_code::protocol_error},
        {"masked server frame", raw_frame(0x81, "x", true), close_code::protocol_error,
         role::client},
        {"fragmented ping", raw_frame(0x09, "x"), close_code::protocol_error},
        {"fragmented close", raw_frame(0x08, ""), close_code::protocol_error},
        {"ping over 125", raw_frame(0x89, std::string(126, 'p')), close_code::protocol_error},
        {"close with 1 byte", raw_frame(0x88, "\x03"), close_code::protocol_error},
        {"close code 999", raw_frame(0x88, "\x03\xE7"), close_code::protocol_error},
        {"close code 1004", raw_frame(0x88, "\x03\xEC"), close_code::protocol_error},
        {"close code 1005", raw_frame(0x88, "\x03\xED"), close_code::protocol_error},
        {"close code 1006", raw_frame(0x88, "\x03\xEE"), close_code::protocol_error},
        {"close code 1015", raw_frame(0x88, "\x03\xF7"), close_code::protocol_error},
        {"close code 2000", raw_frame(0x88, "\x07\xD0"), close_code::protocol_error},
        {"close code 5000", raw_frame(0x88, "\x13\x88"), close_code::protocol_error},
        {"close reason not UTF-8", raw_frame(0x88, "\x03\xE8\xC0\xAF"),
         close_code::invalid_payload},
        {"continuation first", raw_frame(0x80, "x"), close_code::protocol_error},
        {"text inside fragmented", raw_frame(0x01, "a") + raw_frame(0x81, "b"),
         close_code::protocol_error},
        {"binary inside fragmented", raw_frame(0x01, "a") + raw_frame(0x02, "b"),
         close_code::protocol_error},
        {"16-bit length under 126", raw_frame(0x81, "short", true, 126),
         close_code::protocol_error},
        {"64-bit length under 65536", raw_frame(0x81, "short", true, 127),
         close_code::protocol_error},
        {"64-bit length with the top bit", bytes({0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 1}),
         close_code::protocol_error},
        {"text not UTF-8", raw_frame(0x81, "\xFF"), close_code::invalid_payload},
        {"fragmented text not UTF-8", raw_frame(0x01, "\xE2\x82") + raw_frame(0x80, "\x41"),
         close_code::invalid_payload},
        {"message over the limit", client_frame(opcode::text, std::string(16385, 'a')),
         close_code::too_big},
        {"fragments over the limit",
         raw_frame(0x01, std::string(10000, 'a')) + raw_frame(0x80, std::string(6385, 'a')),
         close_code::too_big},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        // A good frame first: the error reports exactly the bytes consumed before the bad one.
        const auto good = c.r == role::server ? ok : encode_frame(opcode::text, "ok");
        frame_reader reader(c.r);
        const auto wire = good + c.wire;
        auto res = reader.feed(core::as_bytes(wire));
        EXPECT_EQ(res.state, core::parse_state::error);
        EXPECT_FALSE(res.error.empty());
        EXPECT_EQ(reader.error_close_code(), c.code);
        EXPECT_EQ(reader.error(), res.error);
        EXPECT_GE(res.consumed, good.size());
        EXPECT_LT(res.consumed, wire.size());
        ASSERT_EQ(reader.queued(), 1U);
        EXPECT_EQ(reader.next()->payload, "ok");
        // Dead from now on.
        auto again = reader.feed(core::as_bytes(ok));
        EXPECT_EQ(again.state, core::parse_state::error);
        EXPECT_EQ(again.consumed, 0U);
        EXPECT_EQ(reader.queued(), 0U);
    }
}

TEST(WebsocketFrame, TooBigFailsOnTheHeaderAlone) {
    // 2 + 2 bytes announce 16385 bytes: refused before any payload (or mask) arrives.
    const auto header = bytes({0x81, 0xFE, 0x40, 0x01});
    frame_reader reader;
    auto r = reader.feed(core::as_bytes(header));
    EXPECT_EQ(r.state, core::parse_state::error);
    EXPECT_EQ(r.consumed, 0U);
    EXPECT_EQ(reader.error_close_code(), close_code::too_big);

    // A 64-bit length of 2^62: the same, from 10 bytes.
    frame_reader huge;
    auto h = huge.feed(core::as_bytes(bytes({0x82, 0xFF, 0x40, 0, 0, 0, 0, 0, 0, 0})));
    EXPECT_EQ(h.state, core::parse_state::error);
    EXPECT_EQ(huge.error_close_code(), close_code::too_big);

    // A continuation that would pass the limit fails on its header too.
    frame_reader frag;
    const auto first = raw_frame(0x01, std::string(16000, 'a'));
    auto f = frag.feed(core::as_bytes(first + bytes({0x80, 0xFE, 0x01, 0x81})));
    EXPECT_EQ(f.state, core::parse_state::error);
    EXPECT_EQ(f.consumed, first.size());
    EXPECT_EQ(frag.error_close_code(), close_code::too_big);
}

TEST(WebsocketFrame, LimitIsInclusive) {
    const frame_limits limits{.max_message_bytes = 100, .max_fragments = 3};
    auto exact = decode(client_frame(opcode::text, std::string(100, 'a')), role::server, limits);
    EXPECT_EQ(exact.state, core::parse_state::ok);
    ASSERT_EQ(exact.events.size(), 1U);
    auto over = decode(client_frame(opcode::text, std::string(101, 'a')), role::server, limits);
    EXPECT_EQ(over.code, close_code::too_big);

    const auto three = raw_frame(0x01, "a") + raw_frame(0x00, "b") + raw_frame(0x80, "c");
    EXPECT_EQ(decode(three, role::server, limits).events.size(), 1U);
    const auto four =
        raw_frame(0x01, "a") + raw_frame(0x00, "b") + raw_frame(0x00, "c") + raw_frame(0x80, "d");
    EXPECT_EQ(decode(four, role::server, limits).code, close_code::too_big);
    // Control frames between fragments do not count as fragments.
    const auto with_pings = raw_frame(0x01, "a") + client_frame(opcode::ping, "") +
                            raw_frame(0x00, "b") + client_frame(opcode::ping, "") +
                            raw_frame(0x80, "c");
    EXPECT_EQ(decode(with_pings, role::server, limits).events.size(), 3U);
}

// --- close frames ---

TEST(WebsocketFrame, ClosePayloads) {
    auto empty = decode(raw_frame(0x88, ""));
    ASSERT_EQ(empty.events.size(), 1U);
    expect_event(empty.events[0], opcode::close, "", close_code::no_status);

    for (std::uint16_t code : {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1014,
                               3000, 3999, 4000, 4999}) {
        auto d = decode(encode_close(code, "why", role::client, 7));
        ASSERT_EQ(d.events.size(), 1U) << code;
        expect_event(d.events[0], opcode::close, "why", code);
    }
}

TEST(WebsocketFrame, NothingAfterCloseIsRead) {
    const auto wire = encode_close(close_code::going_away, "", role::client, 9) +
                      client_frame(opcode::text, "late") + "garbage"s;
    frame_reader reader;
    auto r = reader.feed(core::as_bytes(wire));
    EXPECT_EQ(r.state, core::parse_state::ok);
    EXPECT_EQ(r.consumed, wire.size());
    EXPECT_TRUE(reader.closed());
    ASSERT_EQ(reader.queued(), 1U);
    EXPECT_EQ(reader.next()->code, close_code::going_away);
    EXPECT_FALSE(reader.next());
}

TEST(WebsocketFrame, EncodeClose) {
    EXPECT_EQ(encode_close(close_code::normal, "ok"), bytes({0x88, 0x04, 0x03, 0xE8, 'o', 'k'}));
    EXPECT_EQ(encode_close(close_code::no_status, "ignored"), bytes({0x88, 0x00}));
    // A long reason is cut to 123 bytes on a code point boundary: 'é' is 2 bytes, so 61 of
    // them (122 bytes) fit after "x", the 62nd would straddle byte 123.
    std::string reason = "x";
    for (int i = 0; i < 100; ++i) {
        reason += "\xC3\xA9";
    }
    const auto f = encode_close(close_code::policy_violation, reason);
    ASSERT_LE(f.size(), 2U + 125U);
    auto d = decode(f, role::client);
    ASSERT_EQ(d.events.size(), 1U);
    EXPECT_EQ(d.events[0].code, close_code::policy_violation);
    EXPECT_EQ(d.events[0].payload.size(), 123U);
    EXPECT_TRUE(valid_utf8(d.events[0].payload));
    EXPECT_TRUE(reason.starts_with(d.events[0].payload));
}

// --- UTF-8 (RFC 3629) ---

TEST(WebsocketUtf8, ValidSequences) {
    for (const std::string& s : {""s, "plain ascii, longer than eight bytes"s, "\x7F"s,
                                 "\xC2\x80"s,         // U+0080, the smallest 2-byte
                                 "\xDF\xBF"s,         // U+07FF
                                 "\xE0\xA0\x80"s,     // U+0800, the smallest 3-byte
                                 "\xED\x9F\xBF"s,     // U+D7FF, just below the surrogates
                                 "\xEE\x80\x80"s,     // U+E000, just above
                                 "\xEF\xBF\xBF"s,     // U+FFFF
                                 "\xF0\x90\x80\x80"s, // U+10000, the smallest 4-byte
                                 "\xF4\x8F\xBF\xBF"s, // U+10FFFF, the largest
                                 "h\xC3\xA9llo w\xC3\xB6rld \xE2\x82\xAC \xF0\x9F\x98\x80!"s}) {
        EXPECT_TRUE(valid_utf8(s)) << testing::PrintToString(s);
    }
}

TEST(WebsocketUtf8, InvalidSequences) {
    for (const std::string& s : {
             "\x80"s,                     // lone continuation
             "\xBF"s,                     // lone continuation
             "\xC0\xAF"s,                 // overlong '/'
             "\xC1\xBF"s,                 // overlong U+007F
             "\xE0\x80\xAF"s,             // overlong '/' in 3 bytes
             "\xE0\x9F\xBF"s,             // overlong U+07FF
             "\xF0\x80\x80\xAF"s,         // overlong '/' in 4 bytes
             "\xF0\x8F\xBF\xBF"s,         // overlong U+FFFF
             "\xED\xA0\x80"s,             // U+D800, a surrogate
             "\xED\xBF\xBF"s,             // U+DFFF
             "\xED\xA0\x80\xED\xB0\x80"s, // a CESU-8 surrogate pair
             "\xF4\x90\x80\x80"s,         // U+110000
             "\xF5\x80\x80\x80"s,         // lead byte beyond U+10FFFF
             "\xFE"s,
             "\xFF"s,         // never in UTF-8
             "\xE2\x82"s,     // truncated
             "\xF0\x9F\x98"s, // truncated
             "\xC3"s,         // truncated 2-byte
             "\xC3\x41"s,     // bad continuation
             "\xE2\x28\xA1"s, // bad second byte
             "\xE2\x82\x28"s, // bad third byte
             "12345678\xC3"s, // after an 8-byte ASCII run
             "abcdefghijklmnop\xED\xA0\x80qrstuvwx"s,
         }) {
        EXPECT_FALSE(valid_utf8(s)) << testing::PrintToString(s);
    }
}

TEST(WebsocketUtf8, MultibyteSplitAcrossFragments) {
    // "€" (E2 82 AC) and "😀" (F0 9F 98 80) cut at each inner byte: valid once whole.
    const std::string text = "\xE2\x82\xAC\xF0\x9F\x98\x80";
    for (std::size_t cut = 1; cut < text.size(); ++cut) {
        const auto wire = raw_frame(0x01, text.substr(0, cut)) + raw_frame(0x80, text.substr(cut));
        auto d = decode(wire);
        ASSERT_EQ(d.state, core::parse_state::ok) << cut;
        ASSERT_EQ(d.events.size(), 1U);
        EXPECT_EQ(d.events[0].payload, text);
    }
    // A sequence left unfinished by the last fragment fails.
    const auto bad = raw_frame(0x01, "ok \xF0\x9F") + raw_frame(0x80, "\x98");
    EXPECT_EQ(decode(bad).code, close_code::invalid_payload);
}

// --- handshake helpers ---

TEST(WebsocketHandshake, Rfc1_3AcceptKey) {
    // The value printed in RFC 6455 §1.3 (and computed independently with Python's hashlib).
    EXPECT_EQ(accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(WebsocketHandshake, ClientKeyIs16Base64Bytes) {
    EXPECT_TRUE(valid_client_key("dGhlIHNhbXBsZSBub25jZQ=="));
    EXPECT_TRUE(valid_client_key("AAAAAAAAAAAAAAAAAAAAAA=="));
    EXPECT_TRUE(valid_client_key("+/+/+/+/+/+/+/+/+/+/+w=="));
    EXPECT_FALSE(valid_client_key(""));
    EXPECT_FALSE(valid_client_key("dGhlIHNhbXBsZSBub25jZQ"));  // no padding
    EXPECT_FALSE(valid_client_key("dGhlIHNhbXBsZSBub25jZQ=")); // 23 characters
    EXPECT_FALSE(valid_client_key("dGhlIHNhbXBsZSBub25jZQ==="));
    EXPECT_FALSE(valid_client_key("dGhlIHNhbXBsZSBub25j*Q=="));
    EXPECT_FALSE(valid_client_key("c2FtcGxlIG5vbmNlIG9mIDIw")); // 18 bytes
}

TEST(WebsocketHandshake, CloseCodes) {
    EXPECT_TRUE(valid_close_code(1000));
    EXPECT_TRUE(valid_close_code(1011));
    EXPECT_TRUE(valid_close_code(4999));
    for (std::uint16_t bad : {0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535}) {
        EXPECT_FALSE(valid_close_code(bad)) << bad;
    }
}

TEST(WebsocketFrame, ShrinkReleasesIdleBuffers) {
    frame_reader reader;
    reader.feed(core::as_bytes(raw_frame(0x01, std::string(1000, 'a'))));
    EXPECT_EQ(reader.partial_bytes(), 1000U);
    reader.shrink(); // a message is in progress: kept
    EXPECT_EQ(reader.partial_bytes(), 1000U);
    reader.feed(core::as_bytes(raw_frame(0x80, "b")));
    reader.shrink(); // the message is queued, not drained: kept
    ASSERT_EQ(reader.queued(), 1U);
    EXPECT_EQ(reader.next()->payload.size(), 1001U);
    reader.shrink();
    EXPECT_EQ(reader.partial_bytes(), 0U);
    EXPECT_EQ(reader.queued(), 0U);
    // Still usable afterwards.
    reader.feed(core::as_bytes(client_frame(opcode::text, "again")));
    EXPECT_EQ(reader.next()->payload, "again");
}

} // namespace
} // namespace livehouse::codec::websocket
