// The embedded love counts across restarts and crashes (the contract suite covers the rest):
// every apply that completed is back after reopening — totals, rankings, timelines and the
// remembered batch ids, so a retry after a restart still counts once — also after the process
// is killed, and after the journal was compacted into a snapshot.
#include "livehouse_test/temp_dir.hpp"
#include "livehouse_test/wait.hpp"
#include "state/embedded/sqlite_love_counts.hpp"

#include <csignal>
#include <fmt/format.h>
#include <fstream>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

namespace livehouse::state::embedded {
namespace {

using livehouse::test::temp_dir;
using livehouse::test::wait_result;

const std::string key = "love|live|{b1}";

std::unique_ptr<sqlite_love_counts> open_counts(const temp_dir& dir, sqlite_love_options o = {}) {
    auto c = sqlite_love_counts::open(dir.str(), o);
    EXPECT_TRUE(c) << c.err().message;
    return c ? std::move(*c) : nullptr;
}

love_applied apply(love_counts& c, std::vector<love_batch_entry> batches) {
    auto r =
        wait_result<love_applied>([&](auto d) { c.apply(key, std::move(batches), std::move(d)); });
    EXPECT_TRUE(r) << r.err().message;
    return r ? *r : love_applied{};
}

struct seen_counts {
    std::int64_t total = 0;
    std::vector<scored_member> top;
    love_timeline timeline;
    bool operator==(const seen_counts&) const = default;
};

seen_counts read(love_counts& c) {
    seen_counts s;
    s.total = *wait_result<std::int64_t>([&](auto d) { c.total(key, std::move(d)); });
    s.top =
        *wait_result<std::vector<scored_member>>([&](auto d) { c.top(key, 100, std::move(d)); });
    s.timeline = *wait_result<love_timeline>([&](auto d) { c.timeline(key, std::move(d)); });
    return s;
}

std::int64_t journal_rows(const temp_dir& dir) {
    sqlite3* db = nullptr;
    sqlite3_open((dir.str() + "/love.db").c_str(), &db);
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db, "SELECT count(*) FROM love_journal", -1, &st, nullptr);
    std::int64_t n = -1;
    if (sqlite3_step(st) == SQLITE_ROW) {
        n = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

TEST(sqlite_love_counts, everything_applied_is_back_after_a_restart) {
    temp_dir dir;
    seen_counts before;
    {
        auto c = open_counts(dir);
        ASSERT_TRUE(c);
        apply(*c, {{"ann", "a1", 5, {{0, 2}, {7, 3}}}, {"bob", "b1", 3, {{7, 3}}}});
        apply(*c, {{"ann", "a2", 4, {{9, 4}}}, {"zed", "z1", 0}});
        before = read(*c);
        c->close();
    }
    EXPECT_EQ(before.total, 12);
    auto c = open_counts(dir);
    ASSERT_TRUE(c);
    EXPECT_EQ(read(*c), before);
    // The batch ids are remembered too: retries after the restart are not counted again, new
    // batches are.
    const auto r = apply(*c, {{"ann", "a1", 5}, {"zed", "z1", 0}, {"bob", "b2", 1}});
    EXPECT_EQ(r.counted, (std::vector<bool>{false, false, true}));
    EXPECT_EQ(r.total, 13);
}

TEST(sqlite_love_counts, a_killed_process_keeps_every_apply_that_completed) {
    temp_dir dir;
    constexpr int applies = 40;
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        // The child: apply, wait for each completion, then die without closing anything.
        auto c = sqlite_love_counts::open(dir.str());
        if (!c) {
            std::_Exit(2);
        }
        for (int i = 0; i < applies; ++i) {
            std::promise<bool> p;
            (*c)->apply(key,
                        {{fmt::format("u{}", i % 7), fmt::format("b{}", i), i + 1, {{i, i + 1}}}},
                        [&p](core::result<love_applied> r) { p.set_value(bool(r)); });
            if (!p.get_future().get()) {
                std::_Exit(3);
            }
        }
        ::kill(::getpid(), SIGKILL);
        std::_Exit(4);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "child exited " << WEXITSTATUS(status);
    auto c = open_counts(dir);
    ASSERT_TRUE(c);
    const auto s = read(*c);
    EXPECT_EQ(s.total, applies * (applies + 1) / 2);
    EXPECT_EQ(s.timeline.size(), static_cast<std::size_t>(applies));
    std::int64_t ranked = 0;
    for (const auto& m : s.top) {
        ranked += m.score;
    }
    EXPECT_EQ(ranked, s.total);
}

TEST(sqlite_love_counts, compaction_keeps_the_state_and_bounds_the_journal) {
    temp_dir dir;
    seen_counts before;
    {
        // Compact after every ~1 KiB of journal (2x the snapshot once that is larger).
        auto c = open_counts(dir, {.queue_limit = 4096, .compact_min_bytes = 1024});
        ASSERT_TRUE(c);
        for (int i = 0; i < 300; ++i) {
            apply(*c, {{fmt::format("u{}", i % 5), fmt::format("b{}", i), 2, {{i % 13, 2}}},
                       {fmt::format("u{}", i % 5), fmt::format("b{}", i), 2}}); // a retry in it
        }
        before = read(*c);
        c->close();
    }
    EXPECT_EQ(before.total, 600);
    EXPECT_LT(journal_rows(dir), 100) << "300 applies, compacted";
    auto c = open_counts(dir);
    ASSERT_TRUE(c);
    EXPECT_EQ(read(*c), before);
    // The last 32 ids of each user survive the snapshot: b299 (u4) is a retry, b200 (u0) too.
    const auto r = apply(*c, {{"u4", "b299", 2}, {"u0", "b200", 2}, {"u0", "b0", 2}});
    EXPECT_EQ(r.counted, (std::vector<bool>{false, false, true}))
        << "b0 fell out of u0's window of 32 long ago";
}

TEST(sqlite_love_counts, removed_counts_stay_removed_after_a_restart) {
    temp_dir dir;
    {
        auto c = open_counts(dir, {.queue_limit = 4096, .compact_min_bytes = 64});
        ASSERT_TRUE(c);
        for (int i = 0; i < 20; ++i) {
            apply(*c, {{"ann", fmt::format("a{}", i), 1}});
        }
        auto r = wait_result<void>([&](auto d) { c->remove(key, std::move(d)); });
        ASSERT_TRUE(r) << r.err().message;
        EXPECT_EQ(read(*c), seen_counts{});
        c->close();
    }
    EXPECT_EQ(journal_rows(dir), 0);
    auto c = open_counts(dir);
    ASSERT_TRUE(c);
    EXPECT_EQ(read(*c), seen_counts{});
}

TEST(sqlite_love_counts, a_damaged_journal_is_an_error_at_open) {
    temp_dir dir;
    {
        auto c = open_counts(dir);
        ASSERT_TRUE(c);
        apply(*c, {{"ann", "a1", 5}});
        c->close();
    }
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir.str() + "/love.db").c_str(), &db), SQLITE_OK);
    ASSERT_EQ(
        sqlite3_exec(db, "UPDATE love_journal SET batches = x'0102'", nullptr, nullptr, nullptr),
        SQLITE_OK);
    sqlite3_close(db);
    auto c = sqlite_love_counts::open(dir.str());
    ASSERT_FALSE(c);
    EXPECT_NE(c.err().message.find("love: journal row 1"), std::string::npos) << c.err().message;
}

} // namespace
} // namespace livehouse::state::embedded
