// One contract for every room log backend (state/room_log.hpp): the same suite runs against
// the embedded backend, a single Redis server and a 3-master Redis Cluster, the private servers
// of livehouse_test/redis_server.hpp (shared with the other backend suites). Each test uses its
// own key space and hash tag. On Redis a second client stands for a second node: appends from
// both must still be published in offset order, with no gap and no duplicate.
#include "livehouse_test/redis_client.hpp"
#include "livehouse_test/redis_server.hpp"
#include "livehouse_test/temp_dir.hpp"
#include "livehouse_test/wait.hpp"
#include "state/backends.hpp"
#include "state/embedded/memory_bus.hpp"
#include "state/embedded/memory_room_log.hpp"
#include "state/keys.hpp"
#include "state/redis/client.hpp"
#include "state/redis/redis_state.hpp"
#include "state/room_log.hpp"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <gtest/gtest.h>
#include <mutex>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

namespace livehouse::state {
namespace {

using namespace std::chrono_literals;
using test::wait_result;

struct log_backend {
    std::shared_ptr<redis::client> client, client2; ///< Redis: two nodes' connections
    std::unique_ptr<bus> b, b2;                     ///< declared before the logs: outlive them
    std::unique_ptr<room_log> log, log2;            ///< log2: the second node (null: embedded)
};

struct log_backend_kind {
    std::string name;
    std::function<log_backend()> make;
};

void PrintTo(const log_backend_kind& k, std::ostream* os) {
    *os << k.name;
}

log_backend redis_log_backend(const std::string& seeds) {
    log_backend b;
    b.client = test::connect_redis(seeds);
    b.client2 = test::connect_redis(seeds);
    if (!b.client || !b.client2) {
        return b;
    }
    b.b = std::make_unique<redis::redis_bus>(b.client);
    b.b2 = std::make_unique<redis::redis_bus>(b.client2);
    b.log = std::make_unique<redis::redis_room_log>(b.client);
    b.log2 = std::make_unique<redis::redis_room_log>(b.client2);
    return b;
}

std::vector<log_backend_kind> log_kinds() {
    return {
        {"embedded",
         [] {
             log_backend b;
             auto mb = std::make_unique<embedded::memory_bus>();
             b.log = std::make_unique<embedded::memory_room_log>(*mb);
             b.b = std::move(mb);
             return b;
         }},
        {"redis", [] { return redis_log_backend(test::shared_redis().address()); }},
        {"redis_cluster", [] { return redis_log_backend(test::shared_redis_cluster().seeds()); }}};
}

const std::string prefix = R"({"offset":)";
const std::string suffix = R"(,"text":"hello"})";

std::string payload_of(std::uint64_t offset) {
    return prefix + std::to_string(offset) + suffix;
}

/// The offset inside a payload built with `prefix` and `suffix`; 0 if it has another shape.
std::uint64_t offset_in(std::string_view payload) {
    if (!payload.starts_with(prefix) || !payload.ends_with(suffix)) {
        return 0;
    }
    const auto digits =
        payload.substr(prefix.size(), payload.size() - prefix.size() - suffix.size());
    std::uint64_t v = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
    return ec == std::errc{} && end == digits.data() + digits.size() ? v : 0;
}

std::vector<std::uint64_t> offsets_of(const log_slice& s) {
    std::vector<std::uint64_t> out;
    for (const auto& e : s.entries) {
        out.push_back(e.offset);
    }
    return out;
}

std::vector<std::uint64_t> range(std::uint64_t from, std::uint64_t to) { // [from, to]
    std::vector<std::uint64_t> out(to + 1 - from);
    std::iota(out.begin(), out.end(), from);
    return out;
}

// What a subscription receives (shared: a delivery may still run after the subscription).
struct inbox {
    std::mutex mutex;
    std::condition_variable cv;
    std::vector<std::string> messages;

