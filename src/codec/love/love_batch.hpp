// The body of POST /api/v1/broadcasts/{id}/love (docs/API.md, "Love"), parsed with explicit
// limits. Seed 002: the client buffers a viewer's heart taps as the list of video timestamps
// at which they happened and sends them in one request; the batch id makes a retry safe.
//
//   {"batch_id": "b-17", "taps": [12.5, 12.7, 13.1]}
//
// Limits: the body <= max_body_bytes, nesting <= 2, batch_id 1..max_batch_id_bytes printable
// ASCII, taps an array of at most max_taps finite numbers >= 0 (seconds on the broadcast's
// media timeline). A batch over max_taps is refused here (a parse limit: what a real client
// never sends); the anti-cheat trims far smaller batches (services/love). Unknown fields are
// ignored. Sans-I/O: text in, a batch or a refusal out; never throws.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace livehouse::codec::love {

struct batch_limits {
    std::size_t max_body_bytes = 64 * 1024;
    std::size_t max_batch_id_bytes = 64;
    std::size_t max_taps = 5000;
};

struct love_batch {
    std::string batch_id;
    std::vector<double> taps; ///< video seconds, in the order sent
};

/// Why a body was refused, for a 400 {"error": message} (`field` names what was wrong).
struct batch_refusal {
    std::string field; ///< "body", "batch_id" or "taps"
    std::string message;
};

std::variant<love_batch, batch_refusal> parse_love_batch(std::string_view body,
                                                         const batch_limits& limits = {});

} // namespace livehouse::codec::love
