// blob: sealed memory files (memfd_create + F_ADD_SEALS + a read-only shared mapping).
#include "core/blob.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

namespace livehouse::core {

namespace {

// Writes all of `bytes` at the file's current offset, retrying short writes and EINTR.
bool write_all(int fd, std::string_view bytes) {
    while (!bytes.empty()) {
        const auto n = ::write(fd, bytes.data(), bytes.size());
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return false;
        }
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

} // namespace

std::shared_ptr<const blob> blob::from_string(std::string bytes) {
    std::shared_ptr<blob> b(new blob());
    b->heap_ = std::move(bytes);
    b->data_ = b->heap_.data();
    b->size_ = b->heap_.size();
    return b;
}

std::shared_ptr<const blob> blob::seal(std::string_view bytes) {
    if (bytes.empty()) {
        return from_string({});
    }
    // MFD_CLOEXEC: a child process (none today) must not inherit every live segment.
    // MFD_ALLOW_SEALING: memfd_create(2) "the initial set of seals will be empty" only with it;
    // without it the file carries F_SEAL_SEAL and can never be sealed.
    const int fd = ::memfd_create("livehouse-blob", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0) {
        return from_string(std::string(bytes));
    }
    void* map = MAP_FAILED;
    if (write_all(fd, bytes) &&
        ::fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) == 0) {
        // fcntl(2): F_SEAL_WRITE fails with EBUSY while a writable shared mapping exists; this
        // one is read-only and made after the seal, so the bytes are final from here on.
        map = ::mmap(nullptr, bytes.size(), PROT_READ, MAP_SHARED, fd, 0);
    }
    if (map == MAP_FAILED) {
        ::close(fd);
        return from_string(std::string(bytes));
    }
    std::shared_ptr<blob> b(new blob());
    b->fd_ = fd;
    b->map_ = map;
    b->data_ = static_cast<const char*>(map);
    b->size_ = bytes.size();
    return b;
}

blob::~blob() {
    if (map_ != nullptr) {
        ::munmap(map_, size_);
    }
    if (fd_ >= 0) {
        ::close(fd_);
    }
}

} // namespace livehouse::core
