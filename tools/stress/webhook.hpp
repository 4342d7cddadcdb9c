// The run's result, POSTed where a team will see it (seed 000: "a notification carrying the
// result"): a Slack-compatible incoming-webhook body, {"text": "..."}, naming the scenario, the
// verdict, the failing thresholds and the headline figures. http:// only (TLS: a relay).
#pragma once

#include "core/result.hpp"
#include "stress/verdict.hpp"

#include <chrono>
#include <string>

namespace livehouse::stress {

/// The body that is posted (exposed for tests).
std::string webhook_body(const scenario& sc, const run_stats& stats, const verdict& v);

/// POSTs webhook_body to `url` (http://host[:port]/path), waiting at most `timeout`. Returns
/// the HTTP status, or why it could not be sent.
core::result<int> post_webhook(const std::string& url, const std::string& body,
                               std::chrono::milliseconds timeout = std::chrono::seconds(5));

} // namespace livehouse::stress
