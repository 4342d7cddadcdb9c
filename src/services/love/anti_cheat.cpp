// love::judge (see anti_cheat.hpp).
#include "services/love/anti_cheat.hpp"

#include <algorithm>

namespace livehouse::services::love {

played_range playable(const love_policy& p, double position_s) {
    return {std::max(0.0, position_s - p.max_tap_age_s), position_s + p.ahead_slack_s};
}

judgement judge(const love_policy& p, std::span<const double> taps, played_range range,
                const std::function<std::size_t(std::size_t)>& allowance) {
    judgement j;
    j.accepted.reserve(std::min(taps.size(), p.max_taps_per_batch));
    for (const double t : taps) {
        if (t < range.from_s || t > range.to_s) {
            ++j.out_of_range;
        } else if (j.accepted.size() >= p.max_taps_per_batch) {
            ++j.over_batch;
        } else {
            j.accepted.push_back(t);
        }
    }
    if (!j.accepted.empty()) {
        const std::size_t granted = std::min(allowance(j.accepted.size()), j.accepted.size());
        j.over_rate = j.accepted.size() - granted;
        j.accepted.resize(granted);
    }
    return j;
}

} // namespace livehouse::services::love
