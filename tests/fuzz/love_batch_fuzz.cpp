// Fuzz target: love batch bodies. Whatever parses must respect the limits it was parsed with
// (batch id bytes, tap count, taps finite and >= 0); a refusal always names a field and says
// why.
#include "codec/love/love_batch.hpp"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace livehouse::codec::love;
    const batch_limits limits{.max_body_bytes = 2048, .max_batch_id_bytes = 8, .max_taps = 16};
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto r = parse_love_batch(text, limits);
    if (const auto* b = std::get_if<love_batch>(&r)) {
        if (b->batch_id.empty() || b->batch_id.size() > limits.max_batch_id_bytes ||
            b->taps.size() > limits.max_taps) {
            std::abort();
        }
        for (const double t : b->taps) {
            if (!std::isfinite(t) || t < 0) {
                std::abort();
            }
        }
    } else {
        const auto& f = std::get<batch_refusal>(r);
        if (f.field.empty() || f.message.empty()) {
            std::abort();
        }
    }
    return 0;
}
