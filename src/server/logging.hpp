// Logging set-up for `livehouse serve`: spdlog's default logger on stderr, as human-readable text
// or as JSON lines ({"ts", "level", "msg", plus the message's key=value pairs as fields}).
//
// Convention for messages: a short sentence, then key=value pairs for what a machine should be
// able to filter on ("broadcast ended id=ab12 reason=grace_period"). Values must not contain
// spaces (quote them with "..." if they must); keys are [a-z_][a-z0-9_.]*.
#pragma once

#include "core/result.hpp"
#include "server/config.hpp"

#include <chrono>
#include <string>
#include <string_view>

namespace livehouse::server {

/// Replaces spdlog's default logger per [log]. Errors: unknown level or format.
core::result<void> setup_logging(const log_section& log);

/// One JSON log line (with trailing '\n'): {"ts":"<RFC 3339 UTC ms>","level":...,"msg":...,
/// <key>:<value>...}. Fields are the key=value tokens of `msg`; "ts", "level" and "msg" are
/// never overridden by a field. Invalid UTF-8 is replaced, so the line is always valid JSON.
std::string format_json_line(std::chrono::system_clock::time_point ts, std::string_view level,
                             std::string_view msg);

} // namespace livehouse::server
