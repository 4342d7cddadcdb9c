// Server-side RTMP message builders and command/metadata parsers.
#include "codec/rtmp/messages.hpp"

#include <fmt/format.h>

namespace livehouse::codec::rtmp {

namespace {

message control(message_type type, std::string payload) {
    message m;
    m.type = type;
    m.stream_id = 0;
    m.csid = control_csid;
    m.payload = core::make_shared_bytes(std::move(payload));
    return m;
}

message control_u32(message_type type, std::uint32_t v) {
    std::string p;
    core::byte_writer(p).u32(v);
    return control(type, std::move(p));
}

message user_control_msg(user_control_event event, std::uint32_t v) {
    std::string p;
    core::byte_writer w(p);
    w.u16(static_cast<std::uint16_t>(event));
    w.u32(v);
    return control(message_type::user_control, std::move(p));
}

amf0_object status_info(std::string_view level, std::string_view code,
                        std::string_view description) {
    return amf0_object{{{"level", level}, {"code", code}, {"description", description}}};
}

} // namespace

message make_set_chunk_size(std::uint32_t size) {
    return control_u32(message_type::set_chunk_size, size);
}
message make_acknowledgement(std::uint32_t sequence) {
    return control_u32(message_type::acknowledgement, sequence);
}
message make_window_ack_size(std::uint32_t size) {
    return control_u32(message_type::window_ack_size, size);
}
message make_set_peer_bandwidth(std::uint32_t size, peer_bandwidth_limit limit) {
    std::string p;
    core::byte_writer w(p);
    w.u32(size);
    w.u8(static_cast<std::uint8_t>(limit));
    return control(message_type::set_peer_bandwidth, std::move(p));
}
message make_stream_begin(std::uint32_t stream_id) {
    return user_control_msg(user_control_event::stream_begin, stream_id);
}
message make_ping_response(std::uint32_t timestamp) {
    return user_control_msg(user_control_event::ping_response, timestamp);
}

message make_command(std::uint32_t stream_id, std::uint32_t csid,
                     std::span<const amf0_value> values) {
    std::string p;
    amf0_encode_all(values, p);
    message m;
    m.type = message_type::command_amf0;
    m.stream_id = stream_id;
    m.csid = csid;
    m.payload = core::make_shared_bytes(std::move(p));
    return m;
}

message make_connect_result(double transaction_id, double object_encoding) {
    const amf0_value values[] = {
        "_result",
        transaction_id,
        amf0_object{{{"fmsVer", "FMS/3,0,1,123"}, {"capabilities", 31.0}}},
        amf0_object{{{"level", "status"},
                     {"code", code_connect_success},
                     {"description", "Connection succeeded."},
                     {"objectEncoding", object_encoding}}},
    };
    return make_command(0, command_csid, values);
}

message make_create_stream_result(double transaction_id, std::uint32_t stream_id) {
    const amf0_value values[] = {"_result", transaction_id, amf0_null{},
                                 static_cast<double>(stream_id)};
    return make_command(0, command_csid, values);
}

message make_result(double transaction_id) {
    const amf0_value values[] = {"_result", transaction_id, amf0_null{}};
    return make_command(0, command_csid, values);
}

message make_error_result(double transaction_id, std::string_view code,
                          std::string_view description) {
    const amf0_value values[] = {"_error", transaction_id, amf0_null{},
                                 status_info("error", code, description)};
    return make_command(0, command_csid, values);
}

message make_on_status(std::uint32_t stream_id, std::string_view level, std::string_view code,
                       std::string_view description) {
    // §7.2.2: "The server sends NetStream status messages ... onStatus ... Transaction ID: 0,
    // Command Object: NULL, Info Object: ... at least level, code and description".
    const amf0_value values[] = {"onStatus", 0.0, amf0_null{},
                                 status_info(level, code, description)};
    return make_command(stream_id, stream_status_csid, values);
}

message make_on_fc_publish(std::string_view code, std::string_view description) {
    const amf0_value values[] = {"onFCPublish", 0.0, amf0_null{},
                                 amf0_object{{{"code", code}, {"description", description}}}};
    return make_command(0, command_csid, values);
}

core::result<command> parse_command(core::bytes_view payload, const amf0_limits& limits) {
    auto values = amf0_decode_all(payload, limits);
    if (!values) {
        return values.err().wrap("command");
    }
    auto& v = *values;
    if (v.empty() || !v[0].is_string()) {
        return core::make_error("command: first value is not a command name string");
    }
    command c;
    c.name = std::move(*std::get_if<std::string>(&v[0].v));
    if (v.size() > 1) {
        if (const auto* txn = v[1].as_number()) {
            c.transaction_id = *txn;
        }
    }
    if (v.size() > 2) {
        c.object = std::move(v[2]);
    }
    for (std::size_t i = 3; i < v.size(); ++i) {
        c.args.push_back(std::move(v[i]));
    }
    return c;
}

core::result<std::optional<amf0_value>> parse_metadata(core::bytes_view payload,
                                                       const amf0_limits& limits) {
    auto values = amf0_decode_all(payload, limits);
    if (!values) {
        return values.err().wrap("metadata");
    }
    auto& v = *values;
    std::size_t i = 0;
    if (i < v.size() && v[i].is_string() && *v[i].as_string() == "@setDataFrame") {
        ++i;
    }
    if (i + 1 >= v.size() || !v[i].is_string() || *v[i].as_string() != "onMetaData" ||
        !v[i + 1].is_object_like()) {
        return std::optional<amf0_value>();
    }
    return std::optional<amf0_value>(std::move(v[i + 1]));
}

core::result<user_control> parse_user_control(core::bytes_view payload) {
    core::byte_reader r(payload);
    auto event = r.u16();
    auto value = r.u32();
    if (!value) {
        return core::make_error(
            fmt::format("user control: payload of {} bytes is too short", payload.size()));
    }
    return user_control{static_cast<user_control_event>(*event), *value};
}

core::result<std::vector<message>> split_aggregate(const message& agg) {
    core::byte_reader r(agg.bytes());
    std::vector<message> out;
    std::int64_t first_ts = 0;
    while (!r.empty()) {
        // FLV tag header: TagType UI8, DataSize UI24, Timestamp UI24 + TimestampExtended UI8
        // (the upper 8 bits), StreamID UI24.
        auto type = r.u8();
        auto size = r.u24();
        auto ts_low = r.u24();
        auto ts_high = r.u8();
        if (!r.skip(3) || !type || !size || !ts_low || !ts_high) {
            return core::make_error(
                fmt::format("aggregate: sub-message {}: truncated header", out.size()));
        }
        auto data = r.take(*size);
        if (!data || !r.skip(4)) {
            return core::make_error(fmt::format(
                "aggregate: sub-message {}: {} bytes overrun the payload", out.size(), *size));
        }
        const std::int64_t ts = (std::int64_t{*ts_high} << 24U) | *ts_low;
        if (out.empty()) {
            first_ts = ts;
        }
        message m;
        m.type = static_cast<message_type>(*type);
        m.stream_id = agg.stream_id;
        m.csid = agg.csid;
        m.timestamp_ms = agg.timestamp_ms + (ts - first_ts);
        m.payload = core::make_shared_bytes(std::string(core::as_chars(*data)));
        out.push_back(std::move(m));
    }
    return out;
}

} // namespace livehouse::codec::rtmp
