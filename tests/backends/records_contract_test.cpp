// One contract for every relational-records backend (state/records.hpp): the embedded one
// (SQLite in a temp dir), PostgreSQL (a private server started by the test, a fresh database
// per test) and write-behind PostgreSQL (queued_records over a durable stream — the embedded
// one, a Redis stream on one server, a Redis stream in a 3-master cluster; reads after the
// outbox has drained). What differs is stated where it does: a queued put_purchase
// cannot know whether the purchase existed.
#include "livehouse_test/postgres_server.hpp"
#include "livehouse_test/redis_server.hpp"
#include "livehouse_test/temp_dir.hpp"
#include "livehouse_test/wait.hpp"
#include "state/embedded/sqlite_records.hpp"
#include "state/embedded/sqlite_streams.hpp"
#include "state/postgres/pg_records.hpp"
#include "state/queued_records.hpp"
#include "state/redis/client.hpp"
#include "state/redis/redis_state.hpp"

#include <atomic>
#include <functional>
#include <gtest/gtest.h>
#include <pqxx/nontransaction>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

namespace livehouse::state {
namespace {

using namespace std::chrono_literals;
using test::wait_result;

/// Where a backend keeps its records: kept across a reopen.
struct place {
    std::shared_ptr<test::temp_dir> dir;
    std::string conninfo;
    std::string redis;      ///< seeds of the Redis holding the outbox; empty: embedded outbox
    std::string outbox_key; ///< the outbox stream's key, unique per test
};

/// One open backend. Members go in reverse order: the queue before what it writes to.
struct backend {
    std::shared_ptr<redis::client> client;
    std::unique_ptr<streams> outbox;
    std::unique_ptr<records> direct;
    std::unique_ptr<queued_records> queued;

    records& api() { return queued ? static_cast<records&>(*queued) : *direct; }
    /// Waits until the writes made so far are readable.
    void settle() {
        if (queued) {
            ASSERT_TRUE(queued->wait_drained(30s)) << "outbox not drained";
        }
    }
};

/// A database of its own on the shared server, for one test.
std::string fresh_database() {
    static std::atomic<int> n{0};
    const auto name = std::string("records_")
                          .append(std::to_string(::getpid()))
                          .append("_")
                          .append(std::to_string(n++));
    pqxx::connection c(test::shared_postgres().conninfo());
    pqxx::nontransaction tx(c);
    tx.exec("CREATE DATABASE " + tx.quote_name(name));
    return test::shared_postgres().conninfo(name);
}

std::unique_ptr<records> open_pg(const place& p) {
    auto r = postgres::pg_records::open(p.conninfo);
    EXPECT_TRUE(r) << r.err().message;
    return r ? std::move(*r) : nullptr;
}

std::string unique_outbox_key() {
    static std::atomic<int> n{0};
    return std::string("records|outbox|pg-").append(std::to_string(n++));
}

/// PostgreSQL written through queued_records, the outbox in SQLite or in Redis.
backend open_queued(const place& p) {
    backend b;
    b.direct = open_pg(p);
    if (p.redis.empty()) {
        auto st = embedded::sqlite_streams::open(p.dir->str());
        EXPECT_TRUE(st) << st.err().message;
        if (st) {
            b.outbox = std::move(*st);
        }
    } else {
        auto c = redis::client::connect(*redis::parse_redis_urls(p.redis));
        EXPECT_TRUE(c) << c.err().message;
        if (c) {
            b.client = *c;
            b.outbox = std::make_unique<redis::redis_streams>(b.client);
        }
    }
    if (!b.direct || !b.outbox) {
        return b;
    }
    auto q = queued_records::open(*b.outbox, p.outbox_key, *b.direct);
    EXPECT_TRUE(q) << q.err().message;
    if (q) {
        b.queued = std::move(*q);
    }
    return b;
}

struct records_kind {
    std::string name;
    bool direct = true; ///< put_purchase answers whether the purchase is new
    std::function<place()> make_place;
    std::function<backend(const place&)> open;
};

std::vector<records_kind> kinds() {
    return {
        {"embedded", true,
         [] {
             return place{std::make_shared<test::temp_dir>(), "", "", ""};
         },
         [](const place& p) {
             backend b;
             auto r = embedded::sqlite_records::open(p.dir->str());
             EXPECT_TRUE(r) << r.err().message;
             if (r) {
                 b.direct = std::move(*r);
             }
             return b;
         }},
        {"postgres", true,
         [] {
             return place{nullptr, fresh_database(), "", ""};
         },
         [](const place& p) {
             backend b;
             b.direct = open_pg(p);
             return b;
         }},
        {"queued_postgres", false,
         [] {
             return place{std::make_shared<test::temp_dir>(), fresh_database(), "",
                          "records|outbox|pg"};
         },
         open_queued},
        {"queued_postgres_redis", false,
         [] {
             return place{nullptr, fresh_database(), test::shared_redis().address(),
                          unique_outbox_key()};
         },
         open_queued},
        {"queued_postgres_redis_cluster", false,
         [] {
             return place{nullptr, fresh_database(), test::shared_redis_cluster().seeds(),
                          unique_outbox_key()};
         },
         open_queued},
    };
}

class records_contract : public ::testing::TestWithParam<records_kind> {
  protected:
    void SetUp() override {
        place_ = GetParam().make_place();
        b_ = GetParam().open(place_);
        ASSERT_TRUE(b_.direct);
    }