    void add(const core::shared_bytes& payload) {
        std::lock_guard lock(mutex);
        messages.push_back(*payload);
        cv.notify_all();
    }
    std::vector<std::string> wait_for(std::size_t n) {
        std::unique_lock lock(mutex);
        cv.wait_for(lock, 20s, [&] { return messages.size() >= n; });
        return messages;
    }
};

std::unique_ptr<bus::subscription> subscribe(bus& b, const std::string& channel,
                                             std::shared_ptr<inbox> in) {
    std::unique_ptr<bus::subscription> sub;
    auto ready = wait_result<void>([&](auto done) {
        sub = b.subscribe(
            channel, [in](std::string_view, const core::shared_bytes& p) { in->add(p); },
            std::move(done));
    });
    EXPECT_TRUE(ready) << ready.err().message;
    return sub;
}

class room_log_contract : public ::testing::TestWithParam<log_backend_kind> {
  protected:
    void SetUp() override {
        b_ = GetParam().make();
        ASSERT_TRUE(b_.log) << "backend did not start";
        static std::atomic<int> runs{0};
        const auto run = std::to_string(runs.fetch_add(1));
        auto ks = key_space::make("test", "roomlog" + run);
        ASSERT_TRUE(ks);
        // One hash tag per test: the log and its channel share it.
        key_ = ks->key("{r" + run + "}:chat");
        channel_ = ks->key("{r" + run + "}:live");
        ks_.emplace(*ks);
    }

    room_log& node2() { return b_.log2 ? *b_.log2 : *b_.log; }
    bus& bus2() { return b_.b2 ? *b_.b2 : *b_.b; }

    static core::result<log_entry> append(room_log& l, const std::string& key,
                                          const std::string& channel, std::size_t keep,
                                          const std::string& pre = prefix,
                                          const std::string& suf = suffix) {
        return wait_result<log_entry>(
            [&](auto done) { l.append(key, channel, pre, suf, keep, std::move(done)); });
    }
    core::result<log_entry> append(std::size_t keep) {
        return append(*b_.log, key_, channel_, keep);
    }
    core::result<log_slice> read(std::uint64_t from, std::size_t max) {
        return wait_result<log_slice>(
            [&](auto done) { b_.log->read(key_, from, max, std::move(done)); });
    }
    core::result<log_slice> tail(std::size_t n) {
        return wait_result<log_slice>(
            [&](auto done) { b_.log->read_tail(key_, n, std::move(done)); });
    }
    /// The entries' payloads must be the ones their offsets were appended with.
    static void expect_payloads_match(const log_slice& s) {
        for (const auto& e : s.entries) {
            ASSERT_TRUE(e.payload);
            EXPECT_EQ(*e.payload, payload_of(e.offset));
        }
    }

