// filling_bytes: a body that one writer fills while many readers send what has arrived.
//
// An edge cache that waits for a whole segment before answering adds the segment's transfer
// time to every viewer's wait, at every tier. Seed 003 (Facebook Live): a proxy that coalesces
// requests must stream the response to the waiters "as it comes in". So the upstream reader
// writes into one buffer and every viewer's session writes the prefix that has arrived to its
// socket, from the same bytes: no copy per viewer, no per-viewer buffer.
//
// Two shapes:
// - sized (the upstream sent Content-Length): the buffer is allocated once, at its final size;
//   bytes below available() never change again, so readers read them while the writer goes on
//   (available() is published with release/acquire ordering);
// - unsized (chunked, or no length): the writer appends to a string that may move while it
//   grows, so readers see nothing until complete() (available() stays 0 until then).
//
// Waiting: when_beyond(n, f) calls f once, as soon as more than n bytes are available or the
// body is complete or failed — immediately when that is already so. f runs on the writer's
// thread (or the caller's), under no lock: a session's f posts to its own executor. No polling.
//
// Thread-safety: one writer (append/commit/complete/fail from one thread at a time); any
// number of readers on any threads.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace livehouse::core {

class filling_bytes {
  public:
    enum class state { filling, complete, failed };

    /// A body of exactly `size` bytes (Content-Length known). size 0 is complete at once.
    static std::shared_ptr<filling_bytes> sized(std::size_t size);
    /// A body whose length is known only at its end, at most `limit` bytes.
    static std::shared_ptr<filling_bytes> unsized(std::size_t limit);
    /// A body that is already whole (a copy of `bytes`).
    static std::shared_ptr<filling_bytes> whole(std::string bytes);

    filling_bytes(const filling_bytes&) = delete;
    filling_bytes& operator=(const filling_bytes&) = delete;

    // ---- writer ---------------------------------------------------------------------------
    /// Sized: where the next bytes go, and how many may still be written. Unsized: nullptr/0
    /// (use append).
    [[nodiscard]] char* write_pointer() noexcept;
    [[nodiscard]] std::size_t write_room() const noexcept;
    /// Sized: `n` more bytes were written at write_pointer(). Readers are woken. Returns false
    /// (and fails the body) if that passes the size.
    bool commit(std::size_t n);
    /// Unsized: appends. Returns false (and fails the body) past the limit.
    bool append(std::string_view bytes);
    /// The last byte arrived. A sized body must be full (else it fails). Readers are woken.
    bool complete();
    /// The upstream broke off: readers stop (a session closes its connection, so its client
    /// sees a short body instead of a wrong one). Idempotent; no-op once complete.
    void fail();

    // ---- readers --------------------------------------------------------------------------
    /// The final size: Content-Length when sized; when unsized, the length once complete
    /// (0 before).
    [[nodiscard]] std::size_t size() const noexcept;
    [[nodiscard]] bool is_sized() const noexcept { return sized_; }
    /// Bytes readers may read from data(): they never change again.
    [[nodiscard]] std::size_t available() const noexcept;
    [[nodiscard]] const char* data() const noexcept;
    [[nodiscard]] state current() const noexcept;
    /// The whole body; empty unless complete.
    [[nodiscard]] std::string_view view() const noexcept;
    /// Calls `f` once when available() > seen, or the body is complete or failed (now, on
    /// this thread, if already so).
    void when_beyond(std::size_t seen, std::function<void()> f);
    /// Readers waiting right now (for tests and metrics).
    [[nodiscard]] std::size_t waiting() const;

  private:
    filling_bytes(bool sized, std::size_t size, std::size_t limit);
    void wake();

    const bool sized_;
    const std::size_t limit_; ///< sized: the size; unsized: the most bytes accepted
    std::unique_ptr<char[]> fixed_;
    std::string grown_;
    std::size_t written_ = 0; ///< writer's count (sized)
    std::atomic<std::size_t> available_{0};
    std::atomic<state> state_{state::filling};
    mutable std::mutex mutex_;
    std::vector<std::function<void()>> waiters_;
};

using shared_filling_bytes = std::shared_ptr<filling_bytes>;

} // namespace livehouse::core
