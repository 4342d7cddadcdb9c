// The RTMP chunk stream decoder (RTMP spec §5.3), sans-I/O.
//
// Reassembles messages from interleaved chunk streams: basic header in its 1/2/3-byte forms
// (csid 2..65599), message header fmt 0-3, extended timestamps (also on the fmt 3 chunks that
// follow an extended header), timestamp deltas, and the protocol control messages that change
// decoding: Set Chunk Size (§5.4.1) and Abort (§5.4.2). Window Acknowledgement Size (§5.4.4) is
// recorded so the owner can send Acknowledgements (§5.4.3) on time (ack_due()).
//
// Limits (chunk_limits): chunk size, message length, distinct chunk streams and bytes held in
// partial messages are bounded; exceeding one is an error and the reader stops. Timestamps are
// widened to 64 bits (see message::timestamp_ms).
#pragma once

#include "codec/rtmp/message.hpp"
#include "core/bytes.hpp"
#include "core/parse_status.hpp"

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

namespace livehouse::codec::rtmp {

struct chunk_limits {
    /// Largest chunk size a peer may set. The spec allows up to 0x7FFFFFFF; we refuse more.
    std::uint32_t max_chunk_size = 16 * 1024 * 1024;
    std::uint32_t max_message_length = 8 * 1024 * 1024;
    /// Distinct chunk stream ids a connection may use (their header state is kept for fmt 1-3).
    std::size_t max_chunk_streams = 64;
    /// Bytes held across all partially received messages.
    std::size_t max_partial_bytes = 16 * 1024 * 1024;
};

/// RTMP spec §5.4.1: "The default maximum chunk size is 128 bytes".
inline constexpr std::uint32_t default_chunk_size = 128;

class chunk_reader {
  public:
    explicit chunk_reader(chunk_limits limits = {});

    /// Decodes every whole chunk at the front of `in`; complete messages go to the output queue
    /// (drain with next()). Chunks are consumed whole or not at all, so the caller keeps
    /// in[consumed..] and feeds it again with more bytes appended. `in` is not retained.
    /// Returns:
    /// - ok(n): n == in.size(), everything consumed;
    /// - need_more(n): a partial chunk remains after n bytes;
    /// - error(n, why): a protocol violation or limit after n good bytes. The reader is then
    ///   dead: later calls return the same error. The connection should be closed.
    core::feed_result feed(core::bytes_view in);

    /// The next complete message, oldest first, or nullopt. Protocol control messages are
    /// delivered too (after the reader applied them).
    std::optional<message> next();
    [[nodiscard]] std::size_t queued() const { return out_.size(); }

    /// The peer's current chunk size (Set Chunk Size applied).
    [[nodiscard]] std::uint32_t chunk_size() const { return chunk_size_; }
    /// Bytes consumed so far (the RTMP "sequence number" of §5.4.3, before 32-bit wrap).
    [[nodiscard]] std::uint64_t bytes_received() const { return bytes_received_; }
    /// The window the peer set with Window Acknowledgement Size; 0 while unset.
    [[nodiscard]] std::uint32_t peer_window() const { return peer_window_; }
    /// Adds bytes the reader did not see (the handshake) to bytes_received(), so the
    /// acknowledged sequence number counts everything the peer sent.
    void add_bytes_received(std::uint64_t n) { bytes_received_ += n; }

    /// RTMP spec §5.4.3: "The client or the server MUST send an acknowledgment to the peer after
    /// receiving bytes equal to the window size." Returns the sequence number to acknowledge
    /// (bytes received so far, modulo 2^32) when a window has passed since the last one, and
    /// marks it sent; nullopt otherwise. Call after each feed.
    std::optional<std::uint32_t> ack_due();

    /// The error that killed the reader (empty while healthy).
    [[nodiscard]] const std::string& error() const { return error_; }

  private:
    struct chunk_stream {
        std::uint32_t csid = 0;
        // The last message header seen on this chunk stream (fmt 1-3 inherit from it).
        std::uint32_t length = 0;
        message_type type = message_type::command_amf0;
        std::uint32_t stream_id = 0;
        std::uint32_t timestamp32 = 0; ///< wire (32-bit) timestamp of the current message
        std::uint32_t delta = 0;       ///< delta a following fmt 3 message repeats
        bool extended = false;         ///< last fmt 0-2 header used the extended timestamp
        std::int64_t timestamp64 = 0;  ///< widened timestamp of the current message
        bool has_timestamp = false;
        // The message being reassembled.
        bool in_progress = false;
        std::string partial;
    };

    chunk_stream* find_stream(std::uint32_t csid);
    core::feed_result fail(std::size_t consumed, std::string why);
    std::int64_t widen(const chunk_stream& cs, std::uint32_t ts32) const;
    std::string apply_control(const message& m);

    chunk_limits limits_;
    std::uint32_t chunk_size_ = default_chunk_size;
    std::vector<chunk_stream> streams_;
    std::size_t last_stream_ = 0; ///< index of the last used stream (a lookup cache)
    std::size_t partial_bytes_ = 0;
    std::int64_t max_timestamp_ = 0;
    std::deque<message> out_;
    std::uint64_t bytes_received_ = 0;
    std::uint64_t last_ack_ = 0;
    std::uint32_t peer_window_ = 0;
    std::string error_;
};

} // namespace livehouse::codec::rtmp
