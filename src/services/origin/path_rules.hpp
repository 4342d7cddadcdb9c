// Strict checks on the path parameters the HTTP services turn into registry lookups and file
// names. Anything that does not match is answered 404 before it reaches the registry or the
// file system, so no request path can name a file outside <data_dir>/vod/<id>/.
//
// Grammar (deliberately narrower than what the router would capture):
//   id       = 1*64( %x61-7A / DIGIT )          ; [a-z0-9]{1,64}
//   playlist = "index.m3u8"
//   segment  = "seg-" 1*20DIGIT ".ts"           ; the value must fit in 64 bits
#pragma once

#include "media/ids.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace livehouse::services::origin {

inline constexpr std::string_view playlist_name = "index.m3u8";

/// [a-z0-9]{1,64}: the shape of the ids the broadcast registry issues (one rule, in media).
using media::is_valid_broadcast_id;

/// The sequence number of "seg-<digits>.ts", or nullopt when `file` is anything else (other
/// characters, no digits, more than 20 digits, or a value above 2^64-1).
[[nodiscard]] constexpr std::optional<std::uint64_t> parse_segment_name(std::string_view file) {
    constexpr std::string_view prefix = "seg-";
    constexpr std::string_view suffix = ".ts";
    if (file.size() <= prefix.size() + suffix.size() || !file.starts_with(prefix) ||
        !file.ends_with(suffix)) {
        return std::nullopt;
    }
    const auto digits = file.substr(prefix.size(), file.size() - prefix.size() - suffix.size());
    if (digits.size() > 20) {
        return std::nullopt;
    }
    std::uint64_t value = 0;
    for (char c : digits) {
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
        const auto d = static_cast<std::uint64_t>(c - '0');
        if (value > (UINT64_MAX - d) / 10) {
            return std::nullopt; // overflow
        }
        value = value * 10 + d;
    }
    return value;
}

} // namespace livehouse::services::origin
