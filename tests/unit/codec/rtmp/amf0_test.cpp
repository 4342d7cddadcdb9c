#include "codec/rtmp/amf0.hpp"
#include "rtmp_test_util.hpp"

#include <cmath>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <limits>

namespace livehouse::codec::rtmp {
namespace {

std::string encode(const amf0_value& v) {
    std::string out;
    amf0_encode(v, out);
    return out;
}

core::result<amf0_value> decode(std::string_view bytes, const amf0_limits& limits = {}) {
    core::byte_reader r(core::as_bytes(bytes));
    auto v = amf0_decode(r, limits);
    if (v && !r.empty()) {
        return core::make_error("trailing bytes");
    }
    return v;
}

std::string hex(std::string_view s) {
    std::string out;
    for (unsigned char c : s) {
        out += fmt::format("{:02x}", c);
    }
    return out;
}

amf0_value round_trip(const amf0_value& v) {
    auto d = decode(encode(v));
    EXPECT_TRUE(d.has_value()) << (d ? "" : d.err().message);
    return d ? *d : amf0_value(amf0_undefined{});
}

TEST(Amf0, EncodesScalarsAsTheSpecSays) {
    // AMF0 spec §2.2 number: marker 0x00 + IEEE-754 double, big-endian.
    EXPECT_EQ(hex(encode(1.0)), "003ff0000000000000");
    EXPECT_EQ(hex(encode(true)), "0101");
    EXPECT_EQ(hex(encode(false)), "0100");
    EXPECT_EQ(hex(encode("ab")), "02000261"
                                 "62");
    EXPECT_EQ(hex(encode(amf0_null{})), "05");
    EXPECT_EQ(hex(encode(amf0_undefined{})), "06");
    EXPECT_EQ(hex(encode(amf0_date{0.0, 0})), "0b00000000000000000000");
    // §2.5 object: properties then UTF-8-empty + object-end.
    EXPECT_EQ(hex(encode(amf0_object{{{"a", 1.0}}})), "0300016100"
                                                      "3ff0000000000000"
                                                      "000009");
    EXPECT_EQ(hex(encode(amf0_ecma_array{{{"a", true}}})), "0800000001"
                                                           "000161"
                                                           "0101"
                                                           "000009");
    EXPECT_EQ(hex(encode(amf0_strict_array{{1.0, amf0_null{}}})), "0a00000002"
                                                                  "003ff0000000000000"
                                                                  "05");
    EXPECT_EQ(hex(encode(amf0_typed_object{"C", {}})), "10000143"
                                                       "000009");
}

TEST(Amf0, RoundTripsEveryType) {
    const amf0_value values[] = {
        0.0,
        -1.5,
        std::numeric_limits<double>::infinity(),
        std::numeric_limits<double>::quiet_NaN(),
        true,
        false,
        "",
        "hello",
        std::string(70000, 'x'), // long string (§2.14)
        amf0_null{},
        amf0_undefined{},
        amf0_object{},
        amf0_object{
            {{"app", "live"}, {"n", 3.0}, {"", true}, {"nested", amf0_object{{{"k", "v"}}}}}},
        amf0_ecma_array{{{"duration", 0.0}, {"width", 320.0}}},
        amf0_strict_array{},
        amf0_strict_array{{1.0, "two", amf0_object{{{"three", 3.0}}}, amf0_strict_array{{4.0}}}},
        amf0_date{1767225600000.0, 0},
        amf0_date{-1.0, -60},
        amf0_typed_object{"flash.geom.Point", {{"x", 1.0}, {"y", 2.0}}},
    };
    for (const auto& v : values) {
        EXPECT_EQ(round_trip(v), v) << hex(encode(v)).substr(0, 80);
    }
    // A short string sent as a long string decodes to the same string.
    auto d = decode(std::string("\x0c\x00\x00\x00\x02hi", 7));
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(*d, amf0_value("hi"));
}

TEST(Amf0, EqualityIsStructural) {
    EXPECT_EQ(amf0_value(std::numeric_limits<double>::quiet_NaN()),
              amf0_value(std::numeric_limits<double>::quiet_NaN()));
    EXPECT_NE(amf0_value(0.0), amf0_value(-0.0));
    EXPECT_NE(amf0_value(1.0), amf0_value(true));
    EXPECT_NE(amf0_value("1"), amf0_value(1.0));
    EXPECT_NE(amf0_value(amf0_object{{{"a", 1.0}}}), amf0_value(amf0_ecma_array{{{"a", 1.0}}}));
    EXPECT_NE(amf0_value(amf0_object{{{"a", 1.0}}}), amf0_value(amf0_object{{{"a", 2.0}}}));
    EXPECT_NE(amf0_value(amf0_null{}), amf0_value(amf0_undefined{}));
}

TEST(Amf0, Accessors) {
    const amf0_value v = amf0_object{{{"app", "live"}, {"n", 2.0}, {"app", "second"}}};
    EXPECT_TRUE(v.is_object_like());
    ASSERT_NE(v.get("app"), nullptr);
    EXPECT_EQ(*v.get("app")->as_string(), "live"); // first of repeated keys
    EXPECT_EQ(v.get_string("app"), "live");
    EXPECT_EQ(v.get_number("n"), 2.0);
    EXPECT_EQ(v.get_number("app", -1), -1); // wrong type -> fallback
    EXPECT_EQ(v.get("missing"), nullptr);
    EXPECT_EQ(v.get_string("missing", "dflt"), "dflt");
    EXPECT_EQ(amf0_value(1.0).get("x"), nullptr);
    EXPECT_EQ(amf0_value(1.0).as_string(), nullptr);
    EXPECT_EQ(*amf0_value(true).as_bool(), true);
    EXPECT_TRUE(amf0_value().is_null());
}

TEST(Amf0, EcmaArrayCountIsOnlyAHint) {
    // Count says 5, one property follows: the end marker decides (encoders get the count wrong).
    auto d = decode(std::string("\x08\x00\x00\x00\x05\x00\x01"
                                "a"
                                "\x05\x00\x00\x09",
                                12));
    ASSERT_TRUE(d.has_value()) << d.err().message;
    EXPECT_EQ(*d, amf0_value(amf0_ecma_array{{{"a", amf0_null{}}}}));
}

TEST(Amf0, EveryTruncationIsAnError) {
    const amf0_value v = amf0_object{{{"s", "str"},
                                      {"arr", amf0_strict_array{{1.0, true}}},
                                      {"e", amf0_ecma_array{{{"d", amf0_date{5.0, 0}}}}},
                                      {"t", amf0_typed_object{"T", {{"u", amf0_undefined{}}}}},
                                      {"n", amf0_null{}}}};
    // ... followed by a long string (§2.14), hand-encoded to keep it short.
    const std::string bytes = encode(v) + std::string("\x0c\x00\x00\x00\x05hello", 10);
    const std::string_view first = std::string_view(bytes).substr(0, bytes.size() - 10);
    for (std::size_t n = 0; n < bytes.size(); ++n) {
        const auto prefix = std::string_view(bytes).substr(0, n);
        if (n == first.size()) {
            EXPECT_TRUE(amf0_decode_all(core::as_bytes(prefix)).has_value());
            continue;
        }
        auto d = amf0_decode_all(core::as_bytes(prefix));
        EXPECT_EQ(d.has_value(), n == 0) << "prefix " << n;
    }
    auto all = amf0_decode_all(core::as_bytes(bytes));
    ASSERT_TRUE(all.has_value());
    ASSERT_EQ(all->size(), 2U);
    EXPECT_EQ((*all)[0], v);
    EXPECT_EQ((*all)[1], amf0_value("hello"));
}

TEST(Amf0, DepthLimit) {
    auto nested = [](std::size_t depth) {
        amf0_value v = 1.0;
        for (std::size_t i = 0; i < depth; ++i) {
            v = amf0_object{{{"k", std::move(v)}}};
        }
        return v;
    };
    EXPECT_TRUE(decode(encode(nested(32))).has_value());
    auto d = decode(encode(nested(33)));
    ASSERT_FALSE(d.has_value());
    EXPECT_NE(d.err().message.find("depth"), std::string::npos) << d.err().message;

    // Strict arrays count as nesting too.
    amf0_value a = 1.0;
    for (int i = 0; i < 40; ++i) {
        a = amf0_strict_array{{std::move(a)}};
    }
    EXPECT_FALSE(decode(encode(a)).has_value());
}

TEST(Amf0, ElementLimits) {
    amf0_object o;
    for (int i = 0; i < 1025; ++i) {
        o.properties.push_back({fmt::format("k{}", i), amf0_null{}});
    }
    auto d = decode(encode(o));
    ASSERT_FALSE(d.has_value());
    EXPECT_NE(d.err().message.find("more than 1024 properties"), std::string::npos)
        << d.err().message;
    o.properties.pop_back();
    EXPECT_TRUE(decode(encode(o)).has_value());

    amf0_strict_array a;
    a.items.assign(1025, amf0_null{});
    EXPECT_FALSE(decode(encode(a)).has_value());
    a.items.pop_back();
    EXPECT_TRUE(decode(encode(a)).has_value());

    // A huge declared count with no bytes behind it is refused before allocating.
    auto big = decode(std::string("\x0a\x00\x00\x03\xff", 5), amf0_limits{.max_elements = 10000});
    ASSERT_FALSE(big.has_value());
    EXPECT_NE(big.err().message.find("bytes left"), std::string::npos) << big.err().message;
}

TEST(Amf0, StringLimit) {
    const std::string at_limit(1024 * 1024, 'z');
    EXPECT_TRUE(decode(encode(at_limit)).has_value());
    auto d = decode(encode(at_limit + "z"));
    ASSERT_FALSE(d.has_value());
    EXPECT_NE(d.err().message.find("limit"), std::string::npos) << d.err().message;
    // The length is checked before the bytes are looked for.
    auto claimed = decode(std::string("\x0c\xff\xff\xff\xff", 5));
    ASSERT_FALSE(claimed.has_value());
    EXPECT_NE(claimed.err().message.find("> limit"), std::string::npos);
}

TEST(Amf0, TotalValueLimit) {
    std::string bytes;
    for (int i = 0; i < 11; ++i) {
        amf0_encode(amf0_null{}, bytes);
    }
    EXPECT_TRUE(amf0_decode_all(core::as_bytes(bytes), {.max_values = 11}).has_value());
    EXPECT_FALSE(amf0_decode_all(core::as_bytes(bytes), {.max_values = 10}).has_value());
}

TEST(Amf0, RefusesUnsupportedMarkers) {
    for (std::string_view bytes :
         {std::string_view("\x07\x00\x01", 3), std::string_view("\x11\x01", 2),
          std::string_view("\x04", 1), std::string_view("\x0d", 1), std::string_view("\x0e", 1),
          std::string_view("\x0f\x00\x00\x00\x00", 5), std::string_view("\x09", 1),
          std::string_view("\x12", 1), std::string_view("\xff", 1)}) {
        auto d = decode(bytes);
        EXPECT_FALSE(d.has_value()) << hex(bytes);
    }
    auto ref = decode(std::string_view("\x07\x00\x01", 3));
    EXPECT_NE(ref.err().message.find("reference"), std::string::npos);
}

TEST(Amf0, ErrorsTellTheStory) {
    // {"app": <string claiming 10 bytes with 2 present>}
    auto d = decode(std::string("\x03\x00\x03"
                                "app"
                                "\x02\x00\x0a"
                                "li",
                                11));
    ASSERT_FALSE(d.has_value());
    EXPECT_EQ(d.err().message,
              "amf0: object: property 'app': string: truncated: length 10 > 2 bytes left");
}

TEST(Amf0, DecodesTheCapturedConnectCommand) {
    // The first message of the captured session is connect on csid 3, split by one 0xC3
    // continuation header at the default 128-byte chunk size.
    const std::string chunks = test::captured_chunks();
    ASSERT_GT(chunks.size(), 200U);
    chunk_reader reader;
    ASSERT_NE(reader.feed(core::as_bytes(chunks)).state, core::parse_state::error);
    auto m = reader.next();
    ASSERT_TRUE(m.has_value());
    auto values = amf0_decode_all(m->bytes());
    ASSERT_TRUE(values.has_value()) << values.err().message;
    ASSERT_EQ(values->size(), 3U);
    EXPECT_EQ((*values)[0], amf0_value("connect"));
    EXPECT_EQ((*values)[1], amf0_value(1.0));
    const auto& obj = (*values)[2];
    EXPECT_EQ(obj.get_string("app"), "live");
    EXPECT_EQ(obj.get_string("type"), "nonprivate");
    EXPECT_NE(obj.get_string("flashVer").find("FMLE/3.0"), std::string_view::npos);
    EXPECT_EQ(obj.get_string("tcUrl").substr(0, 17), "rtmp://127.0.0.1:");
    // Re-encoding gives the same bytes back.
    std::string again;
    amf0_encode_all(*values, again);
    EXPECT_EQ(again, *m->payload);
}

} // namespace
} // namespace livehouse::codec::rtmp
