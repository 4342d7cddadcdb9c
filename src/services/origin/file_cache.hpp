// A small in-memory LRU cache of whole files (VOD playlists and segments), bounded by total
// bytes. Entries are immutable shared buffers, so a hit is written to the socket with no copy
// and no disk I/O.
//
// Policy: least-recently-used eviction once the total exceeds the capacity; files larger than
// max_entry_bytes are never cached. The caller decides what is safe to cache (only files that
// will not change again: the archive of an ended broadcast).
//
// Threading: every member is thread-safe (one mutex; held only for map/list updates).
#pragma once

#include "core/bytes.hpp"

#include <cstddef>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace livehouse::services::origin {

struct cached_file {
    core::shared_bytes data;
    std::string etag; ///< quoted
};

class file_cache {
  public:
    file_cache(std::size_t capacity_bytes, std::size_t max_entry_bytes);

    [[nodiscard]] std::optional<cached_file> get(const std::string& key);
    /// Inserts or replaces `key`; ignored when the file is larger than max_entry_bytes.
    void put(const std::string& key, cached_file file);

    [[nodiscard]] std::size_t size_bytes() const;
    [[nodiscard]] std::size_t entries() const;

  private:
    struct entry {
        std::string key;
        cached_file file;
    };
    void evict_locked();

    const std::size_t capacity_bytes_;
    const std::size_t max_entry_bytes_;
    mutable std::mutex mutex_;
    std::list<entry> lru_; ///< most recently used first
    std::unordered_map<std::string, std::list<entry>::iterator> index_;
    std::size_t bytes_ = 0;
};

} // namespace livehouse::services::origin
