// Reads a whole regular file into an immutable shared buffer, with the metadata an ETag is made
// from. Blocking: call it from the io task runner (or at start-up), never on an event loop.
//
// Limits: refuses files larger than `max_bytes`, anything that is not a regular file, and (with
// O_NOFOLLOW) a final path component that is a symbolic link.
#pragma once

#include "core/bytes.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

namespace livehouse::services::origin {

enum class read_status { ok, not_found, too_large, failed };

struct file_read {
    read_status status = read_status::failed;
    core::shared_bytes data;   ///< set when ok
    std::uint64_t size = 0;    ///< bytes, from fstat
    std::int64_t mtime_ns = 0; ///< modification time, ns since the epoch
    std::string error;         ///< what failed, for logs (never sent to clients)
};

/// Reads `path` whole. not_found covers ENOENT, ENOTDIR, ELOOP (symlink) and non-regular files.
[[nodiscard]] file_read read_file(const std::string& path, std::size_t max_bytes);

/// A strong ETag from size and modification time: "\"<size hex>-<mtime ns hex>\"".
[[nodiscard]] std::string file_etag(std::uint64_t size, std::int64_t mtime_ns);

} // namespace livehouse::services::origin
