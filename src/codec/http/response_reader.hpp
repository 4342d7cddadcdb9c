// HTTP/1.1 response reader for the load tester's clients (RFC 9112): sans-I/O, incremental,
// allocation-free on the hot path. It keeps what a load generator needs — the status, whether
// the connection stays open, how many body bytes came (and the body itself only when asked, for
// a step that extracts values) — and throws the header fields away as it reads them. A general
// parser (Beast's) stores every field on the heap; at 100 k responses/s that was the load
// tester's largest cost.
//
// Body framing (RFC 9112 §6.3): none for HEAD, 1xx, 204 and 304; Transfer-Encoding: chunked
// (§7.1, extensions and trailers skipped); Content-Length; else until the connection closes
// (then finish_at_eof() ends it, and the connection is not reused).
//
// Limits: the head (status line + fields) <= max_head_bytes, a chunk-size line <= 1 KiB, the
// body <= max_body_bytes, a captured body <= max_capture_bytes. Anything malformed or over a
// limit makes failed() true with a message; the caller closes that connection.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace livehouse::codec::http {

class response_reader {
  public:
    struct limits {
        std::size_t max_head_bytes = 64 * 1024;
        std::uint64_t max_body_bytes = std::uint64_t{1} << 32;
        std::size_t max_capture_bytes = 16 * 1024 * 1024;
    };

    response_reader() = default;
    explicit response_reader(limits l) : limits_(l) {}

    /// Ready for the next response. `head_request`: the request was HEAD (no body follows);
    /// `capture`: keep the body (body()).
    void reset(bool head_request, bool capture);

    /// Reads from `data`; returns how many bytes belong to this response (the rest, if any,
    /// is the next one's or garbage). Stops at done() or failed().
    std::size_t feed(std::string_view data);
    /// The connection closed: ends a body read until close; anything else incomplete fails.
    void finish_at_eof();

    [[nodiscard]] bool done() const { return state_ == state::done; }
    [[nodiscard]] bool failed() const { return state_ == state::failed; }
    [[nodiscard]] const std::string& error() const { return error_; }
    [[nodiscard]] int status() const { return status_; }
    /// Whether the connection may carry the next request (RFC 9112 §9.3).
    [[nodiscard]] bool keep_alive() const { return keep_alive_; }
    [[nodiscard]] std::uint64_t body_bytes() const { return body_bytes_; }
    [[nodiscard]] const std::string& body() const { return body_; }
    /// Heap bytes this reader holds (its buffers' capacities): what it costs a connection
    /// between responses.
    [[nodiscard]] std::size_t held_bytes() const {
        return head_.capacity() + line_.capacity() + body_.capacity() + error_.capacity();
    }

  private:
    enum class state {
        head,
        body_length,
        body_until_close,
        chunk_size,
        chunk_data,
        chunk_crlf,
        trailer,
        done,
        failed
    };

    std::size_t feed_head(std::string_view data);
    bool parse_head();
    void fail(std::string_view why);
    void take_body(std::string_view bytes);
    void body_complete() { state_ = state::done; }

    limits limits_;
    state state_ = state::head;
    bool head_request_ = false;
    bool capture_ = false;
    std::string head_; ///< the head so far (bounded), reused between responses
    std::string line_; ///< a chunk-size or trailer line so far
    std::string body_;
    std::string error_;
    int status_ = 0;
    bool keep_alive_ = true;
    std::uint64_t remaining_ = 0; ///< of the body, or of the current chunk
    std::uint64_t body_bytes_ = 0;
};

} // namespace livehouse::codec::http
