// s3_fifo: a byte-bounded cache index with S3-FIFO eviction (Yang et al., "FIFO queues are all
// you need for cache eviction", SOSP 2023, Algorithm 1), for the HTTP edge cache.
//
// Why: a live segment is read by every viewer in a burst and then never again, while a playlist
// is re-read every target duration. Under plain FIFO, and under LRU whenever the re-reads are
// further apart than the cache takes to turn over, that stream of one-hit wonders flushes the
// popular objects. S3-FIFO admits new keys into a small probationary FIFO (S, `small_ratio` of the
// bytes); only what is read again while in S moves to the main FIFO (M), and keys dropped from
// S are remembered in a ghost FIFO (G) so that a key that comes back soon goes straight to M.
// A hit only bumps a counter capped at 3 (two bits in the paper): nothing moves, so a hit is
// O(1) with no list surgery, which is what lets FIFO-based caches scale where LRU does not.
//
// Promotion from S needs one read while in S (freq >= 1). libCacheSim's S3FIFO.c makes this
// a parameter (move-to-main-threshold); 1 is "accessed again before leaving S".
//
// Limits:
// - Not thread-safe: the caller holds its own lock around every call. Values evicted by
//   insert() are handed back so the caller can destroy them after unlocking.
// - The bound is on the `bytes` the caller states per entry, not on memory actually used:
//   include the key and per-entry overhead in `bytes` if they matter. The entry count is
//   bounded only through it (zero-byte entries are not limited).
// - G holds 64-bit hashes of keys, FIFO-bounded to as many entries as the cache currently
//   holds (S plus M; at least one). The paper sizes G like M; by bytes M's entry count varies,
//   and counting S too keeps G useful while M is still empty. A hash collision only sends a new
//   key to M instead of S.
// - Not copyable or movable: the queues point into the index.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace livehouse::core {

