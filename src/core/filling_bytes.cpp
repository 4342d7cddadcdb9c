// filling_bytes (see filling_bytes.hpp).
#include "core/filling_bytes.hpp"

#include <utility>

namespace livehouse::core {

filling_bytes::filling_bytes(bool sized, std::size_t size, std::size_t limit)
    : sized_(sized), limit_(sized ? size : limit) {
    if (sized_ && size > 0) {
        // for_overwrite: no zero-fill of bytes the upstream is about to write anyway.
        fixed_ = std::make_unique_for_overwrite<char[]>(size);
    }
}

std::shared_ptr<filling_bytes> filling_bytes::sized(std::size_t size) {
    std::shared_ptr<filling_bytes> b(new filling_bytes(true, size, size));
    if (size == 0) {
        b->state_.store(state::complete, std::memory_order_release);
    }
    return b;
}

std::shared_ptr<filling_bytes> filling_bytes::unsized(std::size_t limit) {
    return std::shared_ptr<filling_bytes>(new filling_bytes(false, 0, limit));
}

std::shared_ptr<filling_bytes> filling_bytes::whole(std::string bytes) {
    std::shared_ptr<filling_bytes> b(new filling_bytes(false, 0, bytes.size()));
    b->grown_ = std::move(bytes);
    b->complete();
    return b;
}

char* filling_bytes::write_pointer() noexcept {
    return sized_ && fixed_ ? fixed_.get() + written_ : nullptr;
}

std::size_t filling_bytes::write_room() const noexcept {
    return sized_ ? limit_ - written_ : 0;
}

bool filling_bytes::commit(std::size_t n) {
    if (!sized_ || n > limit_ - written_ || current() != state::filling) {
        fail();
        return false;
    }
    written_ += n;
    available_.store(written_, std::memory_order_release);
    wake();
    return true;
}

bool filling_bytes::append(std::string_view bytes) {
    if (sized_ || bytes.size() > limit_ - grown_.size() || current() != state::filling) {
        fail();
        return false;
    }
    grown_.append(bytes);
    return true; // readers see unsized bytes only once complete: nobody to wake yet
}

bool filling_bytes::complete() {
    if (current() != state::filling) {
        return current() == state::complete;
    }
    if (sized_ && written_ != limit_) {
        fail();
        return false;
    }
    if (!sized_) {
        available_.store(grown_.size(), std::memory_order_release);
    }
    state_.store(state::complete, std::memory_order_release);
    wake();
    return true;
}

void filling_bytes::fail() {
    auto expected = state::filling;
    if (state_.compare_exchange_strong(expected, state::failed, std::memory_order_acq_rel)) {
        wake();
    }
}

std::size_t filling_bytes::size() const noexcept {
    if (sized_) {
        return limit_;
    }
    return current() == state::complete ? available() : 0;
}

std::size_t filling_bytes::available() const noexcept {
    return available_.load(std::memory_order_acquire);
}

const char* filling_bytes::data() const noexcept {
    return sized_ ? fixed_.get() : grown_.data();
}

filling_bytes::state filling_bytes::current() const noexcept {
    return state_.load(std::memory_order_acquire);
}

std::string_view filling_bytes::view() const noexcept {
    if (current() != state::complete) {
        return {};
    }
    return {data(), available()};
}

void filling_bytes::when_beyond(std::size_t seen, std::function<void()> f) {
    {
        // Checked under the lock the writer takes after publishing: either this check sees
        // the new bytes, or the writer's wake() sees this waiter. No wake-up is lost.
        std::lock_guard lock(mutex_);
        if (available() <= seen && current() == state::filling) {
            waiters_.push_back(std::move(f));
            return;
        }
    }
    f();
}

std::size_t filling_bytes::waiting() const {
    std::lock_guard lock(mutex_);
    return waiters_.size();
}

void filling_bytes::wake() {
    std::vector<std::function<void()>> ready;
    {
        std::lock_guard lock(mutex_);
        ready.swap(waiters_);
    }
    for (auto& f : ready) {
        f();
    }
}

} // namespace livehouse::core
