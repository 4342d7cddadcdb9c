// What of a viewer's love batch counts (issue 5, seed 002: "anti-cheat against inflated
// batches"). Pure: the caller supplies the played range and the rate allowance; nothing here
// reads a clock or shared state.
//
// The rules, in order (each tap counted at most once, the batch never rejected as a whole):
//  1. Range: a tap must lie within the part of the broadcast the viewer could have played,
//     [position - max_tap_age_s, position + ahead_slack_s] on the broadcast's media timeline
//     (position: the live edge now). A tap outside is rejected (counted in out_of_range).
//  2. Size: at most max_taps_per_batch of what is left (the first ones, in the order sent);
//     the rest are trimmed (over_batch).
//  3. Rate: at most what the viewer's token bucket allows now (taps_per_second refilled since
//     the viewer's previous batch, up to burst_taps); the rest are trimmed (over_rate). The
//     bucket lives in the caller (core::rate_limiter keyed by user).
#pragma once

#include <cstddef>
#include <functional>
#include <span>
#include <vector>

namespace livehouse::services::love {

struct love_policy {
    double taps_per_second = 10;          ///< R: sustained taps a viewer may send
    double burst_taps = 50;               ///< the bucket: a batch of ~5 s of tapping
    std::size_t max_taps_per_batch = 100; ///< M
    double max_tap_age_s = 60;            ///< how far behind the live edge a tap may be
    double ahead_slack_s = 5;             ///< ... and ahead of it (rounding, clock skew)
};

struct played_range {
    double from_s = 0;
    double to_s = 0;
};

/// The range a viewer could have played when the live edge is at `position_s`.
played_range playable(const love_policy& p, double position_s);

struct judgement {
    std::vector<double> accepted; ///< the taps that count, in the order sent
    std::size_t out_of_range = 0;
    std::size_t over_batch = 0;
    std::size_t over_rate = 0;
};

/// Applies the rules. `allowance(n)` takes up to n taps from the viewer's bucket and returns
/// how many it granted; it is called once, with what passed rules 1 and 2 (not at all if none).
judgement judge(const love_policy& p, std::span<const double> taps, played_range range,
                const std::function<std::size_t(std::size_t)>& allowance);

} // namespace livehouse::services::love
