// Argument checks shared by every backend: the size limits of state/keys.hpp, with one error
// text whatever the backend, so the contract tests can compare them.
#pragma once

#include "core/result.hpp"
#include "state/keys.hpp"

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

} // namespace livehouse::state
