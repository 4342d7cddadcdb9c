// The RTMP chunk stream encoder (RTMP spec §5.3): splits messages into chunks of the outgoing
// chunk size, appending to a caller-owned buffer. Pure, no I/O.
//
// Every message starts with a type 0 header and continues with type 3 chunks. We never compress
// headers (types 1/2): the server sends few messages and the peer's state stays trivially in
// sync. Timestamps >= 0xFFFFFF use the extended timestamp field, repeated on each type 3 chunk.
#pragma once

#include "codec/rtmp/chunk_reader.hpp"
#include "codec/rtmp/message.hpp"
#include "core/bytes.hpp"

#include <cstdint>
#include <string>

namespace livehouse::codec::rtmp {

class chunk_writer {
  public:
    /// Precondition: 1 <= chunk_size <= 0x7FFFFFFF.
    explicit chunk_writer(std::uint32_t chunk_size = default_chunk_size)
        : chunk_size_(chunk_size) {}

    /// Changes the outgoing chunk size for the following messages. The caller must first write
    /// a Set Chunk Size message (make_set_chunk_size) with the old size, so the peer applies it
    /// at the same point. Precondition as for the constructor.
    void set_chunk_size(std::uint32_t size) { chunk_size_ = size; }
    [[nodiscard]] std::uint32_t chunk_size() const { return chunk_size_; }

    /// Appends `m` as chunks to `out`. Precondition: 2 <= m.csid <= 65599 and the payload is
    /// shorter than 2^24 bytes (the message length field is 24 bits). The timestamp is sent
    /// modulo 2^32.
    void write(const message& m, std::string& out) const;
    /// The same from parts, for payloads not held in a shared buffer.
    void write(std::uint32_t csid, message_type type, std::uint32_t stream_id,
               std::int64_t timestamp_ms, core::bytes_view payload, std::string& out) const;

  private:
    std::uint32_t chunk_size_;
};

} // namespace livehouse::codec::rtmp