    void reopen() {
        b_ = backend{};
        b_ = GetParam().open(place_);
        ASSERT_TRUE(b_.direct);
    }

    records& r() { return b_.api(); }

    void put(const total_record& t) {
        auto res = wait_result<void>([&](auto d) { r().put_total(t, std::move(d)); });
        EXPECT_TRUE(res) << res.err().message;
    }
    bool put(const purchase_record& p) {
        auto res = wait_result<bool>([&](auto d) { r().put_purchase(p, std::move(d)); });
        EXPECT_TRUE(res) << res.err().message;
        return res && *res;
    }
    void put(const archive_record& a) {
        auto res = wait_result<void>([&](auto d) { r().put_archive(a, std::move(d)); });
        EXPECT_TRUE(res) << res.err().message;
    }
    std::vector<total_record> totals(const std::string& b) {
        auto res =
            wait_result<std::vector<total_record>>([&](auto d) { r().totals(b, std::move(d)); });
        EXPECT_TRUE(res) << res.err().message;
        return res ? *res : std::vector<total_record>{};
    }
    std::vector<purchase_record> purchases(const std::string& u) {
        auto res = wait_result<std::vector<purchase_record>>(
            [&](auto d) { r().purchases(u, std::move(d)); });
        EXPECT_TRUE(res) << res.err().message;
        return res ? *res : std::vector<purchase_record>{};
    }
    std::vector<archive_record> archives(const std::string& b) {
        auto res = wait_result<std::vector<archive_record>>(
            [&](auto d) { r().archives(b, std::move(d)); });
        EXPECT_TRUE(res) << res.err().message;
        return res ? *res : std::vector<archive_record>{};
    }

