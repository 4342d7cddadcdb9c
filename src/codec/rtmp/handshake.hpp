// Server side of the RTMP handshake (RTMP spec §5.2), sans-I/O.
//
//   client -> C0 (1 byte version) + C1 (1536 bytes)     server -> S0 + S1 + S2 (3073 bytes)
//   client -> C2 (1536 bytes)                          then the chunk stream starts
//
// Two flavours, chosen by what C1 carries:
// - plain (§5.2.3): C1 = time, four zero bytes, random; S1 = time, zero, random; S2 echoes C1.
// - digest (the "FP9" handshake Flash Player 9+, ffmpeg and librtmp/OBS send): C1 has a non-zero
//   version at bytes 4..7 and an HMAC-SHA256 digest at a position given by scheme 0 or 1,
//   keyed with "Genuine Adobe Flash Player 001". The server answers with S1 carrying its own
//   digest (same scheme, keyed with "Genuine Adobe Flash Media Server 001") and an S2 whose last
//   32 bytes are HMAC-SHA256(key = HMAC-SHA256(FMS key, C1 digest), S2[0..1504)). Clients that
//   send a digest check ours, so a digest C1 that validates under neither scheme is answered
//   with the plain handshake (what a client that merely set a version byte expects).
// C2 is consumed but not verified: clients in the wild disagree on its contents and the spec
// gives a server no use for it. RTMPE (C0 = 6 or 8) is refused.
#pragma once

#include "core/bytes.hpp"
#include "core/parse_status.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace livehouse::codec::rtmp {

inline constexpr std::size_t handshake_size = 1536; ///< C1, C2, S1, S2
inline constexpr std::uint8_t rtmp_version = 3;     ///< C0/S0
inline constexpr std::size_t digest_size = 32;      ///< SHA-256

/// The two digest placements of the FP9 handshake.
enum class digest_scheme {
    scheme0, ///< digest block first: offset from bytes 8..11, in [12, 740)
    scheme1, ///< key block first: offset from bytes 772..775, in [776, 1504)
};

enum class handshake_kind { plain, digest };

/// Where the 32-byte digest sits in a 1536-byte C1/S1 for `scheme`. Precondition:
/// packet.size() >= handshake_size.
std::size_t digest_offset(core::bytes_view packet, digest_scheme scheme);

/// HMAC-SHA256 over `packet` (1536 bytes) with the 32 bytes at `offset` left out, keyed with
/// `key`: the digest a C1/S1 carries at `offset`.
std::array<std::uint8_t, digest_size> packet_digest(core::bytes_view packet, std::size_t offset,
                                                    core::bytes_view key);

/// The scheme whose digest in `c1` validates with the Flash Player key, if any.
std::optional<digest_scheme> find_client_digest(core::bytes_view c1);
/// The scheme whose digest in `s1` validates with the Flash Media Server key, if any (for tests
/// and a future RTMP client, e.g. the load tester).
std::optional<digest_scheme> find_server_digest(core::bytes_view s1);

/// The HMAC keys of the digest handshake: the 30/36-byte text keys, and the 62/68-byte keys
/// (text + a fixed 32-byte suffix) used to derive the S2/C2 signature key.
core::bytes_view flash_player_key(bool with_suffix);
core::bytes_view flash_media_server_key(bool with_suffix);

/// The server handshake state machine. One per connection; not thread-safe (one session owns
/// it). After done(), the caller feeds the bytes after C2 to the chunk reader.
class server_handshake {
  public:
    enum class phase { c0c1, c2, done };

    /// `epoch_ms`: the server's handshake timestamp written into S1 (§5.2.3 "Time: ... may be 0,
    /// or some arbitrary value"); the session passes its uptime or 0.
    explicit server_handshake(std::uint32_t epoch_ms = 0) : epoch_ms_(epoch_ms) {}

    /// Consumes C0+C1 (1537 bytes) or C2 (1536 bytes) when the input holds all of it; never
    /// consumes a partial packet and never bytes past C2.
    /// Returns ok(n) after consuming a packet, need_more(0) when the next packet is incomplete
    /// (keep the bytes, feed again with more), error for a version we do not speak (C0 >= 32
    /// is not RTMP; 6 and 8 are RTMPE). After C0+C1, output() holds S0+S1+S2.
    core::feed_result feed(core::bytes_view in);

    /// S0+S1+S2, once C0+C1 have been consumed; the caller sends it and may clear() it.
    [[nodiscard]] std::string& output() { return output_; }

    [[nodiscard]] phase state() const { return phase_; }
    [[nodiscard]] bool done() const { return phase_ == phase::done; }
    [[nodiscard]] handshake_kind kind() const { return kind_; }
    /// The scheme the client's digest validated under (digest kind only).
    [[nodiscard]] std::optional<digest_scheme> scheme() const { return scheme_; }
    /// C1 bytes 4..7: zero for a plain client, the Flash Player version for a digest client.
    [[nodiscard]] std::uint32_t client_version() const { return client_version_; }

  private:
    void answer(core::bytes_view c1);

    std::uint32_t epoch_ms_;
    phase phase_ = phase::c0c1;
    handshake_kind kind_ = handshake_kind::plain;
    std::optional<digest_scheme> scheme_;
    std::uint32_t client_version_ = 0;
    std::string output_;
};

} // namespace livehouse::codec::rtmp