    log_backend b_;
    std::optional<key_space> ks_;
    std::string key_, channel_;
};

TEST_P(room_log_contract, room_log_offsets_count_from_one_and_payloads_carry_them) {
    auto empty = read(1, 10);
    ASSERT_TRUE(empty) << empty.err().message;
    EXPECT_EQ(empty->first, 1U);
    EXPECT_EQ(empty->next, 1U);
    EXPECT_TRUE(empty->entries.empty());

    for (std::uint64_t i = 1; i <= 5; ++i) {
        auto e = append(100);
        ASSERT_TRUE(e) << e.err().message;
        EXPECT_EQ(e->offset, i);
        ASSERT_TRUE(e->payload);
        EXPECT_EQ(*e->payload, payload_of(i)); // prefix + decimal(offset) + suffix
    }
    auto all = read(1, 10);
    ASSERT_TRUE(all) << all.err().message;
    EXPECT_EQ(all->first, 1U);
    EXPECT_EQ(all->next, 6U);
    EXPECT_EQ(offsets_of(*all), range(1, 5));
    expect_payloads_match(*all);

    // The second node sees the same log and continues its numbering.
    auto e = append(node2(), key_, channel_, 100);
    ASSERT_TRUE(e) << e.err().message;
    EXPECT_EQ(e->offset, 6U);
}

TEST_P(room_log_contract, room_log_read_from_max_and_tail) {
    for (int i = 0; i < 10; ++i) {
        ASSERT_TRUE(append(100));
    }
    auto s = read(3, 4);
    ASSERT_TRUE(s) << s.err().message;
    EXPECT_EQ(offsets_of(*s), range(3, 6));
    EXPECT_EQ(s->first, 1U);
    EXPECT_EQ(s->next, 11U);
    expect_payloads_match(*s);

    s = read(8, 100); // max beyond the end: what there is
    ASSERT_TRUE(s);
    EXPECT_EQ(offsets_of(*s), range(8, 10));

    s = read(11, 100); // nothing new: from == next
    ASSERT_TRUE(s);
    EXPECT_TRUE(s->entries.empty());
    EXPECT_EQ(s->next, 11U);
    EXPECT_EQ(s->first, 1U);

    s = read(1000, 100); // past the end
    ASSERT_TRUE(s);
    EXPECT_TRUE(s->entries.empty());
    EXPECT_EQ(s->next, 11U);

    s = read(1, 0); // max 0: only the bookkeeping
    ASSERT_TRUE(s);
    EXPECT_TRUE(s->entries.empty());
    EXPECT_EQ(s->first, 1U);
    EXPECT_EQ(s->next, 11U);

    s = tail(3);
    ASSERT_TRUE(s);
    EXPECT_EQ(offsets_of(*s), range(8, 10));
    expect_payloads_match(*s);
    EXPECT_EQ(s->next, 11U);

    s = tail(100);
    ASSERT_TRUE(s);
    EXPECT_EQ(offsets_of(*s), range(1, 10));

    s = tail(0);
    ASSERT_TRUE(s);
    EXPECT_TRUE(s->entries.empty());
    EXPECT_EQ(s->next, 11U);
}

TEST_P(room_log_contract, room_log_keep_caps_the_log_and_first_moves) {
    for (std::uint64_t i = 1; i <= 5; ++i) {
        auto e = append(3);
        ASSERT_TRUE(e);
        EXPECT_EQ(e->offset, i);
    }
    auto s = read(1, 10);
    ASSERT_TRUE(s) << s.err().message;
    EXPECT_EQ(s->first, 3U);
    EXPECT_EQ(s->next, 6U);
    // A reader that wanted 1 sees the gap: from < first; what is kept starts at first.
    EXPECT_EQ(offsets_of(*s), range(3, 5));
    expect_payloads_match(*s);

    s = read(4, 10);
    ASSERT_TRUE(s);
    EXPECT_EQ(offsets_of(*s), range(4, 5));

    s = tail(10);
    ASSERT_TRUE(s);
    EXPECT_EQ(offsets_of(*s), range(3, 5));
    EXPECT_EQ(s->first, 3U);

    // A smaller keep trims at once; the numbering goes on.
    auto e = append(1);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->offset, 6U);
    s = read(1, 10);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->first, 6U);
    EXPECT_EQ(s->next, 7U);
    EXPECT_EQ(offsets_of(*s), range(6, 6));
}

TEST_P(room_log_contract, room_log_subscribers_get_the_same_bytes_in_offset_order) {
    auto in1 = std::make_shared<inbox>();
    auto in2 = std::make_shared<inbox>();
    auto s1 = subscribe(*b_.b, channel_, in1);
    auto s2 = subscribe(bus2(), channel_, in2); // the other node's connection
    std::vector<std::string> appended;
    for (int i = 0; i < 50; ++i) {
        auto e = append(i % 2 == 0 ? *b_.log : node2(), key_, channel_, 20);
        ASSERT_TRUE(e) << e.err().message;
        appended.push_back(*e->payload);
    }
    ASSERT_EQ(appended.size(), 50U);
    EXPECT_EQ(appended.front(), payload_of(1));
    EXPECT_EQ(appended.back(), payload_of(50));
    EXPECT_EQ(in1->wait_for(50), appended);
    EXPECT_EQ(in2->wait_for(50), appended);
}

