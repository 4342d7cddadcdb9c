// filling_bytes: readers see a prefix that never changes, are woken by the writer (never
// polled), and a failure or completion reaches every one of them.
#include "core/filling_bytes.hpp"

#include <atomic>
#include <condition_variable>
#include <cstring>
#include <gtest/gtest.h>
#include <string>
#include <thread>
#include <vector>

namespace livehouse::core {
namespace {

void write(filling_bytes& b, std::string_view s) {
    ASSERT_GE(b.write_room(), s.size());
    std::memcpy(b.write_pointer(), s.data(), s.size());
    ASSERT_TRUE(b.commit(s.size()));
}

TEST(FillingBytes, SizedBodyPublishesEachCommit) {
    auto b = filling_bytes::sized(10);
    EXPECT_TRUE(b->is_sized());
    EXPECT_EQ(b->size(), 10u);
    EXPECT_EQ(b->available(), 0u);
    EXPECT_EQ(b->current(), filling_bytes::state::filling);
    write(*b, "hello");
    EXPECT_EQ(b->available(), 5u);
    EXPECT_EQ(std::string(b->data(), b->available()), "hello");
    EXPECT_TRUE(b->view().empty()) << "no whole view before complete";
    write(*b, "world");
    EXPECT_TRUE(b->complete());
    EXPECT_EQ(b->view(), "helloworld");
}

TEST(FillingBytes, WaitersAreCalledOnceWhenMoreArrives) {
    auto b = filling_bytes::sized(4);
    int calls = 0;
    b->when_beyond(0, [&] { ++calls; });
    EXPECT_EQ(calls, 0);
    EXPECT_EQ(b->waiting(), 1u);
    write(*b, "ab");
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(b->waiting(), 0u);
    write(*b, "c");
    EXPECT_EQ(calls, 1) << "a waiter is called once, then must register again";
    // Already beyond: called at once, on this thread.
    b->when_beyond(1, [&] { ++calls; });
    EXPECT_EQ(calls, 2);
    b->when_beyond(3, [&] { ++calls; });
    EXPECT_EQ(calls, 2);
    write(*b, "d");
    EXPECT_EQ(calls, 3);
}

TEST(FillingBytes, FailureWakesReadersAndSticks) {
    auto b = filling_bytes::sized(8);
    bool woken = false;
    b->when_beyond(0, [&] { woken = true; });
    b->fail();
    EXPECT_TRUE(woken);
    EXPECT_EQ(b->current(), filling_bytes::state::failed);
    EXPECT_FALSE(b->complete());
    EXPECT_FALSE(b->commit(1));
    bool now = false;
    b->when_beyond(0, [&] { now = true; });
    EXPECT_TRUE(now) << "a failed body answers waiters at once";
}

TEST(FillingBytes, SizedLimitsAreEnforced) {
    auto b = filling_bytes::sized(3);
    EXPECT_FALSE(b->commit(4)) << "past the size";
    EXPECT_EQ(b->current(), filling_bytes::state::failed);

    auto short_body = filling_bytes::sized(3);
    write(*short_body, "ab");
    EXPECT_FALSE(short_body->complete()) << "a sized body must be full to complete";
    EXPECT_EQ(short_body->current(), filling_bytes::state::failed);

    auto empty = filling_bytes::sized(0);
    EXPECT_EQ(empty->current(), filling_bytes::state::complete);
    EXPECT_TRUE(empty->complete());
}

TEST(FillingBytes, UnsizedIsInvisibleUntilComplete) {
    auto b = filling_bytes::unsized(6);
    EXPECT_FALSE(b->is_sized());
    EXPECT_EQ(b->write_pointer(), nullptr);
    bool woken = false;
    b->when_beyond(0, [&] { woken = true; });
    EXPECT_TRUE(b->append("abc"));
    EXPECT_FALSE(woken);
    EXPECT_EQ(b->available(), 0u);
    EXPECT_EQ(b->size(), 0u);
    EXPECT_TRUE(b->append("def"));
    EXPECT_TRUE(b->complete());
    EXPECT_TRUE(woken);
    EXPECT_EQ(b->size(), 6u);
    EXPECT_EQ(b->view(), "abcdef");

    auto over = filling_bytes::unsized(2);
    EXPECT_FALSE(over->append("abc"));
    EXPECT_EQ(over->current(), filling_bytes::state::failed);

    auto w = filling_bytes::whole("xyz");
    EXPECT_EQ(w->current(), filling_bytes::state::complete);
    EXPECT_EQ(w->view(), "xyz");
}

// One writer, several reader threads that only ever wait through when_beyond: each must end
// with exactly the writer's bytes (no lost wake-up, no torn prefix).
TEST(FillingBytes, ConcurrentReadersGetEveryByte) {
    constexpr std::size_t size = 1 << 20;
    std::string source(size, '\0');
    for (std::size_t i = 0; i < size; ++i) {
        source[i] = static_cast<char>('a' + (i * 7) % 26);
    }
    auto b = filling_bytes::sized(size);
    std::vector<std::string> got(4);
    std::vector<std::thread> readers;
    for (auto& out : got) {
        readers.emplace_back([&b, &out] {
            std::size_t seen = 0;
            for (;;) {
                const auto avail = b->available();
                out.append(b->data() + seen, avail - seen);
                seen = avail;
                if (b->current() != filling_bytes::state::filling && b->available() == seen) {
                    return;
                }
                std::mutex m;
                std::condition_variable cv;
                bool ready = false;
                b->when_beyond(seen, [&] {
                    std::lock_guard lock(m);
                    ready = true;
                    cv.notify_one();
                });
                std::unique_lock lock(m);
                cv.wait(lock, [&] { return ready; });
            }
        });
    }
    for (std::size_t off = 0; off < size;) {
        const std::size_t n = std::min<std::size_t>(size - off, 1 + (off * 31) % 8000);
        std::memcpy(b->write_pointer(), source.data() + off, n);
        ASSERT_TRUE(b->commit(n));
        off += n;
    }
    ASSERT_TRUE(b->complete());
    for (auto& t : readers) {
        t.join();
    }
    for (const auto& out : got) {
        EXPECT_EQ(out.size(), size);
        EXPECT_TRUE(out == source);
    }
}

} // namespace
} // namespace livehouse::core
