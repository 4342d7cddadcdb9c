// Argument checks of state/room_log.hpp shared by every backend, with one error text whatever
// the backend (as limits.hpp does for the other interfaces), so the contract tests compare them.
#pragma once

#include "core/result.hpp"
#include "state/limits.hpp"
#include "state/room_log.hpp"

#include <cstddef>
#include <fmt/format.h>
#include <optional>
#include <string>
#include <string_view>

namespace livehouse::state {

/// The hash tag of `key` (Redis Cluster specification, "Hash tags": the part between the first
/// '{' and the first '}' after it); empty when there is none or it is empty ("{}" hashes the
/// whole key).
inline std::string_view hash_tag(std::string_view key) {
    const auto open = key.find('{');
    if (open == std::string_view::npos) {
        return {};
    }
    const auto close = key.find('}', open + 1);
    if (close == std::string_view::npos) {
        return {};
    }
    return key.substr(open + 1, close - open - 1);
}

/// A log's key: within the key limits, with a non-empty hash tag (the Redis backend keeps the
/// log's counter next to it, in the tag's slot).
inline std::optional<core::error> check_room_log_key(const std::string& key) {
    if (auto e = check_key(key)) {
        return e;
    }
    if (hash_tag(key).empty()) {
        return core::make_error(
            fmt::format("state: room log key \"{}\" has no hash tag ({{room}})", key));
    }
    return std::nullopt;
}

/// key and channel: within the key limits and sharing a non-empty hash tag.
inline std::optional<core::error> check_room_log_names(const std::string& key,
                                                       const std::string& channel) {
    if (auto e = check_room_log_key(key); e || (e = check_key(channel))) {
        return e;
    }
    if (hash_tag(channel) != hash_tag(key)) {
        return core::make_error(fmt::format("state: room log key \"{}\" and channel \"{}\" must "
                                            "share a non-empty hash tag ({{room}})",
                                            key, channel));
    }
    return std::nullopt;
}

inline core::error room_log_entry_too_big(std::size_t size) {
    return core::make_error(fmt::format("state: room log entry of {} bytes (at most {})", size,
                                        max_room_log_entry_bytes));
}

/// Everything append can check before the offset is known: names, keep, and whether the
/// payload fits with the shortest offset (one digit). The exact size is checked by the backend
/// once it has the offset, before anything is written.
inline std::optional<core::error>
check_room_log_append(const std::string& key, const std::string& channel, const std::string& prefix,
                      const std::string& suffix, std::size_t keep) {
    if (auto e = check_room_log_names(key, channel)) {
        return e;
    }
    if (keep < 1 || keep > max_room_log_keep) {
        return core::make_error(
            fmt::format("state: room log keep of {} (must be 1..{})", keep, max_room_log_keep));
    }
    if (prefix.size() + suffix.size() + 1 > max_room_log_entry_bytes) {
        return room_log_entry_too_big(prefix.size() + suffix.size() + 1);
    }
    return std::nullopt;
}

/// read's max and read_tail's n.
inline std::optional<core::error> check_room_log_read(const std::string& key, std::size_t n) {
    if (auto e = check_room_log_key(key)) {
        return e;
    }
    if (n > max_room_log_read) {
        return core::make_error(
            fmt::format("state: room log read of {} entries (at most {})", n, max_room_log_read));
    }
    return std::nullopt;
}

} // namespace livehouse::state
