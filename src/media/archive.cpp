// Archive writer: serialized file jobs on the task_runner. See archive.hpp for the policy.
#include "media/archive.hpp"

#include "codec/hls/media_playlist.hpp"
#include "media/ids.hpp"
#include "media/live_window.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <memory>
#include <spdlog/spdlog.h>
#include <sys/sendfile.h>
#include <system_error>
#include <unistd.h>

namespace livehouse::media {

namespace {

/// Manifests are ours, but a corrupted disk should not make recovery read gigabytes.
constexpr std::uintmax_t max_manifest_bytes = 64U << 20U;

std::string errno_text(int e) {
    return std::error_code(e, std::generic_category()).message();
}

struct file_closer {
    void operator()(std::FILE* f) const {
        if (f != nullptr) {
            std::fclose(f);
        }
    }
};
using file_ptr = std::unique_ptr<std::FILE, file_closer>;

core::result<void> append_line(const std::filesystem::path& path, std::string_view line) {
    file_ptr f(std::fopen(path.c_str(), "ab"));
    if (!f) {
        return core::make_error(fmt::format("open {}: {}", path.string(), errno_text(errno)));
    }
    if (std::fwrite(line.data(), 1, line.size(), f.get()) != line.size() ||
        std::fclose(f.release()) != 0) {
        return core::make_error(fmt::format("append {}: {}", path.string(), errno_text(errno)));
    }
    return {};
}

std::int64_t to_ms(double seconds) {
    return std::llround(seconds * 1000.0);
}

template <class T> bool parse_number(std::string_view& rest, T& out) {
    while (!rest.empty() && rest.front() == ' ') {
        rest.remove_prefix(1);
    }
    const auto [p, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), out);
    if (ec != std::errc() || p == rest.data()) {
        return false;
    }
    rest.remove_prefix(static_cast<std::size_t>(p - rest.data()));
    return true;
}

} // namespace

std::filesystem::path archive_dir(std::string_view data_dir, std::string_view id) {
    return std::filesystem::path(data_dir) / "vod" / std::filesystem::path(id);
}

std::string render_vod_playlist(const std::vector<archived_segment>& segments,
                                int min_target_duration_s) {
    codec::hls::media_playlist p;
    p.type = codec::hls::playlist_type::vod;
    p.ended = true;
    p.media_sequence = 0;
    int target = std::max(1, min_target_duration_s);
    std::uint64_t position = 0;
    for (std::size_t i = 0; i < segments.size(); ++i) {
        const auto& s = segments[i];
        const double d = static_cast<double>(s.duration_ms) / 1000.0;
        // RFC 8216 §4.3.3.1: rounded EXTINF <= TARGETDURATION, over the whole file.
        target = std::max(target, codec::hls::rounded_seconds(d));
        // A gap in the sequence (a segment lost to a full queue or a failed write) is a
        // timestamp discontinuity too (§4.3.2.3). The first segment needs no tag.
        const bool gap = i > 0 && s.sequence != segments[i - 1].sequence + 1;
        codec::hls::segment_entry e;
        e.sequence = position++;
        e.duration_s = d;
        e.uri = segment_uri(s.sequence);
        e.discontinuity = i > 0 && (s.discontinuity || gap);
        e.program_date_time = std::chrono::system_clock::time_point(
            std::chrono::duration_cast<std::chrono::system_clock::duration>(
                std::chrono::milliseconds(s.program_date_time_ms)));
        p.segments.push_back(std::move(e));
    }
    p.target_duration_s = target;
    return codec::hls::render(p);
}

std::vector<archived_segment> parse_archive_manifest(std::string_view text) {
    std::vector<archived_segment> out;
    while (!text.empty()) {
        const auto nl = text.find('\n');
        if (nl == std::string_view::npos) {
            break; // a last line without its newline was cut short by a crash
        }
        auto line = text.substr(0, nl);
        text.remove_prefix(nl + 1);
        archived_segment s;
        int disc = 0;
        if (parse_number(line, s.sequence) && parse_number(line, s.duration_ms) &&
            parse_number(line, disc) && parse_number(line, s.program_date_time_ms) &&
            line.empty() && s.duration_ms >= 0 && (disc == 0 || disc == 1) &&
            (out.empty() || s.sequence > out.back().sequence)) {
            s.discontinuity = disc == 1;
            out.push_back(s);
        }
    }
    return out;
}

