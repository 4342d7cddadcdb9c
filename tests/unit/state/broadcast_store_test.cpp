// broadcast_store against a real SQLite file in a temporary directory.
#include "livehouse_test/temp_dir.hpp"
#include "state/broadcast_store.hpp"

#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <thread>

namespace livehouse::state {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

using livehouse::test::temp_dir;

media::broadcast_record record(std::string id, std::string key) {
    media::broadcast_record r;
    r.id = std::move(id);
    r.title = "Title of " + r.id;
    r.stream_key = std::move(key);
    r.created_at = std::chrono::system_clock::time_point(1'767'225'600'123ms);
    return r;
}

TEST(broadcast_store, creates_file_in_wal_mode_and_starts_empty) {
    temp_dir dir;
    auto store = broadcast_store::open(dir.str());
    ASSERT_TRUE(store) << store.err().message;
    auto all = (*store)->load_all();
    ASSERT_TRUE(all) << all.err().message;
    EXPECT_TRUE(all->empty());
    EXPECT_TRUE(fs::exists(dir.str() + "/livehouse.db"));
    ASSERT_TRUE((*store)->save(record("a", "k1"))); // the WAL file appears with the first write
    EXPECT_TRUE(fs::exists(dir.str() + "/livehouse.db-wal"));
}

TEST(broadcast_store, save_upserts_and_round_trips_every_field) {
    temp_dir dir;
    {
        auto store = broadcast_store::open(dir.str());
        ASSERT_TRUE(store);
        auto r = record("b1", "key-1");
        ASSERT_TRUE((*store)->save(r));
        r.status = media::broadcast_status::ended;
        r.title = "renamed \"quoted\" 'x' ✓";
        r.started_at = r.created_at + 1500ms;
        r.ended_at = r.created_at + 60s;
        ASSERT_TRUE((*store)->save(r)); // same id: update, not a second row
        ASSERT_TRUE((*store)->save(record("b2", "key-2")));
    }
    auto store = broadcast_store::open(dir.str()); // survives a reopen
    ASSERT_TRUE(store);
    auto all = (*store)->load_all();
    ASSERT_TRUE(all);
    ASSERT_EQ(all->size(), 2U);
    const auto& a = all->at(0).id == "b1" ? all->at(0) : all->at(1);
    EXPECT_EQ(a.title, "renamed \"quoted\" 'x' ✓");
    EXPECT_EQ(a.stream_key, "key-1");
    EXPECT_EQ(a.status, media::broadcast_status::ended);
    EXPECT_EQ(a.created_at, std::chrono::system_clock::time_point(1'767'225'600'123ms));
    ASSERT_TRUE(a.started_at);
    EXPECT_EQ(*a.started_at, a.created_at + 1500ms);
    ASSERT_TRUE(a.ended_at);
    EXPECT_EQ(*a.ended_at, a.created_at + 60s);
    const auto& b = all->at(0).id == "b2" ? all->at(0) : all->at(1);
    EXPECT_FALSE(b.started_at);
    EXPECT_FALSE(b.ended_at);
}

TEST(broadcast_store, duplicate_stream_key_is_an_error) {
    temp_dir dir;
    auto store = broadcast_store::open(dir.str());
    ASSERT_TRUE(store);
    ASSERT_TRUE((*store)->save(record("a", "same")));
    auto r = (*store)->save(record("b", "same"));
    ASSERT_FALSE(r);
    EXPECT_NE(r.err().message.find("save b"), std::string::npos) << r.err().message;
}

TEST(broadcast_store, save_later_is_written_by_the_writer_thread_and_coalesced) {
    temp_dir dir;
    auto store = broadcast_store::open(dir.str());
    ASSERT_TRUE(store);
    auto r = record("c", "kc");
    for (auto s : {media::broadcast_status::idle, media::broadcast_status::live,
                   media::broadcast_status::suspended, media::broadcast_status::live}) {
        r.status = s;
        EXPECT_TRUE((*store)->save_later(r));
    }
    (*store)->flush();
    auto all = (*store)->load_all();
    ASSERT_TRUE(all);
    ASSERT_EQ(all->size(), 1U);
    EXPECT_EQ(all->front().status, media::broadcast_status::live);
    EXPECT_EQ((*store)->dropped(), 0U);
    EXPECT_EQ((*store)->failed_writes(), 0U);
}

TEST(broadcast_store, many_producers_then_close_drains_everything) {
    temp_dir dir;
    {
        auto store = broadcast_store::open(dir.str(), 8); // tiny queue: producers must wait
        ASSERT_TRUE(store);
        std::vector<std::thread> producers;
        for (int t = 0; t < 4; ++t) {
            producers.emplace_back([&, t] {
                for (int i = 0; i < 50; ++i) {
                    const auto id = std::to_string(t) + "-" + std::to_string(i);
                    (*store)->save_later(record(id, "key-" + id));
                }
            });
        }
        for (auto& p : producers) {
            p.join();
        }
        const auto dropped = (*store)->dropped();
        (*store)->close();
        auto reopened = broadcast_store::open(dir.str());
        ASSERT_TRUE(reopened);
        auto all = (*reopened)->load_all();
        ASSERT_TRUE(all);
        EXPECT_EQ(all->size() + dropped, 200U);
    }
}

TEST(broadcast_store, save_later_after_close_is_refused) {
    temp_dir dir;
    auto store = broadcast_store::open(dir.str());
    ASSERT_TRUE(store);
    (*store)->close();
    EXPECT_FALSE((*store)->save_later(record("x", "y")));
    EXPECT_FALSE((*store)->save(record("x", "y")));
    EXPECT_FALSE((*store)->load_all());
    (*store)->flush(); // returns at once
}

TEST(broadcast_store, open_fails_with_the_path_named) {
    temp_dir dir;
    auto missing = broadcast_store::open(dir.str() + "/no/such/dir");
    ASSERT_FALSE(missing);
    EXPECT_NE(missing.err().message.find("/no/such/dir/livehouse.db"), std::string::npos)
        << missing.err().message;

    std::ofstream(dir.str() + "/livehouse.db") << "this is not a database, just some text that "
                                                  "is long enough to have a header............";
    auto garbage = broadcast_store::open(dir.str());
    ASSERT_FALSE(garbage);
    EXPECT_NE(garbage.err().message.find("livehouse.db"), std::string::npos);
}

TEST(broadcast_store, unknown_status_in_a_row_fails_load_naming_the_row) {
    temp_dir dir;
    auto store = broadcast_store::open(dir.str());
    ASSERT_TRUE(store);
    ASSERT_TRUE((*store)->save(record("bad", "k")));
    (*store)->close();
    // Corrupt the row behind the store's back.
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir.str() + "/livehouse.db").c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "UPDATE broadcasts SET status='paused'", nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
    auto again = broadcast_store::open(dir.str());
    ASSERT_TRUE(again);
    auto all = (*again)->load_all();
    ASSERT_FALSE(all);
    EXPECT_NE(all.err().message.find("broadcast bad: unknown status 'paused'"), std::string::npos)
        << all.err().message;
}

} // namespace
} // namespace livehouse::state
