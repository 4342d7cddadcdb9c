// Argument checks shared by every backend: the size limits of state/keys.hpp, with one error
// text whatever the backend, so the contract tests can compare them.
#pragma once

#include "core/result.hpp"
#include "state/keys.hpp"

#include <chrono>
#include <cstdint>
#include <fmt/format.h>
#include <optional>
#include <string>

namespace livehouse::state {

inline std::optional<core::error> check_key(const std::string& key) {
    if (key.empty() || key.size() > max_key_bytes) {
        return core::make_error(
            fmt::format("state: key of {} bytes (must be 1..{})", key.size(), max_key_bytes));
    }
    return std::nullopt;
}

inline std::optional<core::error> check_member(const std::string& member) {
    if (member.size() > max_member_bytes) {
        return core::make_error(fmt::format("state: member of {} bytes (must be at most {})",
                                            member.size(), max_member_bytes));
    }
    return std::nullopt;
}

inline std::optional<core::error> check_stock(std::int64_t stock) {
    if (stock < 0) {
        return core::make_error("state: stock must be >= 0");
    }
    return std::nullopt;
}

inline std::optional<core::error> check_reserve(std::int64_t n, std::chrono::milliseconds ttl) {
    if (n < 1 || ttl.count() <= 0) {
        return core::make_error("state: reserve needs n >= 1 and a positive hold time");
    }
    return std::nullopt;
}

} // namespace livehouse::state
