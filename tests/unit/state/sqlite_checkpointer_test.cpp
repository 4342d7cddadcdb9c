// sqlite_checkpointer: checkpoints happen off the writer's thread, the WAL stays bounded under
// a writer that never pauses, and nothing written is lost.
#include "state/embedded/sqlite_checkpointer.hpp"

#include <chrono>
#include <filesystem>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <string>
#include <thread>
#include <unistd.h>

namespace livehouse::state::embedded {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

struct temp_db {
    fs::path dir = fs::temp_directory_path() /
                   fmt::format("lh-ckpt-{}-{}", ::getpid(),
                               std::chrono::steady_clock::now().time_since_epoch().count());
    temp_db() { fs::create_directories(dir); }
    ~temp_db() { fs::remove_all(dir); }
    [[nodiscard]] std::string path() const { return (dir / "t.db").string(); }
    [[nodiscard]] std::uintmax_t wal_bytes() const {
        std::error_code ec;
        const auto n = fs::file_size(dir / "t.db-wal", ec);
        return ec ? 0 : n;
    }
};

sqlite3* open_writer(const std::string& path) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db,
                              SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                              nullptr),
              SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(db,
                           "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                           "CREATE TABLE t (k INTEGER PRIMARY KEY, v BLOB);",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    return db;
}

/// One transaction of `rows` rows of 1 KiB each (about a page per row).
void write_batch(sqlite3* db, int first, int rows) {
    ASSERT_EQ(sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_stmt* s = nullptr;
    ASSERT_EQ(
        sqlite3_prepare_v2(db, "INSERT INTO t (k, v) VALUES (?, zeroblob(1024))", -1, &s, nullptr),
        SQLITE_OK);
    for (int i = 0; i < rows; ++i) {
        sqlite3_bind_int(s, 1, first + i);
        ASSERT_EQ(sqlite3_step(s), SQLITE_DONE);
        sqlite3_reset(s);
    }
    sqlite3_finalize(s);
    ASSERT_EQ(sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
}

std::int64_t count_rows(const std::string& path) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    sqlite3_stmt* s = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, "SELECT count(*) FROM t", -1, &s, nullptr), SQLITE_OK);
    EXPECT_EQ(sqlite3_step(s), SQLITE_ROW);
    const auto n = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return n;
}

TEST(SqliteCheckpointer, CheckpointsInTheBackgroundAndKeepsEveryRow) {
    temp_db t;
    sqlite3* db = open_writer(t.path());
    auto c = sqlite_checkpointer::attach(db, t.path(), "test",
                                         {.threshold_pages = 20, .hard_limit_pages = 80});
    ASSERT_TRUE(c) << c.err().message;
    for (int b = 0; b < 50; ++b) {
        write_batch(db, b * 10, 10);
        std::this_thread::sleep_for(2ms); // a writer with pauses, as group commit has
    }
    for (int i = 0; i < 200 && (*c)->background_checkpoints() == 0; ++i) {
        std::this_thread::sleep_for(10ms);
    }
    EXPECT_GT((*c)->background_checkpoints(), 0u);
    // The WAL file's high-water mark: ~300 pages without checkpoints (the control below); with
    // them it restarts before the hard limit (+ one batch).
    EXPECT_LT(t.wal_bytes(), 100u * 4096u) << "500 rows are ~300 pages of WAL";
    c->reset();
    sqlite3_close(db);
    EXPECT_EQ(count_rows(t.path()), 500);
}

TEST(SqliteCheckpointer, WriterCheckpointsPastTheHardLimit) {
    temp_db t;
    sqlite3* db = open_writer(t.path());
    // The background never wakes (threshold above the hard limit): only the writer's fallback
    // keeps the WAL bounded.
    auto c = sqlite_checkpointer::attach(db, t.path(), "test",
                                         {.threshold_pages = 1 << 30, .hard_limit_pages = 64});
    ASSERT_TRUE(c) << c.err().message;
    for (int b = 0; b < 100; ++b) {
        write_batch(db, b * 10, 10);
    }
    EXPECT_GT((*c)->writer_checkpoints(), 0u);
    EXPECT_EQ((*c)->background_checkpoints(), 0u);
    EXPECT_LT(t.wal_bytes(), 150u * 4096u) << "bounded: ~600 pages were written";
    c->reset();
    sqlite3_close(db);
    EXPECT_EQ(count_rows(t.path()), 1000);
}

TEST(SqliteCheckpointer, WithoutItTheWalGrows) {
    // The control for the bounds above: automatic checkpoints off and no checkpointer.
    temp_db t;
    sqlite3* db = open_writer(t.path());
    ASSERT_EQ(sqlite3_exec(db, "PRAGMA wal_autocheckpoint=0", nullptr, nullptr, nullptr),
              SQLITE_OK);
    for (int b = 0; b < 100; ++b) {
        write_batch(db, b * 10, 10);
    }
    EXPECT_GT(t.wal_bytes(), 400u * 4096u);
    sqlite3_close(db);
}

} // namespace
} // namespace livehouse::state::embedded
