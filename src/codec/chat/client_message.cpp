// Client chat messages: parse with nlohmann-json in its no-throw mode, then check each field.
#include "codec/chat/client_message.hpp"

#include "codec/json/depth.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace livehouse::codec::chat {

namespace {

using json = nlohmann::json;

constexpr int max_depth = 4;

refusal refuse(std::string code, std::string message, std::string ref = {}) {
    return refusal{std::move(code), std::move(message), std::move(ref)};
}

std::string_view trim(std::string_view s) {
    const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
    while (!s.empty() && space(s.front())) {
        s.remove_prefix(1);
    }
    while (!s.empty() && space(s.back())) {
        s.remove_suffix(1);
    }
    return s;
}

bool printable_ascii(std::string_view s) {
    for (char c : s) {
        if (c < 0x21 || c > 0x7e) {
            return false;
        }
    }
    return true;
}

} // namespace

std::size_t utf8_length(std::string_view s) {
    std::size_t n = 0;
    for (char c : s) {
        if ((static_cast<unsigned char>(c) & 0xC0U) != 0x80U) {
            ++n;
        }
    }
    return n;
}

std::variant<client_command, refusal> parse_client_message(std::string_view text,
                                                           const client_limits& limits) {
    if (text.size() > limits.max_message_bytes) {
        return refuse("message_too_big", fmt::format("message of {} bytes (at most {})",
                                                     text.size(), limits.max_message_bytes));
    }
    if (!json_depth_within(text, max_depth)) {
        return refuse("bad_json", fmt::format("JSON nested deeper than {}", max_depth));
    }
    const json doc = json::parse(text, nullptr, false);
    if (doc.is_discarded()) {
        return refuse("bad_json", "not valid JSON");
    }
    if (!doc.is_object()) {
        return refuse("bad_message", "a message is a JSON object");
    }
    std::string ref;
    if (auto it = doc.find("ref"); it != doc.end()) {
        if (!it->is_string() || it->get_ref<const std::string&>().size() > limits.max_ref_bytes ||
            !printable_ascii(it->get_ref<const std::string&>())) {
            return refuse("bad_message",
                          fmt::format("ref must be a string of at most {} printable ASCII bytes",
                                      limits.max_ref_bytes));
        }
        ref = it->get<std::string>();
    }
    auto type = doc.find("type");
    if (type == doc.end() || !type->is_string()) {
        return refuse("bad_message", "missing \"type\"", ref);
    }
    const auto& t = type->get_ref<const std::string&>();
    if (t != "send") {
        return refuse("unknown_type",
                      fmt::format("unknown type \"{}\"", t.size() > 32 ? t.substr(0, 32) : t), ref);
    }
    auto body = doc.find("text");
    if (body == doc.end() || !body->is_string()) {
        return refuse("bad_message", "\"send\" needs a \"text\" string", ref);
    }
    const std::string_view trimmed = trim(body->get_ref<const std::string&>());
    if (trimmed.empty()) {
        return refuse("text_empty", "text is empty", ref);
    }
    for (char c : trimmed) {
        const auto u = static_cast<unsigned char>(c);
        if ((u < 0x20 && c != '\n') || u == 0x7f) {
            return refuse("bad_text", "text has control characters", ref);
        }
    }
    if (const auto n = utf8_length(trimmed); n > limits.max_text_chars) {
        return refuse("text_too_long",
                      fmt::format("text of {} characters (at most {})", n, limits.max_text_chars),
                      ref);
    }
    return client_command{command_kind::send, std::string(trimmed), std::move(ref)};
}

} // namespace livehouse::codec::chat
