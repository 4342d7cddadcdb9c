#include "services/origin/file_cache.hpp"

namespace livehouse::services::origin {

namespace {
std::size_t size_of(const cached_file& f) {
    return f.data ? f.data->size() : 0;
}
} // namespace

file_cache::file_cache(std::size_t capacity_bytes, std::size_t max_entry_bytes)
    : capacity_bytes_(capacity_bytes), max_entry_bytes_(max_entry_bytes) {}

std::optional<cached_file> file_cache::get(const std::string& key) {
    std::lock_guard lock(mutex_);
    const auto it = index_.find(key);
    if (it == index_.end()) {
        return std::nullopt;
    }
    lru_.splice(lru_.begin(), lru_, it->second);
    return it->second->file;
}

void file_cache::put(const std::string& key, cached_file file) {
    const auto n = size_of(file);
    if (n > max_entry_bytes_ || n > capacity_bytes_) {
        return;
    }
    std::lock_guard lock(mutex_);
    if (const auto it = index_.find(key); it != index_.end()) {
        bytes_ -= size_of(it->second->file);
        lru_.erase(it->second);
        index_.erase(it);
    }
    lru_.push_front(entry{key, std::move(file)});
    index_.emplace(key, lru_.begin());
    bytes_ += n;
    evict_locked();
}

void file_cache::evict_locked() {
    while (bytes_ > capacity_bytes_ && !lru_.empty()) {
        auto& victim = lru_.back();
        bytes_ -= size_of(victim.file);
        index_.erase(victim.key);
        lru_.pop_back();
    }
}

std::size_t file_cache::size_bytes() const {
    std::lock_guard lock(mutex_);
    return bytes_;
}

std::size_t file_cache::entries() const {
    std::lock_guard lock(mutex_);
    return index_.size();
}

} // namespace livehouse::services::origin
