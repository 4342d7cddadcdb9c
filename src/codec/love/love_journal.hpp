// The bytes of the embedded love journal (state/embedded/sqlite_love_counts.hpp): one apply's
// counted batches, and a broadcast's whole love state (a snapshot). Sans-I/O: bytes in, records
// out. Little-endian, length-prefixed, a version byte first so a later format can still read
// these files.
//
// Limits: decoding checks every count against the bytes left before reserving anything, and
// refuses trailing bytes, so a damaged file is an error at start-up, never a crash or a huge
// allocation (tests/fuzz/love_journal_fuzz.cpp).
#pragma once

#include "core/result.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace livehouse::codec::love {

/// One viewer's batch as the state layer counts it (state::love_batch_entry).
struct counted_batch {
    counted_batch() = default;
    counted_batch(std::string u, std::string id, std::int64_t n,
                  std::vector<std::pair<std::int64_t, std::int64_t>> seconds = {})
        : user(std::move(u)), batch_id(std::move(id)), taps(n), per_second(std::move(seconds)) {}
    bool operator==(const counted_batch&) const = default;

    std::string user;
    std::string batch_id;
    std::int64_t taps = 0;
    /// The taps per video second (second >= 0, count >= 1; counts sum to `taps`), for the
    /// broadcast's timeline. May be empty (no timeline kept for this batch).
    std::vector<std::pair<std::int64_t, std::int64_t>> per_second;
};

/// Everything counted for one broadcast: total, timeline, and every viewer with a remembered
/// batch id (their score may be 0).
struct journal_state {
    struct user {
        std::string id;
        std::int64_t score = 0;
        std::vector<std::string> seen; ///< the last batch ids, oldest first
        bool operator==(const user&) const = default;
    };
    std::int64_t total = 0;
    std::vector<std::pair<std::int64_t, std::int64_t>> timeline; ///< second ascending
    std::vector<user> users;
    bool operator==(const journal_state&) const = default;
};

std::string encode_batches(const std::vector<counted_batch>& batches);
core::result<std::vector<counted_batch>> decode_batches(std::string_view bytes);

std::string encode_state(const journal_state& s);
core::result<journal_state> decode_state(std::string_view bytes);

} // namespace livehouse::codec::love
