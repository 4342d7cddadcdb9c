// record_checks: one set of field limits for every records backend.
#include "state/record_checks.hpp"

#include <fmt/format.h>
#include <initializer_list>

namespace livehouse::state {

namespace {

/// Well-formed UTF-8 (RFC 3629 §4: no overlong forms, no surrogates, at most U+10FFFF).
bool valid_utf8(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        std::size_t n = 0;
        unsigned lo = 0x80;
        unsigned hi = 0xBF;
        if (c < 0x80) {
            ++i;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            n = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            lo = c == 0xE0 ? 0xA0 : 0x80; // overlong
            hi = c == 0xED ? 0x9F : 0xBF; // surrogates
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            lo = c == 0xF0 ? 0x90 : 0x80; // overlong
            hi = c == 0xF4 ? 0x8F : 0xBF; // above U+10FFFF
        } else {
            return false;
        }
        if (s.size() - i <= n) {
            return false; // truncated sequence
        }
        for (std::size_t k = 1; k <= n; ++k) {
            const auto b = static_cast<unsigned char>(s[i + k]);
            if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xBF)) {
                return false;
            }
        }
        i += n + 1;
    }
    return true;
}

std::optional<core::error> check_text(std::string_view field, std::string_view value,
                                      std::size_t min, std::size_t max) {
    if (value.size() < min || value.size() > max) {
        return core::make_error(
            fmt::format("records: {} of {} bytes (must be {}..{})", field, value.size(), min, max));
    }
    if (value.find('\0') != std::string_view::npos || !valid_utf8(value)) {
        return core::make_error(fmt::format("records: {} is not NUL-free UTF-8", field));
    }
    return std::nullopt;
}

/// The first error of several checks.
std::optional<core::error> first(std::initializer_list<std::optional<core::error>> checks) {
    for (const auto& c : checks) {
        if (c) {
            return c;
        }
    }
    return std::nullopt;
}

} // namespace

std::optional<core::error> check_record_id(std::string_view field, std::string_view value) {
    return check_text(field, value, 1, max_record_id_bytes);
}

std::optional<core::error> check_record(const total_record& r) {
    return first(
        {check_record_id("broadcast_id", r.broadcast_id), check_record_id("name", r.name)});
}

std::optional<core::error> check_record(const purchase_record& r) {
    return first({check_record_id("id", r.id), check_record_id("user_id", r.user_id),
                  check_record_id("item", r.item)});
}

std::optional<core::error> check_record(const archive_record& r) {
    return first({check_record_id("broadcast_id", r.broadcast_id), check_record_id("kind", r.kind),
                  check_text("path", r.path, 0, max_record_text_bytes)});
}

} // namespace livehouse::state