template <typename V> class s3_fifo {
  public:
    /// `capacity_bytes`: the most the entries' stated sizes may add up to. `small_ratio`: the
    /// share of it S may hold before eviction takes from S (the paper's 10%); clamped to
    /// [0, 1], NaN counts as 0.
    explicit s3_fifo(std::size_t capacity_bytes, double small_ratio = 0.1)
        : capacity_(capacity_bytes), small_target_(small_target(capacity_bytes, small_ratio)) {}

    s3_fifo(const s3_fifo&) = delete;
    s3_fifo& operator=(const s3_fifo&) = delete;
    s3_fifo(s3_fifo&&) = delete;
    s3_fifo& operator=(s3_fifo&&) = delete;
    ~s3_fifo() = default;

    /// A hit: counts one more read of `key` (saturating at 3) and returns its value, nullptr on
    /// a miss. Nothing moves. The pointer stays valid until the next insert() or erase().
    V* find(std::string_view key) {
        auto it = index_.find(key);
        if (it == index_.end()) {
            return nullptr;
        }
        node& n = it->second;
        // Algorithm 1, READ: on a hit, freq = min(freq + 1, 3).
        n.freq = std::min<std::uint8_t>(n.freq + 1, max_freq);
        return &n.value;
    }

    /// Like find() without counting a read (for the caller's own bookkeeping).
    V* peek(std::string_view key) {
        auto it = index_.find(key);
        return it == index_.end() ? nullptr : &it->second.value;
    }
    const V* peek(std::string_view key) const {
        auto it = index_.find(key);
        return it == index_.end() ? nullptr : &it->second.value;
    }

    /// Inserts `value` under `key`, stated to weigh `bytes`, and returns the values evicted to
    /// make room (destroy them outside the lock).
    ///
    /// - A new key goes to M if G remembers it (it was dropped from S recently), else to S;
    ///   it starts with no reads counted. It is never a victim of its own insertion.
    /// - An existing key is replaced in place: same queue, same position, same read count.
    ///   If it grew, the room is made by the usual eviction with the old entry still queued;
    ///   should the old entry itself be the victim, its old value is among the returned ones
    ///   and the new value is then inserted as a new key would be.
    /// - `bytes > capacity()`: nothing is inserted and `value` comes back as the LAST element
    ///   of the vector (uncacheable). An entry already under `key` is removed first (its value
    ///   precedes it in the vector), so the cache never serves a value older than the last
    ///   insert(). Neither counts as an eviction.
    std::vector<V> insert(std::string key, V value, std::size_t bytes) {
        std::vector<V> out;
        auto it = index_.find(std::string_view(key));
        if (bytes > capacity_) {
            if (it != index_.end()) {
                out.push_back(unlink(it));
            }
            out.push_back(std::move(value));
            ghost_trim();
            return out;
        }
        if (it != index_.end()) {
            entry* target = &*it;
            const std::size_t old_bytes = it->second.bytes;
            bool resident = true;
            // bytes() - old + new > capacity, without overflow (bytes() <= capacity always).
            while (resident && bytes > old_bytes && bytes - old_bytes > capacity_ - this->bytes()) {
                resident = !evict_one(out, target);
            }
            if (resident) {
                node& n = target->second;
                n.value = std::move(value);
                queue_bytes(n.queue) += bytes;
                queue_bytes(n.queue) -= old_bytes;
                n.bytes = bytes;
                ghost_trim();
                return out;
            }
        }
        // Algorithm 1, INSERT: evict while the cache is full, then put x at the head of M if G
        // holds it, else at the head of S. G is asked first, as libCacheSim's S3FIFO.c does on
        // the miss: the evictions below push keys into G and could expire x's entry. By bytes,
        // "full" means the newcomer would not fit.
        const queue_id q = ghost_take(hash_of(key)) ? queue_id::main : queue_id::small;
        while (bytes > capacity_ - this->bytes()) {
            evict_one(out, nullptr);
        }
        auto pos = index_.emplace(std::move(key), node{std::move(value), bytes, 0, q}).first;
        fifo& f = queue(q);
        f.push_front(&*pos);
        pos->second.pos = f.begin();
        queue_bytes(q) += bytes;
        ghost_trim();
        return out;
    }

    /// Removes `key` and returns its value; nullopt when absent. Not an eviction, and G is not
    /// told: the caller chose to drop it.
    std::optional<V> erase(std::string_view key) {
        auto it = index_.find(key);
        if (it == index_.end()) {
            return std::nullopt;
        }
        return unlink(it);
    }

    /// Sum of the stated sizes of the entries held; never above capacity().
    [[nodiscard]] std::size_t bytes() const { return small_bytes_ + main_bytes_; }
    /// Bytes held in S and in M (metrics, tests).
    [[nodiscard]] std::size_t small_bytes() const { return small_bytes_; }
    [[nodiscard]] std::size_t main_bytes() const { return main_bytes_; }
    /// Entries held.
    [[nodiscard]] std::size_t size() const { return index_.size(); }
    [[nodiscard]] std::size_t capacity() const { return capacity_; }
    /// Keys G remembers: at most max(size(), 1) after any insert() (erase() does not trim).
    [[nodiscard]] std::size_t ghost_size() const { return ghost_index_.size(); }
    /// Entries dropped to make room, from S or M (not erase(), replacement or rejection).
    [[nodiscard]] std::uint64_t evictions() const { return evictions_; }

  private:
    // Algorithm 1 caps the read count at 3 (two bits).
    static constexpr std::uint8_t max_freq = 3;

    struct string_hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept {
            return std::hash<std::string_view>{}(s);
        }
    };

    enum class queue_id : std::uint8_t { small, main };
    struct node;
    using entry = std::pair<const std::string, node>;
    // Front is the head (newest), back the tail (oldest). The index's nodes never move, so
    // pointers to them stay valid; splice() moves between queues without allocating.
    using fifo = std::list<entry*>;
    struct node {
        V value;
        std::size_t bytes = 0;
        std::uint8_t freq = 0;
        queue_id queue = queue_id::small;
        typename fifo::iterator pos{};
    };
    using index = std::unordered_map<std::string, node, string_hash, std::equal_to<>>;

    static std::size_t small_target(std::size_t capacity, double ratio) {
        if (!(ratio > 0.0)) { // also NaN
            return 0;
        }
        if (ratio >= 1.0) {
            return capacity;
        }
        return static_cast<std::size_t>(ratio * static_cast<double>(capacity));
    }

    static std::uint64_t hash_of(std::string_view key) { return string_hash{}(key); }

    fifo& queue(queue_id q) { return q == queue_id::small ? small_ : main_; }
    std::size_t& queue_bytes(queue_id q) {
        return q == queue_id::small ? small_bytes_ : main_bytes_;
    }

    // One step of eviction: drops one entry, or moves one (S -> M, or M's tail back to M's
    // head). Returns true when the entry dropped is `target`. Precondition: the cache holds an
    // entry (bytes() > 0 whenever the callers' loops run, since the newcomer fits alone).
    bool evict_one(std::vector<V>& out, const entry* target) {
        // Algorithm 1, EVICT: from S when S holds at least its share (10%) of the cache, else
        // from M. S is also the only choice while M is empty, and never one while S is empty.
        if (!small_.empty() && (small_bytes_ >= small_target_ || main_.empty())) {
            entry* e = small_.back();
            node& n = e->second;
            // EVICTS: an object read again while in S is moved to M, its reads cleared;
            // otherwise it leaves the cache and its key goes to G.
            if (n.freq >= 1) {
                main_.splice(main_.begin(), small_, n.pos);
                n.queue = queue_id::main;
                n.freq = 0;
                small_bytes_ -= n.bytes;
                main_bytes_ += n.bytes;
                return false;
            }
            const std::uint64_t h = hash_of(e->first);
            const bool hit = e == target;
            out.push_back(unlink(index_.find(std::string_view(e->first))));
            ++evictions_;
            ghost_put(h);
            return hit;
        }
        entry* e = main_.back();
        node& n = e->second;
        // EVICTM: a tail read since its last round goes back to M's head with one read less;
        // an unread tail leaves the cache.
        if (n.freq > 0) {
            --n.freq;
            main_.splice(main_.begin(), main_, n.pos);
            return false;
        }
        const bool hit = e == target;
        out.push_back(unlink(index_.find(std::string_view(e->first))));
        ++evictions_;
        return hit;
    }

    V unlink(typename index::iterator it) {
        node& n = it->second;
        queue(n.queue).erase(n.pos);
        queue_bytes(n.queue) -= n.bytes;
        V v = std::move(n.value);
        index_.erase(it);
        return v;
    }

    // G as a FIFO of (hash, stamp) with an index hash -> newest stamp. A ghost hit removes the
    // key from the index at once (it is in M now) and leaves its FIFO slot to expire: a slot
    // whose stamp is no longer the newest for its hash is stale, so every operation is O(1).
    // Bounded as the file header says: each insert() trims G to the entries then held, so its
    // memory follows the cache's own entry count. Each slot is pushed and popped once.
    // During an insert() the count dips while victims leave, so G may briefly hold one more
    // key than the cache holds entries; the trim at the end of insert() restores the bound.
    void ghost_put(std::uint64_t h) {
        ghost_trim_to(index_.size());
        const std::uint64_t stamp = ghost_stamp_++;
        ghost_fifo_.emplace_back(h, stamp);
        ghost_index_[h] = stamp;
    }

    void ghost_trim() { ghost_trim_to(std::max<std::size_t>(index_.size(), 1)); }

    void ghost_trim_to(std::size_t limit) {
        while (ghost_fifo_.size() > limit) {
            const auto [old, stamp] = ghost_fifo_.front();
            ghost_fifo_.pop_front();
            auto it = ghost_index_.find(old);
            if (it != ghost_index_.end() && it->second == stamp) {
                ghost_index_.erase(it);
            }
        }
    }

    bool ghost_take(std::uint64_t h) { return ghost_index_.erase(h) > 0; }

    std::size_t capacity_;
    std::size_t small_target_;
    index index_;
    fifo small_;
    fifo main_;
    std::size_t small_bytes_ = 0;
    std::size_t main_bytes_ = 0;
    std::deque<std::pair<std::uint64_t, std::uint64_t>> ghost_fifo_;
    std::unordered_map<std::uint64_t, std::uint64_t> ghost_index_;
    std::uint64_t ghost_stamp_ = 0;
    std::uint64_t evictions_ = 0;
};

} // namespace livehouse::core
