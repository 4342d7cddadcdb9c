// RESP encoding of commands and integer decoding of replies.
#include "state/redis/reply.hpp"

#include <charconv>
#include <cmath>
#include <fmt/format.h>

namespace livehouse::state::redis {

namespace {

// "<prefix><n>\r\n"; to_chars, not fmt: this runs for every argument of every command, and
// the bench (docs/BENCHMARKS.md) measured fmt here as a tenth of the client's CPU.
void append_header(std::string& out, char prefix, std::size_t n) {
    char buf[24];
    buf[0] = prefix;
    auto [end, ec] = std::to_chars(buf + 1, buf + sizeof buf - 2, n);
    *end++ = '\r';
    *end++ = '\n';
    out.append(buf, end);
}

} // namespace

void encode_command(const command& cmd, std::string& out) {
    // RESP: "Clients send commands to a Redis server as an array of bulk strings."
    append_header(out, '*', cmd.size());
    for (const auto& arg : cmd) {
        append_header(out, '$', arg.size());
        out.append(arg);
        out.append("\r\n");
    }
}

core::result<std::int64_t> to_int(const reply& r) {
    if (r.type == reply::kind::integer) {
        return r.integer;
    }
    if (r.is_error()) {
        return core::make_error(r.str);
    }
    if (!r.is_string()) {
        return core::make_error("redis: expected an integer reply");
    }
    std::int64_t v = 0;
    const char* end = r.str.data() + r.str.size();
    auto [p, ec] = std::from_chars(r.str.data(), end, v);
    if (ec == std::errc() && p == end) {
        return v;
    }
    // Sorted-set scores come back as doubles ("5" or, from some paths, "5.0" / "5e+20"); an
    // integral double within range is an integer score.
    double d = 0;
    auto [q, ec2] = std::from_chars(r.str.data(), end, d);
    if (ec2 == std::errc() && q == end && std::isfinite(d) && d == std::floor(d) &&
        std::fabs(d) < 9.2e18) {
        return static_cast<std::int64_t>(d);
    }
    return core::make_error(fmt::format("redis: \"{}\" is not an integer", r.str));
}

} // namespace livehouse::state::redis
