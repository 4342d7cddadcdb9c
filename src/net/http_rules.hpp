// The pure parts of the generic HTTP rules the session applies (see http_types.hpp): conditional
// requests and byte ranges. No I/O, so every edge case is a table test.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace livehouse::net {

/// RFC 9110 §13.1.2 If-None-Match with the weak comparison (§8.8.3.2): true when `if_none_match`
/// is "*" or lists an entity tag equal to `etag` ignoring any "W/" prefix. False for an empty
/// etag or header.
bool etag_matches(std::string_view if_none_match, std::string_view etag);

struct byte_range {
    enum class kind {
        none,          ///< no usable Range: serve the whole representation (200)
        satisfiable,   ///< serve [first, last] (206)
        unsatisfiable, ///< 416 with "Content-Range: bytes */size"
    };
    kind type = kind::none;
    std::uint64_t first = 0;
    std::uint64_t last = 0; ///< inclusive
};

/// RFC 9110 §14.1.2 / §14.2: parses a Range header against a representation of `size` bytes.
/// Only a single "bytes=" range is honoured: a multi-range request, another unit or a syntax
/// error yield kind::none (a server MAY ignore Range). "a-b" is clamped to the size; "a-" runs
/// to the end; "-n" is the last n bytes. A first-pos at or past the end, or a zero suffix, is
/// unsatisfiable.
byte_range parse_range(std::string_view range, std::uint64_t size);

} // namespace livehouse::net
