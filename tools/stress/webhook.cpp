// Webhook notification (see webhook.hpp).
#include "stress/webhook.hpp"

#include "stress/http_once.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace livehouse::stress {

std::string webhook_body(const scenario& sc, const run_stats& stats, const verdict& v) {
    const auto all = stats.total();
    std::string text = fmt::format(
        "livehouse stress: *{}* {} — {} requests in {:.1f} s ({:.0f}/s), {} failed, p99 {:.2f} ms",
        sc.name, v.passed() ? "PASSED" : "FAILED", all.requests, stats.elapsed_s,
        static_cast<double>(all.requests) / std::max(stats.elapsed_s, 1e-9), all.failed,
        static_cast<double>(all.latency.percentile(0.99)) / 1000.0);
    if (stats.viewers.joined > 0) {
        text += fmt::format("; {} viewers, {} stalls", stats.viewers.joined, stats.viewers.stalls);
    }
    if (stats.chat.clients > 0) {
        text += fmt::format("; chat: {} clients, {} messages delivered (p99 {:.2f} ms)",
                            stats.chat.joined, stats.chat.delivered,
                            static_cast<double>(stats.chat.delivery.percentile(0.99)) / 1000.0);
    }
    for (const auto& r : v.results) {
        if (!r.passed) {
            text += fmt::format("\nfailed: {} (observed {:g})", r.rule.text, r.observed);
        }
    }
    return nlohmann::json{{"text", text}}.dump();
}

core::result<int> post_webhook(const std::string& url, const std::string& body,
                               std::chrono::milliseconds timeout) {
    auto r = http_once("POST", url, body, "application/json", timeout);
    if (!r) {
        return r.err().wrap("webhook");
    }
    return r->status;
}

} // namespace livehouse::stress