TEST_P(room_log_contract, room_log_concurrent_appends_from_two_nodes_are_published_in_order) {
    constexpr int threads = 8;
    constexpr int per_thread = 200;
    constexpr std::uint64_t total = std::uint64_t{threads} * per_thread;
    auto in1 = std::make_shared<inbox>();
    auto in2 = std::make_shared<inbox>();
    auto s1 = subscribe(*b_.b, channel_, in1);
    auto s2 = subscribe(bus2(), channel_, in2);

    std::vector<std::vector<std::uint64_t>> got(threads);
    std::atomic<int> failures{0};
    {
        std::vector<std::jthread> pool;
        for (int t = 0; t < threads; ++t) {
            // Half the threads on each node (one node: all on the one log).
            room_log& l = t % 2 == 0 ? *b_.log : node2();
            pool.emplace_back([&, t, &l = l] {
                for (int i = 0; i < per_thread; ++i) {
                    auto e = append(l, key_, channel_, 10'000);
                    if (!e || *e->payload != payload_of(e->offset)) {
                        failures.fetch_add(1);
                        continue;
                    }
                    got[static_cast<std::size_t>(t)].push_back(e->offset);
                }
            });
        }
    }
    EXPECT_EQ(failures.load(), 0);
    std::vector<std::uint64_t> all;
    for (const auto& g : got) {
        EXPECT_TRUE(std::is_sorted(g.begin(), g.end())) << "one caller's offsets go up";
        all.insert(all.end(), g.begin(), g.end());
    }
    std::sort(all.begin(), all.end());
    EXPECT_EQ(all, range(1, total)) << "every offset given exactly once";

    // Every subscriber, on either node, sees 1..total in order: no gap, no duplicate.
    for (const auto& in : {in1, in2}) {
        const auto messages = in->wait_for(total);
        std::vector<std::uint64_t> published;
        for (const auto& m : messages) {
            published.push_back(offset_in(m));
        }
        EXPECT_EQ(published, range(1, total));
    }

    auto s = read(1, max_room_log_read);
    ASSERT_TRUE(s) << s.err().message;
    EXPECT_EQ(s->first, 1U);
    EXPECT_EQ(s->next, total + 1);
    EXPECT_EQ(offsets_of(*s), range(1, total)) << "the log holds exactly what was appended";
    expect_payloads_match(*s);
}

TEST_P(room_log_contract, room_log_reads_racing_appends_get_consistent_slices) {
    constexpr std::uint64_t appends = 600;
    std::atomic<bool> stop{false};
    std::atomic<int> bad{0};
    std::atomic<int> reads{0};
    std::jthread reader([&] {
        while (!stop.load()) {
            const bool from_tail = reads.load() % 2 == 0;
            auto s = from_tail ? tail(7) : read(0, 7);
            reads.fetch_add(1);
            if (!s) {
                bad.fetch_add(1);
                continue;
            }
            // first <= offsets < next, at most keep (50) kept, min(7, kept) entries: the newest
            // (tail) or the oldest (from 0); contiguous, each payload the one of its offset.
            const auto kept = s->next - s->first;
            bool ok = s->first <= s->next && kept <= 50 &&
                      s->entries.size() == std::min<std::uint64_t>(7, kept);
            if (ok && !s->entries.empty()) {
                ok = from_tail ? s->entries.back().offset == s->next - 1
                               : s->entries.front().offset == s->first;
            }
            for (std::size_t i = 0; i < s->entries.size(); ++i) {
                const auto& e = s->entries[i];
                ok = ok && e.offset >= s->first && e.offset < s->next &&
                     e.offset == s->entries[0].offset + i && e.payload &&
                     *e.payload == payload_of(e.offset);
            }
            if (!ok) {
                bad.fetch_add(1);
            }
        }
    });
    // The writers start once the reader runs, and wait at half-way for more reads, so reads
    // overlap appends even where an append takes a microsecond (embedded).
    auto wait_reads = [&](int n) {
        const auto deadline = std::chrono::steady_clock::now() + 5s;
        while (reads.load() < n && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::yield();
        }
    };
    wait_reads(1);
    std::jthread writer2([&] {
        for (std::uint64_t i = 0; i < appends / 2; ++i) {
            if (!append(node2(), key_, channel_, 50)) {
                bad.fetch_add(1);
            }
        }
    });
    for (std::uint64_t i = 0; i < appends / 2; ++i) {
        if (i == appends / 4) {
            wait_reads(reads.load() + 20);
        }
        if (!append(50)) { // not ASSERT: the reader must be stopped first
            bad.fetch_add(1);
        }
    }
    writer2.join();
    stop.store(true);
    reader.join();
    EXPECT_EQ(bad.load(), 0);
    EXPECT_GT(reads.load(), 20);
    auto s = tail(100);
    ASSERT_TRUE(s);
    EXPECT_EQ(offsets_of(*s), range(appends - 49, appends));
}

TEST_P(room_log_contract, room_log_handlers_may_call_back_into_the_log) {
    // A handler that appends to the same room and reads it (without waiting) must neither
    // deadlock nor break the order: the follow-ups come after what was already queued.
    struct state {
        std::mutex mutex;
        std::condition_variable cv;
        std::vector<std::uint64_t> seen;
        std::atomic<int> reads{0};
    };
    auto st = std::make_shared<state>();
    room_log* log = b_.log.get();
    const auto key = key_;
    const auto channel = channel_;
    std::unique_ptr<bus::subscription> sub;
    ASSERT_TRUE(wait_result<void>([&](auto done) {
        sub = b_.b->subscribe(
            channel,
            [st, log, key, channel](std::string_view, const core::shared_bytes& p) {
                const auto offset = offset_in(*p);
                {
                    std::lock_guard lock(st->mutex);
                    st->seen.push_back(offset);
                    st->cv.notify_all();
                }
                if (offset <= 5) { // each of the first five causes one more
                    log->append(key, channel, prefix, suffix, 100, [](core::result<log_entry>) {});
                }
                log->read(key, offset, 10,
                          [st](core::result<log_slice> r) { st->reads.fetch_add(r ? 1 : 0); });
            },
            std::move(done));
    }));
    for (int i = 0; i < 5; ++i) {
        ASSERT_TRUE(append(100));
    }
    std::unique_lock lock(st->mutex);
    st->cv.wait_for(lock, 10s, [&] { return st->seen.size() >= 10; });
    EXPECT_EQ(st->seen, range(1, 10));
    lock.unlock();
    auto s = tail(100);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->next, 11U);
    sub.reset();
}

