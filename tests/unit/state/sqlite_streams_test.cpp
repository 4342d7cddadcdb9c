// The embedded durable streams across a restart: appended entries and unacknowledged
// deliveries survive closing and reopening the database (the contract suite covers the rest).
#include "livehouse_test/temp_dir.hpp"
#include "state/embedded/sqlite_streams.hpp"

#include <future>
#include <gtest/gtest.h>
#include <sqlite3.h>

namespace livehouse::state::embedded {
namespace {

using namespace std::chrono_literals;
using livehouse::test::temp_dir;

template <typename T, typename Call> T get(Call&& call) {
    std::promise<core::result<T>> p;
    auto f = p.get_future();
    call([&p](core::result<T> r) { p.set_value(std::move(r)); });
    auto r = f.get();
    EXPECT_TRUE(r) << r.err().message;
    return r ? std::move(*r) : T{};
}

TEST(sqlite_streams, entries_and_pending_deliveries_survive_a_restart) {
    temp_dir dir;
    std::string id3;
    {
        auto st = sqlite_streams::open(dir.str());
        ASSERT_TRUE(st) << st.err().message;
        for (const char* p : {"one", "two", "three"}) {
            id3 = get<std::string>([&](auto d) { (*st)->append("k", p, std::move(d)); });
        }
        const auto got = get<std::vector<stream_entry>>(
            [&](auto d) { (*st)->read("k", "g", "c1", 2, 30s, std::move(d)); });
        ASSERT_EQ(got.size(), 2U);
        (*st)->close(); // "crash" with two entries delivered and not acknowledged
    }
    auto st = sqlite_streams::open(dir.str());
    ASSERT_TRUE(st) << st.err().message;
    // claim_after 0: whatever was given out and not acknowledged comes back first.
    const auto got = get<std::vector<stream_entry>>(
        [&](auto d) { (*st)->read("k", "g", "c2", 10, 0ms, std::move(d)); });
    ASSERT_EQ(got.size(), 3U);
    EXPECT_EQ(got[0].payload, "one");
    EXPECT_EQ(got[0].deliveries, 2U);
    EXPECT_EQ(got[1].payload, "two");
    EXPECT_EQ(got[2].payload, "three");
    EXPECT_EQ(got[2].id, id3);
    EXPECT_EQ(got[2].deliveries, 1U);
    // New ids keep growing after the restart.
    const auto id4 = get<std::string>([&](auto d) { (*st)->append("k", "four", std::move(d)); });
    EXPECT_GT(std::stoll(id4), std::stoll(id3));
}

TEST(sqlite_streams, a_full_queue_refuses_at_once_and_close_runs_what_was_queued) {
    temp_dir dir;
    auto st = sqlite_streams::open(dir.str(), 4);
    ASSERT_TRUE(st);
    std::atomic<int> ok{0};
    std::atomic<int> refused{0};
    for (int i = 0; i < 1000; ++i) {
        (*st)->append("k", "x",
                      [&](core::result<std::string> r) { (r ? ok : refused).fetch_add(1); });
    }
    (*st)->close();
    EXPECT_EQ(ok.load() + refused.load(), 1000);
    EXPECT_GT(ok.load(), 0);
    EXPECT_GT(refused.load(), 0) << "a queue of 4 cannot have taken 1,000 appends at once";
    // After close everything is refused, immediately.
    bool closed_refused = false;
    (*st)->append("k", "late", [&](core::result<std::string> r) { closed_refused = !r; });
    EXPECT_TRUE(closed_refused);
}

// Rows in stream_entries, read straight from the file (WAL readers see committed data).
std::int64_t entry_rows(const std::string& dir) {
    sqlite3* db = nullptr;
    std::int64_t n = -1;
    if (sqlite3_open_v2((dir + "/streams.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr) ==
        SQLITE_OK) {
        sqlite3_stmt* s = nullptr;
        if (sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM stream_entries", -1, &s, nullptr) ==
                SQLITE_OK &&
            sqlite3_step(s) == SQLITE_ROW) {
            n = sqlite3_column_int64(s, 0);
        }
        sqlite3_finalize(s);
    }
    sqlite3_close(db);
    return n;
}

// A durable queue must not grow forever: entries every group acknowledged leave the file.
TEST(sqlite_streams, entries_acknowledged_by_every_group_are_deleted) {
    temp_dir dir;
    auto st = sqlite_streams::open(dir.str());
    ASSERT_TRUE(st);
    auto& s = **st;
    get<std::vector<stream_entry>>([&](auto d) { s.read("k", "a", "c", 0, 30s, std::move(d)); });
    get<std::vector<stream_entry>>([&](auto d) { s.read("k", "b", "c", 0, 30s, std::move(d)); });
    std::vector<std::string> ids;
    for (int i = 0; i < 3; ++i) {
        ids.push_back(get<std::string>([&](auto d) { s.append("k", "x", std::move(d)); }));
    }
    EXPECT_EQ(entry_rows(dir.str()), 3);
    get<std::vector<stream_entry>>([&](auto d) { s.read("k", "a", "c", 10, 30s, std::move(d)); });
    EXPECT_EQ(get<std::size_t>([&](auto d) { s.ack("k", "a", ids, std::move(d)); }), 3U);
    EXPECT_EQ(entry_rows(dir.str()), 3) << "group b has not had them yet";
    get<std::vector<stream_entry>>([&](auto d) { s.read("k", "b", "c", 10, 30s, std::move(d)); });
    EXPECT_EQ(get<std::size_t>([&](auto d) {
                  s.ack("k", "b", {ids[0], ids[1]}, std::move(d));
              }),
              2U);
    EXPECT_EQ(entry_rows(dir.str()), 1) << "only the entry b still holds";
}

} // namespace
} // namespace livehouse::state::embedded
