// core::s3_fifo: byte bound, S -> M promotion, ghost admission, replacement, and the
// scan resistance the edge cache relies on, checked against a plain FIFO of the same size.
#include "core/s3_fifo.hpp"

#include <algorithm>
#include <cstddef>
#include <deque>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace livehouse::core {
namespace {

using strings = std::vector<std::string>;

// What plain FIFO would do with the same bytes: the baseline the scan test must beat.
class plain_fifo {
  public:
    explicit plain_fifo(std::size_t capacity) : capacity_(capacity) {}
    bool contains(const std::string& key) const { return keys_.contains(key); }
    void insert(const std::string& key, std::size_t bytes) {
        while (bytes_ + bytes > capacity_) {
            bytes_ -= order_.front().second;
            keys_.erase(order_.front().first);
            order_.pop_front();
        }
        order_.emplace_back(key, bytes);
        keys_.insert(key);
        bytes_ += bytes;
    }

  private:
    std::size_t capacity_;
    std::size_t bytes_ = 0;
    std::deque<std::pair<std::string, std::size_t>> order_;
    std::set<std::string> keys_;
};

TEST(S3Fifo, InsertFindPeekErase) {
    s3_fifo<std::string> c(100);
    EXPECT_EQ(c.capacity(), 100U);
    EXPECT_TRUE(c.insert("a", "A", 10).empty());
    EXPECT_TRUE(c.insert("b", "B", 20).empty());
    EXPECT_EQ(c.size(), 2U);
    EXPECT_EQ(c.bytes(), 30U);
    ASSERT_NE(c.find("a"), nullptr);
    EXPECT_EQ(*c.find("a"), "A");
    ASSERT_NE(c.peek("b"), nullptr);
    EXPECT_EQ(*c.peek("b"), "B");
    const auto& cc = c;
    ASSERT_NE(cc.peek("b"), nullptr);
    EXPECT_EQ(c.find("nope"), nullptr);
    EXPECT_EQ(c.peek("nope"), nullptr);

    EXPECT_EQ(c.erase("a"), std::optional<std::string>("A"));
    EXPECT_EQ(c.erase("a"), std::nullopt);
    EXPECT_EQ(c.find("a"), nullptr);
    EXPECT_EQ(c.size(), 1U);
    EXPECT_EQ(c.bytes(), 20U);
    EXPECT_EQ(c.evictions(), 0U) << "erase() is not an eviction";
}

TEST(S3Fifo, HoldsMoveOnlyValues) {
    s3_fifo<std::unique_ptr<int>> c(2);
    EXPECT_TRUE(c.insert("a", std::make_unique<int>(1), 1).empty());
    EXPECT_TRUE(c.insert("b", std::make_unique<int>(2), 1).empty());
    auto out = c.insert("c", std::make_unique<int>(3), 1);
    ASSERT_EQ(out.size(), 1U);
    EXPECT_EQ(*out[0], 1);
    ASSERT_NE(c.find("c"), nullptr);
    EXPECT_EQ(**c.find("c"), 3);
}

TEST(S3Fifo, EvictedValuesComeBackOldestFirstAndAreCounted) {
    s3_fifo<std::string> c(3);
    for (const char* k : {"a", "b", "c"}) {
        EXPECT_TRUE(c.insert(k, std::string(k) + "!", 1).empty());
    }
    EXPECT_EQ(c.insert("d", "d!", 1), strings{"a!"});
    EXPECT_EQ(c.evictions(), 1U);
    // Room for 2 bytes: the two oldest go, in order.
    EXPECT_EQ(c.insert("e", "e!", 2), (strings{"b!", "c!"}));
    EXPECT_EQ(c.evictions(), 3U);
    EXPECT_EQ(c.size(), 2U);
    EXPECT_EQ(c.bytes(), 3U);
    EXPECT_EQ(c.find("a"), nullptr);
    EXPECT_NE(c.find("d"), nullptr);
    EXPECT_NE(c.find("e"), nullptr);
}

TEST(S3Fifo, AReadInSmallPromotesToMainAndPeekDoesNotCount) {
    // S may hold 1 byte of 4: every eviction takes S's tail while S is not empty.
    for (const bool read : {false, true}) {
        s3_fifo<std::string> c(4, 0.25);
        c.insert("a", "A", 1);
        for (int i = 0; i < 3; ++i) {
            if (read) {
                ASSERT_NE(c.find("a"), nullptr);
            } else {
                ASSERT_NE(c.peek("a"), nullptr);
            }
        }
        c.insert("b", "B", 1);
        c.insert("c", "C", 1);
        c.insert("d", "D", 1);
        const auto out = c.insert("e", "E", 1);
        if (read) {
            // a was read while in S: moved to M (no eviction), b was the one dropped.
            EXPECT_EQ(out, strings{"B"});
            EXPECT_NE(c.peek("a"), nullptr);
            EXPECT_EQ(c.main_bytes(), 1U);
        } else {
            EXPECT_EQ(out, strings{"A"}) << "peek() must not count as a read";
            EXPECT_EQ(c.main_bytes(), 0U);
        }
        EXPECT_EQ(c.evictions(), 1U);
    }
}

TEST(S3Fifo, MainGivesReadEntriesAnotherRoundBeforeEvicting) {
    // Small ratio 0: S's target is 0 bytes, so eviction takes from S whenever S holds
    // anything, and from M only when S is empty. M is filled through G: a and b are dropped
    // from S, and inserted again they go straight to M.
    s3_fifo<std::string> c(2, 0.0);
    c.insert("a", "A1", 1);
    c.insert("b", "B1", 1);
    EXPECT_EQ(c.insert("x", "X", 1), strings{"A1"}); // a -> G
    EXPECT_EQ(c.insert("y", "Y", 1), strings{"B1"}); // b -> G
    EXPECT_EQ(c.insert("a", "A2", 1), strings{"X"}); // ghost hit: a -> M
    EXPECT_EQ(c.insert("b", "B2", 1), strings{"Y"}); // ghost hit: b -> M
    EXPECT_EQ(c.main_bytes(), 2U);
    EXPECT_EQ(c.small_bytes(), 0U);
    // M is [b (head), a (tail)]. a was read: it goes round once (count 1 -> 0) and b, unread,
    // is evicted instead. Plain FIFO would have evicted a.
    ASSERT_NE(c.find("a"), nullptr);
    EXPECT_EQ(c.insert("z", "Z", 1), strings{"B2"});
    EXPECT_NE(c.peek("a"), nullptr);
    // While S holds anything (z now), S is taken from, and a in M is left alone.
    EXPECT_EQ(c.insert("w", "W", 1), strings{"Z"});
    EXPECT_EQ(c.insert("v", "V", 1), strings{"W"});
    EXPECT_NE(c.peek("a"), nullptr);
    EXPECT_EQ(c.evictions(), 7U);
}

TEST(S3Fifo, ReadCountSaturatesAtThree) {
    // M = [b (head), a (tail)], S empty, built through G as above.
    s3_fifo<std::string> c(2, 0.0);
    for (const char* k : {"a", "b", "x", "y"}) {
        c.insert(k, std::string(k) + "1", 1);
    }
    c.insert("a", "a2", 1);
    c.insert("b", "b2", 1);
    ASSERT_EQ(c.main_bytes(), 2U);
    for (int i = 0; i < 10; ++i) {
        ASSERT_NE(c.find("a"), nullptr);
    }
    for (int i = 0; i < 3; ++i) {
        ASSERT_NE(c.find("b"), nullptr);
    }
    // Both counts are 3, so the two go round together and a, at the tail, runs out first.
    // Uncapped, a's ten reads would outlast b's three and b would be returned.
    EXPECT_EQ(c.insert("z", "z", 1), strings{"a2"});
}

TEST(S3Fifo, PromotionToMainClearsTheReadCount) {
    // 4 bytes, S target 2: M is taken from only once S holds less than 2 bytes.
    s3_fifo<std::string> c(4, 0.5);
    c.insert("a", "A", 1);
    ASSERT_NE(c.find("a"), nullptr);
    for (const char* k : {"b", "c", "d"}) {
        c.insert(k, k, 1);
    }
    EXPECT_EQ(c.insert("e", "e", 1), strings{"b"}); // a read: S -> M; b dropped to G
    EXPECT_EQ(c.insert("b", "b", 1), strings{"c"}); // ghost hit: b -> M, ahead of a
    EXPECT_EQ(c.insert("f", "f", 1), strings{"d"});
    ASSERT_NE(c.find("e"), nullptr);
    // e moves to M, S drops to 1 byte, so M's tail is taken: a, whose read was spent on the
    // move. Had the move kept it, a would go round once more and b would be returned.
    EXPECT_EQ(c.insert("g", "g", 1), strings{"A"});
    EXPECT_EQ(c.main_bytes(), 2U);
    EXPECT_NE(c.peek("e"), nullptr);
}

TEST(S3Fifo, GhostHitGoesToMainOnce) {
    // 10 bytes, S target 1 byte: S's tail is evicted whenever S holds anything.
    s3_fifo<std::string> c(10, 0.1);
    for (int i = 0; i < 10; ++i) {
        c.insert(fmt::format("k{}", i), "v", 1);
    }
    EXPECT_EQ(c.small_bytes(), 10U);
    EXPECT_EQ(c.insert("k10", "v", 1), strings{"v"}); // k0 leaves; G remembers it
    EXPECT_EQ(c.peek("k0"), nullptr);
    EXPECT_EQ(c.ghost_size(), 1U);

    // A never-seen key goes to S...
    c.insert("fresh", "v", 1);
    EXPECT_EQ(c.main_bytes(), 0U);
    // ...the key G remembers goes to M.
    c.insert("k0", "again", 1);
    EXPECT_EQ(c.main_bytes(), 1U);
    EXPECT_EQ(c.small_bytes(), 9U);
    ASSERT_NE(c.peek("k0"), nullptr);
    EXPECT_EQ(*c.peek("k0"), "again");

    // The ghost entry was used up: erased and inserted again at once (before G could expire
    // it), k0 starts in S like a new key.
    c.erase("k0");
    c.insert("k0", "third", 1);
    EXPECT_EQ(c.main_bytes(), 0U);
    EXPECT_EQ(c.small_bytes(), 10U);
}

TEST(S3Fifo, OneHitWonderScanDoesNotFlushTheHotSet) {
    // An edge cache of 100 units: 10 playlists read constantly, then live segments each read
    // once. A hot key is read again only every 1000 segments, far longer than the cache holds a
    // segment, so plain FIFO misses every time; S3-FIFO keeps the playlists in M.
    constexpr std::size_t capacity = 100;
    constexpr int hot = 10;
    constexpr int segments = 20000;
    s3_fifo<std::string> c(capacity);
    plain_fifo f(capacity);
    auto hot_key = [](int i) { return fmt::format("playlist-{}", i); };
    for (int i = 0; i < hot; ++i) {
        c.insert(hot_key(i), "m3u8", 1);
        f.insert(hot_key(i), 1);
    }
    for (int round = 0; round < 3; ++round) {
        for (int i = 0; i < hot; ++i) {
            ASSERT_NE(c.find(hot_key(i)), nullptr);
        }
    }

    int s3_hits = 0;
    int fifo_hits = 0;
    int reads = 0;
    for (int s = 0; s < segments; ++s) {
        const std::string seg = fmt::format("seg-{}.ts", s);
        c.insert(seg, "ts", 1);
        f.insert(seg, 1);
        if (s % 1000 == 999) {
            for (int i = 0; i < hot; ++i) {
                ++reads;
                // A miss re-fetches from the origin and inserts again, as the edge would.
                if (c.find(hot_key(i)) != nullptr) {
                    ++s3_hits;
                } else {
                    c.insert(hot_key(i), "m3u8", 1);
                }
                if (f.contains(hot_key(i))) {
                    ++fifo_hits;
                } else {
                    f.insert(hot_key(i), 1);
                }
            }
        }
        ASSERT_LE(c.bytes(), capacity);
    }
    EXPECT_EQ(fifo_hits, 0) << "the baseline should lose the hot set to the scan";
    EXPECT_EQ(s3_hits, reads);
    for (int i = 0; i < hot; ++i) {
        EXPECT_NE(c.peek(hot_key(i)), nullptr) << hot_key(i);
    }
    EXPECT_EQ(c.main_bytes(), static_cast<std::size_t>(hot));
    EXPECT_LE(c.ghost_size(), c.size());
}

TEST(S3Fifo, ReplaceKeepsPositionCountAndAccounting) {
    s3_fifo<std::string> c(10, 0.1);
    c.insert("a", "A1", 3);
    c.insert("b", "B", 4);
    EXPECT_TRUE(c.insert("a", "A2", 5).empty());
    EXPECT_EQ(c.size(), 2U);
    EXPECT_EQ(c.bytes(), 9U);
    EXPECT_EQ(c.small_bytes(), 9U);
    EXPECT_EQ(*c.peek("a"), "A2");
    EXPECT_TRUE(c.insert("a", "A3", 1).empty());
    EXPECT_EQ(c.bytes(), 5U);

    // Position kept: a is still S's oldest, so it is the first to go (not b).
    c.insert("c", "C", 5);
    EXPECT_EQ(c.insert("d", "D", 1), strings{"A3"});

    // Read count kept: d is read, then replaced. S is [d, c, b] (head first): 7 bytes evict
    // b then c, both unread, and leave d at S's tail.
    ASSERT_NE(c.find("d"), nullptr);
    EXPECT_TRUE(c.insert("d", "D2", 1).empty());
    EXPECT_EQ(c.insert("e", "E", 7), (strings{"B", "C"}));
    EXPECT_TRUE(c.insert("f", "F", 2).empty());
    // Full; at the next eviction d's kept read moves it to M and e, behind it, goes instead.
    // Had the replacement reset the count, "D2" would be the one returned.
    EXPECT_EQ(c.insert("g", "G", 1), strings{"E"});
    EXPECT_EQ(c.main_bytes(), 1U);
    EXPECT_EQ(*c.peek("d"), "D2");
    EXPECT_EQ(c.evictions(), 4U);
}

TEST(S3Fifo, GrowingReplacementEvictsOthersButNotItself) {
    s3_fifo<std::string> c(10, 0.1);
    for (const char* k : {"a", "b", "c", "d", "e"}) {
        c.insert(k, std::string(k) + "1", 2);
    }
    EXPECT_EQ(c.insert("e", "e2", 4), strings{"a1"});
    EXPECT_EQ(c.bytes(), 10U);
    EXPECT_EQ(*c.peek("e"), "e2");
    EXPECT_EQ(c.evictions(), 1U);
}

TEST(S3Fifo, GrowingReplacementThatIsItsOwnVictimReturnsTheOldValue) {
    s3_fifo<std::string> c(10, 0.1);
    c.insert("a", "old", 5);
    c.insert("b", "B", 5);
    // Growing a by 2 evicts S's tail, a itself (unread): its old value comes back, and the new
    // one is inserted like a key G remembers (to M), which needs b's room as well.
    EXPECT_EQ(c.insert("a", "new", 7), (strings{"old", "B"}));
    EXPECT_EQ(c.size(), 1U);
    EXPECT_EQ(c.bytes(), 7U);
    EXPECT_EQ(c.main_bytes(), 7U);
    ASSERT_NE(c.peek("a"), nullptr);
    EXPECT_EQ(*c.peek("a"), "new");
    EXPECT_EQ(c.evictions(), 2U);
}

TEST(S3Fifo, TooLargeIsReturnedNotInserted) {
    s3_fifo<std::string> c(10);
    c.insert("small", "S", 4);
    EXPECT_EQ(c.insert("big", "BIG", 11), strings{"BIG"});
    EXPECT_EQ(c.peek("big"), nullptr);
    EXPECT_EQ(c.size(), 1U);
    EXPECT_EQ(c.bytes(), 4U);
    // Exactly the capacity fits (and evicts the rest).
    EXPECT_EQ(c.insert("exact", "E", 10), strings{"S"});
    EXPECT_EQ(c.evictions(), 1U);
    // Replacing with a too-large value drops the old one too: never serve a stale value.
    EXPECT_EQ(c.insert("exact", "E2", 11), (strings{"E", "E2"}));
    EXPECT_EQ(c.peek("exact"), nullptr);
    EXPECT_EQ(c.bytes(), 0U);
    EXPECT_EQ(c.evictions(), 1U);
}

TEST(S3Fifo, RandomOperationsKeepTheByteBoundAndTheAccounting) {
    constexpr std::size_t capacity = 1000;
    for (const double ratio : {0.0, 0.1, 0.5, 1.0}) {
        SCOPED_TRACE(ratio);
        s3_fifo<std::string> c(capacity, ratio);
        // key -> (value, bytes): what must be resident. Values are "key#n", so each one names
        // its key and every version is distinct.
        std::map<std::string, std::pair<std::string, std::size_t>> model;
        std::mt19937 rng(20231023);
        std::uniform_int_distribution<int> key_d(0, 299);
        std::uniform_int_distribution<int> op_d(0, 99);
        std::uniform_int_distribution<std::size_t> size_d(0, capacity / 8);
        std::uint64_t evicted = 0;
        std::size_t max_size = 0;
        for (int n = 0; n < 20000; ++n) {
            const std::string key = fmt::format("k{}", key_d(rng));
            const int op = op_d(rng);
            if (op < 50) {
                std::size_t sz = size_d(rng);
                if (op == 0) {
                    sz = capacity + 1;
                } else if (op == 1) {
                    sz = capacity;
                }
                const std::string value = fmt::format("{}#{}", key, n);
                const auto out = c.insert(key, value, sz);
                for (std::size_t i = 0; i < out.size(); ++i) {
                    if (sz > capacity && i + 1 == out.size()) {
                        ASSERT_EQ(out[i], value) << "rejected value comes back last";
                        continue;
                    }
                    const std::string owner = out[i].substr(0, out[i].find('#'));
                    auto it = model.find(owner);
                    ASSERT_NE(it, model.end()) << out[i] << " was not resident";
                    ASSERT_EQ(it->second.first, out[i]);
                    model.erase(it);
                    if (sz <= capacity) {
                        ++evicted;
                    }
                }
                if (sz <= capacity) {
                    model[key] = {value, sz};
                    ASSERT_NE(c.peek(key), nullptr) << "never the victim of its own insert";
                    ASSERT_EQ(*c.peek(key), value);
                } else {
                    ASSERT_FALSE(model.contains(key));
                    ASSERT_EQ(c.peek(key), nullptr);
                }
                ASSERT_LE(c.ghost_size(), std::max<std::size_t>(c.size(), 1));
            } else if (op < 85) {
                auto* v = c.find(key);
                auto it = model.find(key);
                ASSERT_EQ(v != nullptr, it != model.end()) << key;
                if (v != nullptr) {
                    ASSERT_EQ(*v, it->second.first);
                }
            } else if (op < 90) {
                auto* v = c.peek(key);
                ASSERT_EQ(v != nullptr, model.contains(key)) << key;
            } else {
                const auto v = c.erase(key);
                auto it = model.find(key);
                ASSERT_EQ(v.has_value(), it != model.end()) << key;
                if (v) {
                    ASSERT_EQ(*v, it->second.first);
                    model.erase(it);
                }
            }
            std::size_t sum = 0;
            for (const auto& [k, vs] : model) {
                sum += vs.second;
            }
            ASSERT_LE(c.bytes(), capacity) << "after op " << n;
            ASSERT_EQ(c.bytes(), sum) << "after op " << n;
            ASSERT_EQ(c.small_bytes() + c.main_bytes(), sum);
            ASSERT_EQ(c.size(), model.size());
            ASSERT_EQ(c.evictions(), evicted);
            max_size = std::max(max_size, c.size());
        }
        // The workload must have exercised eviction from both queues, or it proves little.
        EXPECT_GT(evicted, 1000U);
        EXPECT_GT(max_size, 10U);
        for (const auto& [k, vs] : model) {
            ASSERT_NE(c.peek(k), nullptr) << k;
            EXPECT_EQ(*c.peek(k), vs.first);
        }
    }
}

} // namespace
} // namespace livehouse::core
