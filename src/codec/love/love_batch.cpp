// Love batches: a nesting check, then nlohmann-json's SAX parser (no exceptions: errors come to
// parse_error) straight into the batch — no document tree, so a batch costs one vector of taps
// and one string, not a node per tap. The whole body is still parsed before any field is
// judged, so invalid JSON is always "body: not valid JSON", and the field checks run in the
// order the API documents (batch_id, then taps). A key given twice counts as its last value.
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

/// What the SAX events said about the two fields, judged once the body has parsed.
class batch_reader {
  public:
    using json = nlohmann::json;
    using number_integer_t = json::number_integer_t;
    using number_unsigned_t = json::number_unsigned_t;
    using number_float_t = json::number_float_t;
    using string_t = json::string_t;
    using binary_t = json::binary_t;

    explicit batch_reader(const batch_limits& limits) : limits_(limits) {}

    enum class field_state { missing, wrong_type, ok };
    enum class tap_problem { none, not_a_number, not_finite };

    field_state id_state = field_state::missing;
    std::string batch_id;
    field_state taps_state = field_state::missing;
    std::size_t taps_seen = 0;
    tap_problem taps_problem = tap_problem::none;
    std::vector<double> taps;
    bool top_is_object = false;
    bool failed = false;

    bool null() { return scalar(); }
    bool boolean(bool) { return scalar(); }
    bool number_integer(number_integer_t v) { return number(static_cast<double>(v)); }
    bool number_unsigned(number_unsigned_t v) { return number(static_cast<double>(v)); }
    bool number_float(number_float_t v, const string_t&) { return number(v); }
    bool string(string_t& v) {
        if (depth_ == 1 && key_ == which::batch_id) {
            id_state = field_state::ok;
            batch_id = std::move(v);
            return true;
        }
        return scalar();
    }
    bool binary(binary_t&) { return scalar(); }
    bool start_object(std::size_t) {
        if (depth_ == 0) {
            top_is_object = true;
        } else {
            value_is_container();
        }
        ++depth_;
        key_ = which::other;
        return true;
    }
    bool end_object() {
        --depth_;
        return true;
    }
    bool key(string_t& k) {
        if (depth_ == 1) {
            key_ = k == "batch_id" ? which::batch_id : k == "taps" ? which::taps : which::other;
        }
        return true;
    }
    bool start_array(std::size_t) {
        if (depth_ == 1 && key_ == which::taps) {
            taps_state = field_state::ok;
            taps_seen = 0;
            taps_problem = tap_problem::none;
            taps.clear();
            in_taps_ = true;
        } else if (depth_ >= 1) {
            value_is_container();
        }
        ++depth_;
        return true;
    }
    bool end_array() {
        --depth_;
        if (depth_ == 1) {
            in_taps_ = false;
        }
        return true;
    }
    bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) {
        failed = true;
        return false;
    }

  private:
    enum class which { other, batch_id, taps };

    /// A field of the top object whose value is not what it should be.
    void wrong_value() {
        if (depth_ != 1) {
            return;
        }
        if (key_ == which::batch_id) {
            id_state = field_state::wrong_type;
            batch_id.clear();
        } else if (key_ == which::taps) {
            taps_state = field_state::wrong_type;
            taps.clear();
        }
    }
    void value_is_container() { wrong_value(); }
    bool scalar() {
        if (in_taps_ && depth_ == 2) {
            ++taps_seen;
            if (taps_problem == tap_problem::none) {
                taps_problem = tap_problem::not_a_number;
            }
            return true;
        }
        wrong_value();
        return true;
    }
    bool number(double v) {
        if (in_taps_ && depth_ == 2) {
            ++taps_seen;
            if (!std::isfinite(v) || v < 0) {
                if (taps_problem == tap_problem::none) {
                    taps_problem = tap_problem::not_finite;
                }
            } else if (taps.size() < limits_.max_taps) {
                taps.push_back(v); // beyond max_taps only counted: the batch is refused
            }
            return true;
        }
        wrong_value();
        return true;
    }

    const batch_limits& limits_;
    std::size_t depth_ = 0;
    which key_ = which::other;
    bool in_taps_ = false;
};

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
    batch_reader r(limits);
    using state = batch_reader::field_state;
    if (!json::sax_parse(body, &r) || r.failed) {
        return refuse("body", "body: not valid JSON");
    }
    if (!r.top_is_object) {
        return refuse("body", "body: must be a JSON object");
    }
    if (r.id_state == state::missing) {
        return refuse("batch_id", "batch_id: required");
    }
    if (r.id_state == state::wrong_type) {
        return refuse("batch_id", "batch_id: must be a string");
    }
    if (r.batch_id.empty() || r.batch_id.size() > limits.max_batch_id_bytes ||
        !printable_ascii(r.batch_id)) {
        return refuse("batch_id", fmt::format("batch_id: must be 1..{} printable ASCII characters",
                                              limits.max_batch_id_bytes));
    }
    if (r.taps_state == state::missing) {
        return refuse("taps", "taps: required");
    }
    if (r.taps_state == state::wrong_type) {
        return refuse("taps", "taps: must be an array of video timestamps (seconds)");
    }
    if (r.taps_seen > limits.max_taps) {
        return refuse("taps", fmt::format("taps: more than {} in one batch", limits.max_taps));
    }
    if (r.taps_problem == batch_reader::tap_problem::not_a_number) {
        return refuse("taps", "taps: every tap must be a number (video seconds)");
    }
    if (r.taps_problem == batch_reader::tap_problem::not_finite) {
        return refuse("taps", "taps: every tap must be a finite number >= 0");
    }
    return love_batch{std::move(r.batch_id), std::move(r.taps)};
}

} // namespace livehouse::codec::love
