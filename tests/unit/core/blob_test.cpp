// blob: sealed memory files hold exactly the bytes given, cannot be changed, and fall back to
// the heap when there is nothing to seal.
#include "core/blob.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

namespace livehouse::core {
namespace {

std::string pattern(std::size_t n) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i) {
        s[i] = static_cast<char>(i * 131 % 251);
    }
    return s;
}

TEST(blob, seal_holds_the_bytes_in_a_sealed_memory_file) {
    const auto bytes = pattern(700 * 1024 + 3);
    const auto b = blob::seal(bytes);
    ASSERT_TRUE(b);
    ASSERT_GE(b->fd(), 0);
    EXPECT_EQ(b->size(), bytes.size());
    EXPECT_TRUE(b->view() == bytes);

    struct stat st {};
    ASSERT_EQ(::fstat(b->fd(), &st), 0);
    EXPECT_EQ(static_cast<std::size_t>(st.st_size), bytes.size());

    // Every seal that keeps a viewer's bytes stable is set, and no more can be changed.
    const int seals = ::fcntl(b->fd(), F_GET_SEALS);
    ASSERT_GE(seals, 0);
    EXPECT_NE(seals & F_SEAL_WRITE, 0);
    EXPECT_NE(seals & F_SEAL_SHRINK, 0);
    EXPECT_NE(seals & F_SEAL_GROW, 0);
    EXPECT_NE(seals & F_SEAL_SEAL, 0);
    EXPECT_EQ(::pwrite(b->fd(), "x", 1, 0), -1);
    EXPECT_EQ(::ftruncate(b->fd(), 1), -1);

    // The descriptor reads back the same bytes (what sendfile(2) will send).
    std::string back(bytes.size(), '\0');
    ASSERT_EQ(::pread(b->fd(), back.data(), back.size(), 0), static_cast<ssize_t>(back.size()));
    EXPECT_TRUE(back == bytes);
}

TEST(blob, from_string_and_empty_seal_are_heap_backed) {
    const auto h = blob::from_string("abc");
    EXPECT_EQ(h->fd(), -1);
    EXPECT_EQ(h->view(), "abc");

    const auto e = blob::seal("");
    EXPECT_EQ(e->fd(), -1);
    EXPECT_EQ(e->size(), 0U);
}

TEST(blob, descriptor_is_closed_with_the_last_reference) {
    int fd = -1;
    {
        const auto b = blob::seal("segment bytes");
        fd = b->fd();
        ASSERT_GE(fd, 0);
        EXPECT_EQ(::fcntl(fd, F_GETFD), FD_CLOEXEC);
    }
    EXPECT_EQ(::fcntl(fd, F_GETFD), -1);
}

} // namespace
} // namespace livehouse::core