namespace {

// Copies the blob's memory file into `f` inside the kernel (sendfile(2) to a regular file, Linux
// >= 2.6.33): no user-space pass over the bytes and no page faults on the blob's mapping.
// Falls back to fwrite for a heap-backed blob, or if the kernel refuses before any byte moved.
bool write_blob(std::FILE* f, const core::blob& b) {
    if (b.fd() >= 0 && std::fflush(f) == 0) {
        off_t offset = 0;
        const auto size = static_cast<off_t>(b.size());
        while (offset < size) {
            const auto n =
                ::sendfile(::fileno(f), b.fd(), &offset, static_cast<std::size_t>(size - offset));
            if (n > 0) {
                continue;
            }
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (offset == 0 && n < 0 && (errno == EINVAL || errno == ENOSYS)) {
                break; // fall back to fwrite below
            }
            return false;
        }
        if (offset == size) {
            return true;
        }
    }
    return std::fwrite(b.data(), 1, b.size(), f) == b.size();
}

enum class direct_write { written, unsupported, failed };

// Writes a sealed blob to `tmp` with O_DIRECT: the disk reads the blob's own pages, so archiving
// a segment allocates no page cache and copies nothing on the CPU. Measured on the benchmark
// machine (docs/BENCHMARKS.md), a buffered write of each new 0.7 MB segment file was the
// largest single cost of ingest at 100 publishers: every page of every file is a freshly
// allocated page-cache page. open(2): O_DIRECT needs the buffer, length and offset aligned to
// the device's logical block size; the blob's mapping is page-aligned and covers whole pages
// (mmap(2): the bytes past the end of the file in its last page read as zero), so the write
// rounds the length up to a page and ftruncate cuts the file back to the blob's size.
// `unsupported`: the filesystem refuses O_DIRECT (tmpfs, some network filesystems) before a
// byte was written; the caller then writes through the page cache instead.
direct_write write_direct(const std::filesystem::path& tmp, const core::blob& b) {
    if (b.fd() < 0 || b.size() == 0) {
        return direct_write::unsupported;
    }
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_DIRECT | O_CLOEXEC, 0644);
    if (fd < 0) {
        return errno == EINVAL ? direct_write::unsupported : direct_write::failed;
    }
    const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    const std::size_t aligned = (b.size() + page - 1) / page * page;
    std::size_t done = 0;
    int error = 0;
    while (done < aligned) {
        const auto n = ::write(fd, b.data() + done, aligned - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            error = n < 0 ? errno : EIO;
            break;
        }
        done += static_cast<std::size_t>(n);
    }
    if (error == 0 && ::ftruncate(fd, static_cast<off_t>(b.size())) != 0) {
        error = errno;
    }
    if (::close(fd) != 0 && error == 0) {
        error = errno;
    }
    if (error != 0) {
        ::unlink(tmp.c_str());
        errno = error;
        return done == 0 && error == EINVAL ? direct_write::unsupported : direct_write::failed;
    }
    return direct_write::written;
}

// Renames the finished `tmp` over `path` (removing `tmp` if that fails).
core::result<void> rename_into_place(const std::filesystem::path& tmp,
                                     const std::filesystem::path& path) {
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) {
        std::error_code ignored;
        std::filesystem::remove(tmp, ignored);
        return core::make_error(fmt::format("rename {}: {}", path.string(), ec.message()));
    }
    return {};
}

// Writes <path>.tmp with `fill`, then renames it over `path`.
template <typename Fill>
core::result<void> write_atomic(const std::filesystem::path& path, Fill&& fill) {
    auto tmp = path;
    tmp += ".tmp";
    {
        file_ptr f(std::fopen(tmp.c_str(), "wb"));
        if (!f) {
            return core::make_error(fmt::format("open {}: {}", tmp.string(), errno_text(errno)));
        }
        if (!fill(f.get()) || std::fclose(f.release()) != 0) {
            const auto why = errno_text(errno);
            std::error_code ignored;
            std::filesystem::remove(tmp, ignored);
            return core::make_error(fmt::format("write {}: {}", tmp.string(), why));
        }
    }
    return rename_into_place(tmp, path);
}

} // namespace

core::result<void> write_file_atomic(const std::filesystem::path& path, std::string_view data) {
    return write_atomic(path, [&](std::FILE* f) {
        return std::fwrite(data.data(), 1, data.size(), f) == data.size();
    });
}

core::result<void> write_file_atomic(const std::filesystem::path& path, const core::blob& data) {
    auto tmp = path;
    tmp += ".tmp";
    switch (write_direct(tmp, data)) {
    case direct_write::written:
        return rename_into_place(tmp, path);
    case direct_write::failed:
        return core::make_error(fmt::format("write {}: {}", tmp.string(), errno_text(errno)));
    case direct_write::unsupported:
        break;
    }
    return write_atomic(path, [&](std::FILE* f) { return write_blob(f, data); });
}

std::shared_ptr<archive> archive::create(std::string_view data_dir, std::string_view id,
                                         task_runner io) {
    if (data_dir.empty()) {
        return nullptr;
    }
    if (!is_valid_broadcast_id(id)) {
        spdlog::warn("archive: broadcast id '{}' is not a safe path component; not archiving",
                     std::string(id));
        return nullptr;
    }
    return std::make_shared<archive>(token{}, archive_dir(data_dir, id), std::move(io));
}