TEST_P(room_log_contract, room_log_remove_starts_again_at_one) {
    for (int i = 0; i < 3; ++i) {
        ASSERT_TRUE(append(10));
    }
    ASSERT_TRUE(wait_result<void>([&](auto done) { b_.log->remove(key_, std::move(done)); }));
    auto s = read(1, 10);
    ASSERT_TRUE(s) << s.err().message;
    EXPECT_EQ(s->first, 1U);
    EXPECT_EQ(s->next, 1U);
    EXPECT_TRUE(s->entries.empty());
    auto e = append(10);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->offset, 1U);
    EXPECT_EQ(*e->payload, payload_of(1));
    // Removing an absent log is not an error.
    ASSERT_TRUE(wait_result<void>([&](auto done) { b_.log->remove(key_, std::move(done)); }));
    ASSERT_TRUE(wait_result<void>([&](auto done) { b_.log->remove(key_, std::move(done)); }));
}

TEST_P(room_log_contract, room_log_limits_are_refused_with_clear_errors_and_change_nothing) {
    auto refused = [](const core::result<log_entry>& r, std::string_view what) {
        ASSERT_FALSE(r) << "accepted: " << what;
        EXPECT_NE(r.err().message.find(what), std::string::npos) << r.err().message;
    };
    auto& l = *b_.log;
    refused(append(l, key_, channel_, 0), "keep of 0");
    refused(append(l, key_, channel_, max_room_log_keep + 1), "keep of");
    refused(append(l, key_, channel_, 10, std::string(max_room_log_entry_bytes, 'x')), "entry of");
    refused(append(l, ks_->key("nochat"), ks_->key("nolive"), 10), "hash tag");
    refused(append(l, key_, ks_->key("{other}:live"), 10), "hash tag");
    refused(append(l, key_, ks_->key("live"), 10), "hash tag");
    refused(append(l, "", channel_, 10), "key of 0 bytes");
    refused(append(l, key_, std::string(max_key_bytes + 1, 'c'), 10), "key of");
    auto s = read(1, 10);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->next, 1U) << "a refused append uses no offset";

    // The size limit counts the offset's digits: prefix + suffix + 1 digit fills it exactly, so
    // offsets 1..9 fit and 10 does not.
    const std::string big(max_room_log_entry_bytes - 1 - suffix.size(), 'p');
    for (std::uint64_t i = 1; i <= 9; ++i) {
        auto e = append(l, key_, channel_, 1, big);
        ASSERT_TRUE(e) << e.err().message;
        EXPECT_EQ(e->offset, i);
        EXPECT_EQ(e->payload->size(), max_room_log_entry_bytes);
    }
    refused(append(l, key_, channel_, 1, big),
            fmt::format("entry of {} bytes", max_room_log_entry_bytes + 1));
    s = tail(5);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->next, 10U) << "the refused append used no offset";
    EXPECT_EQ(offsets_of(*s), range(9, 9));
    auto small = append(10);
    ASSERT_TRUE(small);
    EXPECT_EQ(small->offset, 10U);

    auto r = read(1, max_room_log_read + 1);
    ASSERT_FALSE(r);
    EXPECT_NE(r.err().message.find("read of"), std::string::npos) << r.err().message;
    r = tail(max_room_log_read + 1);
    ASSERT_FALSE(r);
    EXPECT_NE(r.err().message.find("read of"), std::string::npos) << r.err().message;
    r = wait_result<log_slice>(
        [&](auto done) { l.read(ks_->key("notag"), 1, 10, std::move(done)); });
    ASSERT_FALSE(r);
    EXPECT_NE(r.err().message.find("hash tag"), std::string::npos) << r.err().message;
    EXPECT_FALSE(wait_result<void>([&](auto done) { l.remove("", std::move(done)); }));
}

