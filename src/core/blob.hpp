// blob: immutable bytes a socket can send without copying them into the kernel.
//
// A live segment (~0.7 MB at 2.5 Mbps) is written to every viewer. From a heap buffer each
// write() copies it into socket buffers once per viewer; from a file the kernel can hand the
// page-cache pages to TCP by reference (sendfile(2)), which is why nginx serves files faster
// than any user-space buffer. blob::seal puts the bytes in an anonymous memory file
// (memfd_create(2)), seals it against any change (F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW,
// so pages in flight in a socket can never change under a viewer) and maps it read-only so the
// same pages are also readable as a string_view. One copy of the bytes exists, in shared
// memory, not two.
//
// When the kernel refuses (no memfd, descriptor limit reached) seal() keeps the bytes on the
// heap and fd() is -1: callers then write view() as before. Nothing fails because of it.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace livehouse::core {

class blob {
  public:
    /// Heap-backed: no descriptor.
    static std::shared_ptr<const blob> from_string(std::string bytes);
    /// Sealed memory file holding a copy of `bytes`; heap-backed if the kernel refuses.
    static std::shared_ptr<const blob> seal(std::string_view bytes);

    ~blob();
    blob(const blob&) = delete;
    blob& operator=(const blob&) = delete;
    blob(blob&&) = delete;
    blob& operator=(blob&&) = delete;

    [[nodiscard]] std::string_view view() const noexcept { return {data_, size_}; }
    [[nodiscard]] const char* data() const noexcept { return data_; }
    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    /// A sealed memory file with exactly size() bytes, for sendfile(2); -1 when heap-backed.
    [[nodiscard]] int fd() const noexcept { return fd_; }

  private:
    blob() = default;

    std::string heap_;           ///< heap-backed bytes (fd_ == -1)
    const char* data_ = nullptr; ///< heap_.data() or the read-only mapping
    std::size_t size_ = 0;
    int fd_ = -1;
    void* map_ = nullptr; ///< the mapping to unmap (null when heap-backed or empty)
};

using shared_blob = std::shared_ptr<const blob>;

} // namespace livehouse::core
