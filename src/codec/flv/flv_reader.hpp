// Sans-I/O FLV *file* reader (FLV spec v10.1 Annex E.2 "The FLV header", E.3 "The FLV file
// body", E.4.1 "FLV Tag"). Lets tools and tests replay .flv files through the same tag parsers
// RTMP ingest uses; it is also the codec our flv fuzz target drives.
//
// Shape (Beast's basic_parser habit): feed() looks at the front of the caller's buffer and
// consumes either nothing (need_more) or one whole element: the file header (with the first
// PreviousTagSize), or one tag plus the PreviousTagSize that follows it. A file that ends
// cleanly leaves zero unconsumed bytes. Limits: tag data size <= max_tag_size (16 MiB by
// default; the 24-bit field cannot exceed that anyway), header DataOffset <= 1 KiB.
// Not thread-safe; one reader per file.
#pragma once

#include "core/bytes.hpp"
#include "core/parse_status.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace livehouse::codec::flv {

/// E.4.1 TagType: "8 = audio, 9 = video, 18 = script data".
enum class tag_type : std::uint8_t { audio = 8, video = 9, script_data = 18 };

struct file_header {
    std::uint8_t version = 1;
    bool has_audio = false; ///< TypeFlagsAudio (a hint: files lie; trust the tags)
    bool has_video = false; ///< TypeFlagsVideo
    std::uint32_t data_offset = 9;
};

struct tag {
    tag_type type = tag_type::video;
    /// Timestamp (UI24) | TimestampExtended (UI8) << 24: milliseconds, "relative to the first
    /// tag in the FLV file, which always has a timestamp of 0" (in practice: whatever was sent).
    std::uint32_t timestamp_ms = 0;
    std::uint32_t stream_id = 0; ///< "Always 0"; reported, not enforced
    /// The tag's data (VIDEODATA, AUDIODATA or SCRIPTDATA); views into the buffer passed to
    /// the feed() call that returned it.
    core::bytes_view body;
};

struct reader_limits {
    std::size_t max_tag_size = 16U * 1024U * 1024U;
    std::size_t max_header_size = 1024; ///< largest DataOffset accepted
};

class flv_reader {
  public:
    explicit flv_reader(reader_limits limits = {}) : limits_(limits) {}

    /// Parses at most one element from the front of `data`.
    /// - ok: `consumed` bytes were used (the header, or a tag and its trailing PreviousTagSize).
    ///   If a tag was parsed, current() returns it, viewing into `data`: the caller must keep
    ///   those bytes alive until it has used the tag, then drop `consumed` bytes and call again.
    /// - need_more: consumed == 0; call again with the same bytes and more appended.
    ///   needed() says how many bytes the pending element needs in total.
    /// - error: the stream is malformed (bad signature, unsupported version, filtered/encrypted
    ///   tag, unknown tag type, size over a limit); the reader stays in error and every later
    ///   call fails the same way.
    core::feed_result feed(core::bytes_view data);

    /// The file header, once it has been parsed.
    [[nodiscard]] const std::optional<file_header>& header() const { return header_; }
    /// The tag parsed by the last feed(), if that call returned a tag.
    [[nodiscard]] const std::optional<tag>& current() const { return current_; }
    /// Total bytes the element at the front needs (after a need_more), 0 if unknown.
    [[nodiscard]] std::size_t needed() const { return needed_; }
    /// Tags whose trailing PreviousTagSize was neither 11 + DataSize nor 0. Tolerated (readers
    /// in the wild ignore this field; some writers get it wrong) but counted.
    [[nodiscard]] std::size_t previous_tag_size_mismatches() const { return mismatches_; }
    [[nodiscard]] std::size_t tags_read() const { return tags_; }

  private:
    core::feed_result fail(std::string why);
    core::feed_result parse_header(core::bytes_view data);
    core::feed_result parse_tag(core::bytes_view data);

    reader_limits limits_;
    std::optional<file_header> header_;
    std::optional<tag> current_;
    std::size_t needed_ = 0;
    std::size_t mismatches_ = 0;
    std::size_t tags_ = 0;
    std::string error_; ///< sticky once set
};

} // namespace livehouse::codec::flv