    place place_;
    backend b_;
};

TEST_P(records_contract, upsert_replaces_totals_and_archives) {
    put(total_record{"b1", "love", 5});
    put(total_record{"b1", "love", 7});
    put(total_record{"b1", "viewers_peak", 3});
    put(total_record{"b2", "love", -1});
    put(archive_record{"b1", "vod", "vod/b1/index.m3u8", 10, 1000});
    put(archive_record{"b1", "vod", "vod/b1/final.m3u8", 20, 2000});
    b_.settle();
    EXPECT_EQ(totals("b1"),
              (std::vector<total_record>{{"b1", "love", 7}, {"b1", "viewers_peak", 3}}));
    EXPECT_EQ(totals("b2"), (std::vector<total_record>{{"b2", "love", -1}}));
    EXPECT_TRUE(totals("nobody").empty());
    EXPECT_EQ(archives("b1"),
              (std::vector<archive_record>{{"b1", "vod", "vod/b1/final.m3u8", 20, 2000}}));
    EXPECT_TRUE(archives("b2").empty());
}

TEST_P(records_contract, reads_are_ordered_byte_wise) {
    // Byte order, whatever the database's locale: "B" < "a" < "b" < "é" (0xC3 0xA9).
    for (const char* name : {"b", "\xC3\xA9", "a", "B"}) {
        put(total_record{"b1", name, 1});
    }
    for (const char* kind : {"vod", "chat", "thumbnail"}) {
        put(archive_record{"b1", kind, std::string("b1/").append(kind), 1, 1});
    }
    // Oldest first, equal times by id.
    put(purchase_record{"p3", "u1", "ticket", 1, 100, 2000});
    put(purchase_record{"z1", "u1", "ticket", 1, 100, 1000});
    put(purchase_record{"a1", "u1", "card", 2, 50, 1000});
    put(purchase_record{"p9", "u2", "ticket", 1, 100, 500});
    b_.settle();
    std::vector<std::string> names;
    for (const auto& t : totals("b1")) {
        names.push_back(t.name);
    }
    EXPECT_EQ(names, (std::vector<std::string>{"B", "a", "b", "\xC3\xA9"}));
    std::vector<std::string> kinds;
    for (const auto& a : archives("b1")) {
        kinds.push_back(a.kind);
    }
    EXPECT_EQ(kinds, (std::vector<std::string>{"chat", "thumbnail", "vod"}));
    EXPECT_EQ(purchases("u1"), (std::vector<purchase_record>{
                                   {"a1", "u1", "card", 2, 50, 1000},
                                   {"z1", "u1", "ticket", 1, 100, 1000},
                                   {"p3", "u1", "ticket", 1, 100, 2000},
                               }));
    EXPECT_EQ(purchases("u2").size(), 1U);
}

TEST_P(records_contract, a_purchase_is_stored_once) {
    const purchase_record first{"hold-1", "u1", "ticket", 1, 3000, 1000};
    EXPECT_TRUE(put(first));
    auto again = first;
    again.amount = 1; // a re-delivery must not change what was paid
    again.time_ms = 9999;
    // Only a direct backend knows the purchase existed; the queue answers "queued".
    EXPECT_EQ(put(again), !GetParam().direct);
    b_.settle();
    EXPECT_EQ(purchases("u1"), (std::vector<purchase_record>{first}));
}

TEST_P(records_contract, field_limits_are_refused) {
    const auto refused = [&](auto call) {
        auto res = wait_result<void>([&](auto d) { call(std::move(d)); });
        EXPECT_FALSE(res);
        if (!res) {
            EXPECT_NE(res.err().message.find("records:"), std::string::npos) << res.err().message;
        }
    };
    const std::string id_max(max_record_id_bytes, 'i');
    const std::string id_over(max_record_id_bytes + 1, 'i');
    const std::string path_over(max_record_text_bytes + 1, 'p');
    refused([&](auto d) { r().put_total({"", "love", 1}, std::move(d)); });
    refused([&](auto d) { r().put_total({id_over, "love", 1}, std::move(d)); });
    refused([&](auto d) { r().put_total({"b1", std::string("lo\0ve", 5), 1}, std::move(d)); });
    refused([&](auto d) { r().put_total({"b1", "\xC3\x28", 1}, std::move(d)); }); // bad UTF-8
    refused([&](auto d) { r().put_archive({"b1", "vod", path_over, 1, 1}, std::move(d)); });
    refused([&](auto d) {
        r().put_purchase({"h1", "u1", id_over, 1, 1, 1}, [d](core::result<bool> res) {
            d(res ? core::result<void>() : core::result<void>(res.err()));
        });
    });
    refused([&](auto d) {
        r().totals(id_over, [d](auto res) {
            d(res ? core::result<void>() : core::result<void>(res.err()));
        });
    });
    // At the limits: accepted.
    put(total_record{id_max, id_max, 1});
    put(archive_record{id_max, "vod", std::string(max_record_text_bytes, 'p'), 1, 1});
    b_.settle();
    EXPECT_EQ(totals(id_max).size(), 1U);
    EXPECT_EQ(archives(id_max).at(0).path.size(), max_record_text_bytes);
}

TEST_P(records_contract, concurrent_writers_get_exact_results) {
    // 8 threads each buy the same 100 holds (only one purchase per hold may be new) and set
    // their own totals 100 times (the last value stays).
    constexpr int threads = 8;
    constexpr int per_thread = 100;
    std::atomic<int> added{0};
    std::atomic<int> failures{0};
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; ++t) {
        ts.emplace_back([&, t] {
            for (int i = 0; i < per_thread; ++i) {
                auto p = wait_result<bool>([&](auto d) {
                    r().put_purchase(
                        {std::string("hold-").append(std::to_string(i)), "u1", "ticket", 1, 100, i},
                        std::move(d));
                });
                auto s = wait_result<void>([&](auto d) {
                    r().put_total({"b1", std::string("t").append(std::to_string(t)), i},
                                  std::move(d));
                });
                failures += (p ? 0 : 1) + (s ? 0 : 1);
                added += p && *p ? 1 : 0;
            }
        });
    }
    for (auto& t : ts) {
        t.join();
    }
    EXPECT_EQ(failures.load(), 0);
    EXPECT_EQ(added.load(), GetParam().direct ? per_thread : threads * per_thread);
    b_.settle();
    const auto ps = purchases("u1");
    ASSERT_EQ(ps.size(), static_cast<std::size_t>(per_thread));
    for (int i = 0; i < per_thread; ++i) {
        EXPECT_EQ(ps[static_cast<std::size_t>(i)].time_ms, i);
    }
    const auto ts_ = totals("b1");
    ASSERT_EQ(ts_.size(), static_cast<std::size_t>(threads));
    for (const auto& t : ts_) {
        EXPECT_EQ(t.value, per_thread - 1) << t.name;
    }
}

TEST_P(records_contract, records_survive_a_restart) {
    put(total_record{"b1", "love", 42});
    EXPECT_TRUE(put(purchase_record{"hold-1", "u1", "ticket", 1, 3000, 1000}));
    put(archive_record{"b1", "chat", "chat/b1.jsonl", 99, 5000});
    b_.settle();
    reopen();
    EXPECT_EQ(totals("b1"), (std::vector<total_record>{{"b1", "love", 42}}));
    EXPECT_EQ(purchases("u1").size(), 1U);
    EXPECT_EQ(archives("b1"),
              (std::vector<archive_record>{{"b1", "chat", "chat/b1.jsonl", 99, 5000}}));
}

INSTANTIATE_TEST_SUITE_P(records, records_contract, ::testing::ValuesIn(kinds()),
                         [](const auto& p) { return p.param.name; });

} // namespace
} // namespace livehouse::state
