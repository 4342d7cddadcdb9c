// Fuzz target: the RTMP chunk reader, with an oracle. The input is decoded twice, once whole
// and once in two pieces cut where its first byte says (as a session sees a TCP stream); both
// runs must yield the same messages and stop at the same error, if any. Command and data
// messages are also handed to the AMF0 command/metadata parsers, aggregates split.
#include "codec/rtmp/chunk_reader.hpp"
#include "codec/rtmp/messages.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

namespace {

using namespace livehouse;
using codec::rtmp::message;
using codec::rtmp::message_type;

struct outcome {
    std::vector<message> messages;
    bool failed = false;
};

// Small limits so the fuzzer reaches them with small inputs.
codec::rtmp::chunk_limits limits() {
    return {.max_chunk_size = 1 << 16,
            .max_message_length = 1 << 16,
            .max_chunk_streams = 8,
            .max_partial_bytes = 1 << 17};
}

void drain(codec::rtmp::chunk_reader& r, outcome& out) {
    while (auto m = r.next()) {
        out.messages.push_back(std::move(*m));
    }
}

outcome run(core::bytes_view in, std::size_t cut) {
    outcome out;
    codec::rtmp::chunk_reader r(limits());
    auto first = r.feed(in.first(cut));
    drain(r, out);
    if (first.state == core::parse_state::error) {
        out.failed = true;
        return out;
    }
    auto second = r.feed(in.subspan(first.consumed));
    drain(r, out);
    out.failed = second.state == core::parse_state::error;
    // Acks are a pure function of what was consumed.
    (void)r.ack_due();
    return out;
}

bool same(const message& a, const message& b) {
    return a.type == b.type && a.stream_id == b.stream_id && a.timestamp_ms == b.timestamp_ms &&
           a.csid == b.csid && *a.payload == *b.payload;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    const std::size_t cut = data[0] % size;
    const core::bytes_view in(data + 1, size - 1);
    const outcome whole = run(in, in.size());
    const outcome split = run(in, std::min(cut, in.size()));
    if (whole.failed != split.failed || whole.messages.size() != split.messages.size()) {
        std::abort();
    }
    for (std::size_t i = 0; i < whole.messages.size(); ++i) {
        if (!same(whole.messages[i], split.messages[i])) {
            std::abort();
        }
        const auto& m = whole.messages[i];
        if (m.type == message_type::command_amf0) {
            (void)codec::rtmp::parse_command(m.bytes());
        } else if (m.type == message_type::data_amf0) {
            (void)codec::rtmp::parse_metadata(m.bytes());
        } else if (m.type == message_type::user_control) {
            (void)codec::rtmp::parse_user_control(m.bytes());
        } else if (m.type == message_type::aggregate) {
            (void)codec::rtmp::split_aggregate(m);
        }
    }
    return 0;
}
