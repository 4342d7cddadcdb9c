// Server chat messages: hand-assembled JSON around nlohmann's string escaping, so the field
// order is fixed ("type" then "offset" first) and the offset can be filled in later.
#include "codec/chat/server_messages.hpp"

#include <charconv>
#include <cmath>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace livehouse::codec::chat {

namespace {
constexpr std::string_view type_open = R"({"type":")";
constexpr std::string_view offset_key = R"(","offset":)";
} // namespace

std::string json_string(std::string_view s) {
    return nlohmann::json(std::string(s))
        .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

entry_parts render_message(const message_fields& m) {
    entry_parts p;
    p.prefix = R"({"type":"message","offset":)";
    const double position = std::isfinite(m.position_s) && m.position_s > 0 ? m.position_s : 0.0;
    p.suffix = fmt::format(
        R"(,"id":{},"user":{{"id":{},"name":{}}},"text":{},"time":{},"position":{:.3f})",
        json_string(m.id), json_string(m.user.id), json_string(m.user.name), json_string(m.text),
        m.time_ms, position);
    if (m.paid_amount) {
        p.suffix += fmt::format(R"(,"paid":{{"amount":{},"currency":{}}})", *m.paid_amount,
                                json_string(m.paid_currency));
    }
    p.suffix += '}';
    return p;
}

entry_parts render_delete(std::uint64_t target) {
    return {R"({"type":"delete","offset":)", fmt::format(R"(,"target":{}}})", target)};
}

std::string render_history(const std::vector<std::string_view>& entries, std::uint64_t next_offset,
                           bool resumed) {
    std::size_t size = 64;
    for (auto e : entries) {
        size += e.size() + 1;
    }
    std::string out;
    out.reserve(size);
    out += R"({"type":"history","messages":[)";
    for (std::size_t i = 0; i < entries.size(); ++i) {
        if (i > 0) {
            out += ',';
        }
        out += entries[i];
    }
    out += fmt::format(R"(],"next_offset":{},"resumed":{}}})", next_offset, resumed);
    return out;
}

std::string render_error(std::string_view code, std::string_view message, std::string_view ref) {
    std::string out = fmt::format(R"({{"type":"error","code":{},"message":{})", json_string(code),
                                  json_string(message));
    if (!ref.empty()) {
        out += fmt::format(R"(,"ref":{})", json_string(ref));
    }
    out += '}';
    return out;
}

std::string render_ack(std::uint64_t offset, std::string_view ref) {
    std::string out = fmt::format(R"({{"type":"ack","offset":{})", offset);
    if (!ref.empty()) {
        out += fmt::format(R"(,"ref":{})", json_string(ref));
    }
    out += '}';
    return out;
}

std::string render_skipped(std::uint64_t count) {
    return fmt::format(R"({{"type":"skipped","count":{}}})", count);
}

std::string render_status(std::string_view status) {
    return fmt::format(R"({{"type":"status","status":{}}})", json_string(status));
}

std::string render_muted(std::string_view user_id) {
    return fmt::format(R"({{"type":"muted","user":{}}})", json_string(user_id));
}

std::string render_unmuted(std::string_view user_id) {
    return fmt::format(R"({{"type":"unmuted","user":{}}})", json_string(user_id));
}

std::string_view entry_type(std::string_view entry) {
    if (!entry.starts_with(type_open)) {
        return {};
    }
    entry.remove_prefix(type_open.size());
    const auto end = entry.find('"');
    return end == std::string_view::npos ? std::string_view() : entry.substr(0, end);
}

std::string render_love(std::int64_t total) {
    return fmt::format(R"({{"type":"love","total":{}}})", total);
}

std::optional<std::uint64_t> entry_offset(std::string_view entry) {
    const auto type = entry_type(entry);
    if (type.empty()) {
        return std::nullopt;
    }
    entry.remove_prefix(type_open.size() + type.size());
    if (!entry.starts_with(offset_key)) {
        return std::nullopt;
    }
    entry.remove_prefix(offset_key.size());
    std::uint64_t v = 0;
    const auto [ptr, ec] = std::from_chars(entry.data(), entry.data() + entry.size(), v);
    if (ec != std::errc() || ptr == entry.data()) {
        return std::nullopt;
    }
    return v;
}

} // namespace livehouse::codec::chat