INSTANTIATE_TEST_SUITE_P(backends, room_log_contract, ::testing::ValuesIn(log_kinds()),
                         [](const auto& p) { return p.param.name; });

// backends::room_log() publishes on backends::bus(): a subscriber of the node's bus gets the
// appends, embedded and on Redis.
void room_log_reaches_the_bus(backends& b) {
    auto ks = b.keys("test");
    ASSERT_TRUE(ks);
    const auto key = ks->key("{bk}:chat");
    const auto channel = ks->key("{bk}:live");
    auto in = std::make_shared<inbox>();
    auto sub = subscribe(b.bus(), channel, in);
    std::vector<std::string> appended;
    for (int i = 0; i < 3; ++i) {
        auto e = wait_result<log_entry>([&](auto done) {
            b.room_log().append(key, channel, prefix, suffix, 10, std::move(done));
        });
        ASSERT_TRUE(e) << e.err().message;
        appended.push_back(*e->payload);
    }
    EXPECT_EQ(in->wait_for(3), appended);
    ASSERT_TRUE(wait_result<void>([&](auto done) { b.room_log().remove(key, std::move(done)); }));
}

TEST(room_log_backends, embedded_room_log_publishes_on_the_backends_bus) {
    test::temp_dir dir;
    backends_options o;
    o.data_dir = dir.str();
    o.phase = "roomlogbe";
    auto b = backends::open(o);
    ASSERT_TRUE(b) << b.err().message;
    ASSERT_EQ((*b)->shared_backend(), "embedded");
    room_log_reaches_the_bus(**b);
}

TEST(room_log_backends, redis_room_log_publishes_on_the_backends_bus) {
    for (const auto& seeds :
         {test::shared_redis().address(), test::shared_redis_cluster().seeds()}) {
        test::temp_dir dir;
        backends_options o;
        o.data_dir = dir.str();
        o.phase = "roomlogbr";
        o.redis = seeds;
        auto b = backends::open(o);
        ASSERT_TRUE(b) << b.err().message;
        EXPECT_NE((*b)->shared_backend(), "embedded");
        room_log_reaches_the_bus(**b);
    }
}

} // namespace
} // namespace livehouse::state
