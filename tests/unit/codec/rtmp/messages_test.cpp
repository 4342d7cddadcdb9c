#include "codec/rtmp/chunk_reader.hpp"
#include "codec/rtmp/messages.hpp"
#include "rtmp_test_util.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace livehouse::codec::rtmp {
namespace {

std::vector<amf0_value> values_of(const message& m) {
    auto v = amf0_decode_all(m.bytes());
    EXPECT_TRUE(v.has_value()) << (v ? "" : v.err().message);
    return v ? *v : std::vector<amf0_value>{};
}

std::string payload_hex(const message& m) {
    std::string out;
    for (unsigned char c : *m.payload) {
        out += fmt::format("{:02x}", c);
    }
    return out;
}

TEST(Messages, ProtocolControl) {
    auto scs = make_set_chunk_size(4096);
    EXPECT_EQ(scs.type, message_type::set_chunk_size);
    EXPECT_EQ(scs.csid, 2U);
    EXPECT_EQ(scs.stream_id, 0U);
    EXPECT_EQ(payload_hex(scs), "00001000");
    EXPECT_EQ(payload_hex(make_acknowledgement(0x01020304)), "01020304");
    EXPECT_EQ(make_acknowledgement(1).type, message_type::acknowledgement);
    EXPECT_EQ(payload_hex(make_window_ack_size(5000000)), "004c4b40");
    auto spb = make_set_peer_bandwidth(5000000, peer_bandwidth_limit::dynamic);
    EXPECT_EQ(spb.type, message_type::set_peer_bandwidth);
    EXPECT_EQ(payload_hex(spb), "004c4b4002");
    auto sb = make_stream_begin(1);
    EXPECT_EQ(sb.type, message_type::user_control);
    EXPECT_EQ(payload_hex(sb), "000000000001");
    EXPECT_EQ(payload_hex(make_ping_response(7)), "000700000007");

    auto uc = parse_user_control(sb.bytes());
    ASSERT_TRUE(uc.has_value());
    EXPECT_EQ(uc->event, user_control_event::stream_begin);
    EXPECT_EQ(uc->value, 1U);
    EXPECT_FALSE(parse_user_control(core::as_bytes(std::string_view("\x00\x06\x00", 3))));
}

TEST(Messages, ConnectResult) {
    auto m = make_connect_result(1, 0);
    EXPECT_EQ(m.type, message_type::command_amf0);
    EXPECT_EQ(m.csid, command_csid);
    EXPECT_EQ(m.stream_id, 0U);
    auto v = values_of(m);
    ASSERT_EQ(v.size(), 4U);
    EXPECT_EQ(v[0], amf0_value("_result"));
    EXPECT_EQ(v[1], amf0_value(1.0));
    EXPECT_EQ(v[2].get_string("fmsVer"), "FMS/3,0,1,123");
    EXPECT_EQ(v[2].get_number("capabilities"), 31);
    EXPECT_EQ(v[3].get_string("level"), "status");
    EXPECT_EQ(v[3].get_string("code"), "NetConnection.Connect.Success");
    EXPECT_FALSE(v[3].get_string("description").empty());
    ASSERT_NE(v[3].get("objectEncoding"), nullptr);
    EXPECT_EQ(v[3].get_number("objectEncoding", -1), 0);
}

TEST(Messages, CreateStreamAndBareResults) {
    auto v = values_of(make_create_stream_result(4, 1));
    ASSERT_EQ(v.size(), 4U);
    EXPECT_EQ(v[0], amf0_value("_result"));
    EXPECT_EQ(v[1], amf0_value(4.0));
    EXPECT_TRUE(v[2].is_null());
    EXPECT_EQ(v[3], amf0_value(1.0));

    auto r = values_of(make_result(2));
    ASSERT_EQ(r.size(), 3U);
    EXPECT_EQ(r[1], amf0_value(2.0));
    EXPECT_TRUE(r[2].is_null());

    auto e = values_of(make_error_result(3, "NetConnection.Call.Failed", "nope"));
    ASSERT_EQ(e.size(), 4U);
    EXPECT_EQ(e[0], amf0_value("_error"));
    EXPECT_EQ(e[3].get_string("level"), "error");
    EXPECT_EQ(e[3].get_string("code"), "NetConnection.Call.Failed");
}

TEST(Messages, OnStatus) {
    auto m = make_on_status(1, "error", code_publish_bad_name, "unknown stream key");
    EXPECT_EQ(m.stream_id, 1U);
    EXPECT_EQ(m.csid, stream_status_csid);
    auto v = values_of(m);
    ASSERT_EQ(v.size(), 4U);
    EXPECT_EQ(v[0], amf0_value("onStatus"));
    EXPECT_EQ(v[1], amf0_value(0.0));
    EXPECT_TRUE(v[2].is_null());
    EXPECT_EQ(v[3].get_string("level"), "error");
    EXPECT_EQ(v[3].get_string("code"), "NetStream.Publish.BadName");
    EXPECT_EQ(v[3].get_string("description"), "unknown stream key");

    auto fc = values_of(make_on_fc_publish(code_publish_start, "key"));
    ASSERT_EQ(fc.size(), 4U);
    EXPECT_EQ(fc[0], amf0_value("onFCPublish"));
    EXPECT_EQ(fc[3].get_string("code"), "NetStream.Publish.Start");
}

TEST(Messages, ParseCommand) {
    const amf0_value sent[] = {"publish", 5.0, amf0_null{}, "key", "live"};
    auto m = make_command(1, 8, sent);
    auto c = parse_command(m.bytes());
    ASSERT_TRUE(c.has_value()) << c.err().message;
    EXPECT_EQ(c->name, "publish");
    EXPECT_EQ(c->transaction_id, 5.0);
    EXPECT_TRUE(c->object.is_null());
    ASSERT_EQ(c->args.size(), 2U);
    EXPECT_EQ(c->args[0], amf0_value("key"));

    // Only a name: defaults for the rest.
    const amf0_value bare[] = {"FCUnpublish"};
    auto b = parse_command(make_command(0, 3, bare).bytes());
    ASSERT_TRUE(b.has_value());
    EXPECT_EQ(b->transaction_id, 0);
    EXPECT_TRUE(b->object.is_null());

    EXPECT_FALSE(parse_command({}).has_value());
    const amf0_value not_named[] = {1.0};
    EXPECT_FALSE(parse_command(make_command(0, 3, not_named).bytes()).has_value());
    auto broken = parse_command(core::as_bytes(std::string_view("\x02\x00\x09pub", 6)));
    ASSERT_FALSE(broken.has_value());
    EXPECT_EQ(broken.err().message.substr(0, 14), "command: amf0:");
}

TEST(Messages, ParseMetadata) {
    const amf0_value forwarded[] = {"onMetaData", amf0_ecma_array{{{"width", 640.0}}}};
    auto m = make_command(1, 4, forwarded);
    auto md = parse_metadata(m.bytes());
    ASSERT_TRUE(md.has_value()) << md.err().message;
    ASSERT_TRUE(md->has_value());
    EXPECT_EQ((*md)->get_number("width"), 640);

    const amf0_value set[] = {"@setDataFrame", "onMetaData", amf0_object{{{"height", 480.0}}}};
    auto md2 = parse_metadata(make_command(1, 4, set).bytes());
    ASSERT_TRUE(md2.has_value());
    ASSERT_TRUE(md2->has_value());
    EXPECT_EQ((*md2)->get_number("height"), 480);

    // Other data messages are not errors, just not metadata.
    const amf0_value other[] = {"@setDataFrame", "onCuePoint", amf0_object{}};
    auto cue = parse_metadata(make_command(1, 4, other).bytes());
    ASSERT_TRUE(cue.has_value());
    EXPECT_FALSE(cue->has_value());
    const amf0_value no_obj[] = {"onMetaData", 1.0};
    auto bare = parse_metadata(make_command(1, 4, no_obj).bytes());
    ASSERT_TRUE(bare.has_value());
    EXPECT_FALSE(bare->has_value());
    // Malformed AMF0 is.
    EXPECT_FALSE(parse_metadata(core::as_bytes(std::string_view("\x02\x00\x0aonMeta", 9))));
}

TEST(Messages, SplitAggregate) {
    // Two FLV-framed sub-messages at 1000 and 1040 in an aggregate stamped 5000 on stream 1.
    std::string body;
    core::byte_writer w(body);
    auto sub = [&](std::uint8_t type, std::uint32_t ts, std::string_view data) {
        w.u8(type);
        w.u24(static_cast<std::uint32_t>(data.size()));
        w.u24(ts & 0xFFFFFFU);
        w.u8(static_cast<std::uint8_t>(ts >> 24U));
        w.u24(0);
        w.bytes(data);
        w.u32(static_cast<std::uint32_t>(11 + data.size()));
    };
    sub(9, 1000, "video");
    sub(8, 1040, "au");
    message agg;
    agg.type = message_type::aggregate;
    agg.stream_id = 1;
    agg.csid = 7;
    agg.timestamp_ms = 5000;
    agg.payload = core::make_shared_bytes(body);
    auto parts = split_aggregate(agg);
    ASSERT_TRUE(parts.has_value()) << parts.err().message;
    ASSERT_EQ(parts->size(), 2U);
    EXPECT_EQ((*parts)[0].type, message_type::video);
    EXPECT_EQ((*parts)[0].timestamp_ms, 5000);
    EXPECT_EQ(*(*parts)[0].payload, "video");
    EXPECT_EQ((*parts)[1].type, message_type::audio);
    EXPECT_EQ((*parts)[1].timestamp_ms, 5040);
    EXPECT_EQ((*parts)[1].stream_id, 1U);
    EXPECT_EQ(*(*parts)[1].payload, "au");

    // Every truncation is an error, never an overrun.
    for (std::size_t n = 1; n < body.size(); ++n) {
        message cut = agg;
        cut.payload = core::make_shared_bytes(body.substr(0, n));
        const bool boundary = n == 11 + 5 + 4;
        EXPECT_EQ(split_aggregate(cut).has_value(), boundary) << n;
    }
}

TEST(Messages, CapturedCommandsParse) {
    chunk_reader r;
    ASSERT_NE(r.feed(core::as_bytes(test::captured_chunks())).state, core::parse_state::error);
    int seen = 0;
    while (auto m = r.next()) {
        if (m->type == message_type::command_amf0) {
            auto c = parse_command(m->bytes());
            ASSERT_TRUE(c.has_value()) << c.err().message;
            if (c->name == "createStream") {
                EXPECT_TRUE(c->object.is_null());
                EXPECT_GT(c->transaction_id, 1);
                ++seen;
            }
            if (c->name == "FCPublish" || c->name == "releaseStream") {
                ASSERT_FALSE(c->args.empty());
                EXPECT_EQ(c->args[0], amf0_value("test"));
                ++seen;
            }
        }
    }
    EXPECT_EQ(seen, 3);
}

} // namespace
} // namespace livehouse::codec::rtmp
