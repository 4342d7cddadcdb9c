// Argument checks of state/love_counts.hpp shared by every backend (one error text whatever
// the backend, so the contract tests compare them).
#pragma once

#include "core/result.hpp"
#include "state/limits.hpp"
#include "state/love_counts.hpp"
#include "state/room_log_checks.hpp"

#include <fmt/format.h>
#include <optional>
#include <string>
#include <vector>

namespace livehouse::state {

inline std::optional<core::error> check_love_key(const std::string& key) {
    if (auto e = check_key(key)) {
        return e;
    }
    if (hash_tag(key).empty()) {
        return core::make_error(
            fmt::format("state: love key \"{}\" has no hash tag ({{broadcast}})", key));
    }
    return std::nullopt;
}

inline std::optional<core::error> check_love_apply(const std::string& key,
                                                   const std::vector<love_batch_entry>& batches) {
    if (auto e = check_love_key(key)) {
        return e;
    }
    if (batches.size() > max_love_apply) {
        return core::make_error(fmt::format("state: {} love batches in one apply (at most {})",
                                            batches.size(), max_love_apply));
    }
    for (const auto& b : batches) {
        if (auto e = check_member(b.user); e || (e = check_member(b.batch_id))) {
            return e;
        }
        if (b.user.empty() || b.batch_id.empty()) {
            return core::make_error("state: a love batch needs a user and a batch id");
        }
        if (b.taps < 0 || b.taps > max_love_taps) {
            return core::make_error(
                fmt::format("state: love batch of {} taps (0..{})", b.taps, max_love_taps));
        }
        std::int64_t sum = 0;
        for (const auto& [second, count] : b.per_second) {
            if (second < 0 || second > max_love_second || count < 1) {
                return core::make_error("state: love timeline entry out of range");
            }
            sum += count;
        }
        if (!b.per_second.empty() && sum != b.taps) {
            return core::make_error("state: love timeline counts do not add up to the taps");
        }
    }
    return std::nullopt;
}

} // namespace livehouse::state