archive::archive(token /*unused*/, std::filesystem::path dir, task_runner io)
    : dir_(std::move(dir)), io_(std::move(io)) {}

void archive::enqueue(std::function<void()> job) {
    bool start = false;
    {
        std::lock_guard lock(mutex_);
        queue_.push_back(std::move(job));
        start = !draining_;
        draining_ = true;
    }
    if (!start) {
        return;
    }
    // Why one drain task at a time: the runner may be a pool, and the playlist must land after
    // the segments it lists.
    auto self = shared_from_this();
    if (io_) {
        io_([self] { self->drain(); });
    } else {
        self->drain();
    }
}

void archive::drain() {
    for (;;) {
        std::function<void()> job;
        {
            std::lock_guard lock(mutex_);
            if (queue_.empty()) {
                draining_ = false;
                return;
            }
            job = std::move(queue_.front());
            queue_.pop_front();
        }
        job();
    }
}

void archive::add(std::shared_ptr<const segment> s) {
    {
        std::lock_guard lock(mutex_);
        if (pending_segments_ >= max_pending) {
            lost_count_.fetch_add(1);
            spdlog::warn("archive {}: {} segment writes pending, leaving segment {} out",
                         dir_.string(), pending_segments_, s->sequence);
            return;
        }
        ++pending_segments_;
    }
    enqueue([this, s = std::move(s)] {
        write_segment(*s);
        std::lock_guard lock(mutex_);
        --pending_segments_;
    });
}

void archive::finish(int target_duration_s) {
    enqueue([this, target_duration_s] { write_playlist(target_duration_s); });
}

void archive::write_segment(const segment& s) {
    if (!dir_ready_) {
        std::error_code ec;
        std::filesystem::create_directories(dir_, ec);
        if (ec) {
            lost_count_.fetch_add(1);
            spdlog::error("archive {}: create directory: {}", dir_.string(), ec.message());
            return;
        }
        dir_ready_ = true;
    }
    if (auto r = write_file_atomic(dir_ / segment_uri(s.sequence), *s.data); !r) {
        lost_count_.fetch_add(1);
        spdlog::error("archive: segment {}: {}", s.sequence, r.err().message);
        return;
    }
    archived_segment a;
    a.sequence = s.sequence;
    a.duration_ms = to_ms(s.duration_s);
    a.discontinuity = s.discontinuity;
    a.program_date_time_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                 s.program_date_time.time_since_epoch())
                                 .count();
    const auto line = fmt::format("{} {} {} {}\n", a.sequence, a.duration_ms,
                                  a.discontinuity ? 1 : 0, a.program_date_time_ms);
    if (auto r = append_line(dir_ / archive_manifest_name, line); !r) {
        // The segment is on disk and will be in this run's VOD playlist; only crash recovery
        // would miss it.
        spdlog::warn("archive: manifest: {}", r.err().message);
    }
    written_.push_back(a);
    written_count_.fetch_add(1);
}

void archive::write_playlist(int target_duration_s) {
    if (written_.empty()) {
        spdlog::info("archive {}: no segments, no VOD playlist", dir_.string());
        return;
    }
    const auto text = render_vod_playlist(written_, target_duration_s);
    if (auto r = write_file_atomic(dir_ / vod_playlist_name, text); !r) {
        spdlog::error("archive: VOD playlist: {}", r.err().message);
        return;
    }
    playlist_written_.store(true);
}

void archive::recover(std::string_view data_dir, std::string_view id, task_runner io) {
    auto a = create(data_dir, id, std::move(io));
    if (!a) {
        return;
    }
    a->enqueue([raw = a.get()] {
        const auto& dir = raw->dir_;
        std::error_code ec;
        if (std::filesystem::exists(dir / vod_playlist_name, ec)) {
            return;
        }
        const auto manifest = dir / archive_manifest_name;
        const auto size = std::filesystem::file_size(manifest, ec);
        if (ec || size > max_manifest_bytes) {
            return; // nothing was archived (or not by us)
        }
        std::string text(size, '\0');
        file_ptr f(std::fopen(manifest.c_str(), "rb"));
        if (!f || std::fread(text.data(), 1, text.size(), f.get()) != text.size()) {
            spdlog::error("archive recover {}: read manifest: {}", dir.string(), errno_text(errno));
            return;
        }
        raw->written_ = parse_archive_manifest(text);
        raw->dir_ready_ = true;
        spdlog::info("archive recover {}: {} segments", dir.string(), raw->written_.size());
        raw->write_playlist(1);
    });
}

} // namespace livehouse::media
