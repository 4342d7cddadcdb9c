// Random identifiers: broadcast ids (public, in URLs and archive paths) and stream keys (secret,
// the publisher's credential). Both come from OpenSSL's CSPRNG (RAND_bytes).
//
// - broadcast id: 12 characters of lowercase RFC 4648 base32 ("a-z2-7"), 60 bits — unguessable
//   enough that ids do not leak how many broadcasts exist, short enough for a URL.
// - stream key: "live_" + 32 lowercase hex characters, 128 bits.
// If the CSPRNG fails (it does not, on a working system) the process aborts: handing out a
// predictable stream key would be worse than stopping.
#pragma once

#include <string>
#include <string_view>

namespace livehouse::media {

inline constexpr std::size_t broadcast_id_length = 12;
inline constexpr std::string_view stream_key_prefix = "live_";

std::string make_broadcast_id();
std::string make_stream_key();

/// True if `id` is safe as one path component and URL segment: 1..64 characters of [a-z0-9]
/// (ids made by make_broadcast_id() always are; restored ones and request paths are checked).
bool is_valid_broadcast_id(std::string_view id);

/// True when `a` and `b` are equal. Time depends on neither their contents nor where they first
/// differ, nor (both are hashed first) on either length: for stream keys and admin tokens.
bool constant_time_equal(std::string_view a, std::string_view b);

} // namespace livehouse::media
