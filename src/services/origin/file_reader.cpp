#include "services/origin/file_reader.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

namespace livehouse::services::origin {

namespace {

/// Closes a descriptor on every return path.
class fd_guard {
  public:
    explicit fd_guard(int fd) : fd_(fd) {}
    ~fd_guard() {
        if (fd_ >= 0) {
            ::close(fd_);
        }
    }
    fd_guard(const fd_guard&) = delete;
    fd_guard& operator=(const fd_guard&) = delete;
    [[nodiscard]] int get() const { return fd_; }

  private:
    int fd_;
};

file_read failure(read_status st, std::string why) {
    file_read r;
    r.status = st;
    r.error = std::move(why);
    return r;
}

} // namespace

file_read read_file(const std::string& path, std::size_t max_bytes) {
    const fd_guard fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (fd.get() < 0) {
        const int e = errno;
        const auto st = (e == ENOENT || e == ENOTDIR || e == ELOOP) ? read_status::not_found
                                                                    : read_status::failed;
        return failure(st, fmt::format("open {}: {}", path, std::strerror(e)));
    }
    struct stat sb {};
    if (::fstat(fd.get(), &sb) != 0) {
        return failure(read_status::failed,
                       fmt::format("fstat {}: {}", path, std::strerror(errno)));
    }
    if (!S_ISREG(sb.st_mode)) {
        return failure(read_status::not_found, fmt::format("{}: not a regular file", path));
    }
    const auto size = static_cast<std::uint64_t>(sb.st_size);
    if (size > max_bytes) {
        return failure(read_status::too_large,
                       fmt::format("{}: {} bytes > limit {}", path, size, max_bytes));
    }
    std::string buf(static_cast<std::size_t>(size), '\0');
    std::size_t got = 0;
    while (got < buf.size()) {
        const auto n = ::read(fd.get(), buf.data() + got, buf.size() - got);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return failure(read_status::failed,
                           fmt::format("read {}: {}", path, std::strerror(errno)));
        }
        if (n == 0) {
            break; // truncated while we read: serve what is there, fstat size is stale
        }
        got += static_cast<std::size_t>(n);
    }
    buf.resize(got);
    file_read r;
    r.status = read_status::ok;
    r.size = got;
    r.mtime_ns = static_cast<std::int64_t>(sb.st_mtim.tv_sec) * 1'000'000'000 + sb.st_mtim.tv_nsec;
    r.data = core::make_shared_bytes(std::move(buf));
    return r;
}

std::string file_etag(std::uint64_t size, std::int64_t mtime_ns) {
    return fmt::format("\"{:x}-{:x}\"", size, static_cast<std::uint64_t>(mtime_ns));
}

} // namespace livehouse::services::origin
