// Love batches: nlohmann-json in its no-throw mode after a nesting check, then each field.
#include "codec/love/love_batch.hpp"

#include "codec/json/depth.hpp"

#include <cmath>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace livehouse::codec::love {

namespace {

using json = nlohmann::json;

batch_refusal refuse(std::string field, std::string message) {
    return batch_refusal{std::move(field), std::move(message)};
}

bool printable_ascii(std::string_view s) {
    for (const char c : s) {
        if (c < 0x21 || c > 0x7e) {
            return false;
        }
    }
    return true;
}

} // namespace

std::variant<love_batch, batch_refusal> parse_love_batch(std::string_view body,
                                                         const batch_limits& limits) {
    if (body.size() > limits.max_body_bytes) {
        return refuse("body", fmt::format("body: larger than {} bytes", limits.max_body_bytes));
    }
    // {"taps":[...]} is depth 2; nothing deeper is meaningful.
    if (!json_depth_within(body, 2)) {
        return refuse("body", "body: nested too deep");
    }
    const json doc = json::parse(body, nullptr, false);
    if (doc.is_discarded()) {
        return refuse("body", "body: not valid JSON");
    }
    if (!doc.is_object()) {
        return refuse("body", "body: must be a JSON object");
    }
    love_batch b;
    const auto id = doc.find("batch_id");
    if (id == doc.end()) {
        return refuse("batch_id", "batch_id: required");
    }
    if (!id->is_string()) {
        return refuse("batch_id", "batch_id: must be a string");
    }
    b.batch_id = id->get<std::string>();
    if (b.batch_id.empty() || b.batch_id.size() > limits.max_batch_id_bytes ||
        !printable_ascii(b.batch_id)) {
        return refuse("batch_id", fmt::format("batch_id: must be 1..{} printable ASCII characters",
                                              limits.max_batch_id_bytes));
    }
    const auto taps = doc.find("taps");
    if (taps == doc.end()) {
        return refuse("taps", "taps: required");
    }
    if (!taps->is_array()) {
        return refuse("taps", "taps: must be an array of video timestamps (seconds)");
    }
    if (taps->size() > limits.max_taps) {
        return refuse("taps", fmt::format("taps: more than {} in one batch", limits.max_taps));
    }
    b.taps.reserve(taps->size());
    for (const auto& t : *taps) {
        if (!t.is_number()) {
            return refuse("taps", "taps: every tap must be a number (video seconds)");
        }
        const double v = t.get<double>();
        if (!std::isfinite(v) || v < 0) {
            return refuse("taps", "taps: every tap must be a finite number >= 0");
        }
        b.taps.push_back(v);
    }
    return b;
}

} // namespace livehouse::codec::love
