// Fuzz target: WebSocket frame reading (RFC 6455 §5), server role. Properties:
// - feeding the input whole or in two pieces (cut where the first byte says) gives the same
//   events and the same verdict: frames are consumed whole or not at all;
// - a text message that comes out is valid UTF-8 and within the limit;
// - every message re-encoded as a server frame reads back unchanged in the client role.
#include "codec/websocket/frame.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

using namespace livehouse;
using namespace livehouse::codec::websocket;

constexpr frame_limits limits{.max_message_bytes = 4096, .max_fragments = 16};

struct outcome {
    std::vector<event> events;
    core::parse_state state = core::parse_state::ok;
    std::uint16_t code = 0;
};

outcome run(core::bytes_view in, std::size_t cut) {
    frame_reader reader(role::server, limits);
    outcome o;
    std::string buffer;
    for (auto piece : {in.subspan(0, cut), in.subspan(cut)}) {
        buffer.append(core::as_chars(piece));
        auto r = reader.feed(core::as_bytes(buffer));
        if (r.consumed > buffer.size()) {
            std::abort();
        }
        buffer.erase(0, r.consumed);
        o.state = r.state;
        while (auto e = reader.next()) {
            o.events.push_back(std::move(*e));
        }
        if (r.state == core::parse_state::error) {
            break;
        }
    }
    o.code = reader.error_close_code();
    return o;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const core::bytes_view in(data, size);
    const auto whole = run(in, size);
    const auto split = run(in, size == 0 ? 0 : data[0] % (size + 1));
    if (whole.state != split.state || whole.code != split.code ||
        whole.events.size() != split.events.size()) {
        std::abort();
    }
    if ((whole.state == core::parse_state::error) != (whole.code != 0)) {
        std::abort();
    }
    for (std::size_t i = 0; i < whole.events.size(); ++i) {
        const auto& e = whole.events[i];
        if (e.op != split.events[i].op || e.payload != split.events[i].payload ||
            e.code != split.events[i].code) {
            std::abort();
        }
        if (e.op == opcode::continuation || e.payload.size() > limits.max_message_bytes) {
            std::abort();
        }
        if (e.op == opcode::text && !valid_utf8(e.payload)) {
            std::abort();
        }
        const auto frame =
            e.op == opcode::close ? encode_close(e.code, e.payload) : encode_frame(e.op, e.payload);
        frame_reader client(role::client, limits);
        auto r = client.feed(core::as_bytes(frame));
        auto back = client.next();
        if (r.state != core::parse_state::ok || r.consumed != frame.size() || !back ||
            back->op != e.op || back->payload != e.payload || back->code != e.code) {
            std::abort();
        }
    }
    return 0;
}
