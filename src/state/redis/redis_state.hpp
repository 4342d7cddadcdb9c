// The server backend of state/shared_state.hpp, bus.hpp, inventory.hpp, room_log.hpp and
// streams.hpp: each a thin translation to Redis commands over one shared client (client.hpp),
// with the argument checks of state/limits.hpp (room_log_checks.hpp) first so both backends
// refuse the same input the same way.
//
// Data layout (every key is a state::key_space key, "service|phase|name"):
// - counters: a string per key (INCRBY/GET/DEL); sorted sets: a zset (ZINCRBY/ZREVRANGE/...);
//   sets: a set (SADD/SISMEMBER/SCARD/DEL/SREM);
// - bus: sharded channels named by the key (SPUBLISH/SSUBSCRIBE);
// - inventory K: "{K}:inv" (hash: stock, sold, held), "{K}:exp" (zset: hold id -> expiry in
//   ms of the server's clock), "{K}:qty" (hash: hold id -> items); the hash tag keeps the three
//   in K's slot, so each operation is one Lua script, atomic in a cluster too;
// - room log K (K has a hash tag, {b42}): "K" (list: the newest `keep` entries, oldest first)
//   and "K:next" (string: the last offset given; the first kept is last + 1 - LLEN K), in K's
//   slot with the channel; append is one Lua script (take the offset, RPUSH, LTRIM, SPUBLISH:
//   publish order is offset order on every node) and read one script (counter and list read
//   together), see redis_room_log.cpp;
// - love counts K (K has a hash tag): "K:total" (string, INCRBY), "K:ranking" (zset, ZINCRBY),
//   "K:timeline" (hash: video second -> taps, HINCRBY),
//   "K:seen:<user>" (list: the user's last batch ids, expiring); apply is one Lua script over
//   every batch a node gathered (redis_love_counts.cpp);
// - streams: a Redis stream per key (XADD/XREADGROUP/XAUTOCLAIM/XACK). Durable to the extent
//   the server is: run it with appendonly yes and appendfsync always for the streams contract
//   ("survives a crash") to hold.
#pragma once

#include "state/bus.hpp"
#include "state/inventory.hpp"
#include "state/love_counts.hpp"
#include "state/redis/client.hpp"
#include "state/room_log.hpp"
#include "state/shared_state.hpp"
#include "state/streams.hpp"

#include <memory>

namespace livehouse::state::redis {

class redis_counters final : public counters {
  public:
    explicit redis_counters(std::shared_ptr<client> c) : client_(std::move(c)) {}
    void incrby(std::string key, std::int64_t by, completion<std::int64_t> done) override;
    void get(std::string key, completion<std::int64_t> done) override;
    void remove(std::string key, completion<bool> done) override;

  private:
    std::shared_ptr<client> client_;
};

class redis_sorted_sets final : public sorted_sets {
  public:
    explicit redis_sorted_sets(std::shared_ptr<client> c) : client_(std::move(c)) {}
    void increment(std::string key, std::string member, std::int64_t by,
                   completion<std::int64_t> done) override;
    void top(std::string key, std::size_t n, completion<std::vector<scored_member>> done) override;
    void rank(std::string key, std::string member,
              completion<std::optional<std::size_t>> done) override;
    void score(std::string key, std::string member,
               completion<std::optional<std::int64_t>> done) override;
    void remove(std::string key, completion<bool> done) override;

  private:
    std::shared_ptr<client> client_;
};

class redis_sets final : public sets {
  public:
    explicit redis_sets(std::shared_ptr<client> c) : client_(std::move(c)) {}
    void add(std::string key, std::string member, completion<bool> done) override;
    void contains(std::string key, std::string member, completion<bool> done) override;
    void size(std::string key, completion<std::size_t> done) override;
    void remove(std::string key, completion<bool> done) override;
    void remove_member(std::string key, std::string member, completion<bool> done) override;

  private:
    std::shared_ptr<client> client_;
};

class redis_bus final : public bus {
  public:
    explicit redis_bus(std::shared_ptr<client> c) : client_(std::move(c)) {}
    void publish(std::string channel, core::shared_bytes payload, completion<void> done) override;
    std::unique_ptr<subscription> subscribe(std::string channel, handler h,
                                            completion<void> ready) override;

  private:
    std::shared_ptr<client> client_;
};

class redis_inventory final : public inventory {
  public:
    explicit redis_inventory(std::shared_ptr<client> c) : client_(std::move(c)) {}
    void set_stock(std::string key, std::int64_t stock, completion<std::int64_t> done) override;
    void reserve(std::string key, std::int64_t n, std::chrono::milliseconds ttl,
                 completion<std::optional<std::string>> done) override;
    void confirm(std::string key, std::string hold_id, completion<bool> done) override;
    void release(std::string key, std::string hold_id, completion<bool> done) override;
    void available(std::string key, completion<std::int64_t> done) override;
    void sold(std::string key, completion<std::int64_t> done) override;

  private:
    std::shared_ptr<client> client_;
};

class redis_room_log final : public room_log {
  public:
    explicit redis_room_log(std::shared_ptr<client> c) : client_(std::move(c)) {}
    void append(std::string key, std::string channel, std::string prefix, std::string suffix,
                std::size_t keep, completion<log_entry> done) override;
    void read(std::string key, std::uint64_t from, std::size_t max,
              completion<log_slice> done) override;
    void read_tail(std::string key, std::size_t n, completion<log_slice> done) override;
    void remove(std::string key, completion<void> done) override;

  private:
    std::shared_ptr<client> client_;
};

class redis_love_counts final : public love_counts {
  public:
    explicit redis_love_counts(std::shared_ptr<client> c)
        : client_(c), counters_(c), ranking_(std::move(c)) {}
    void apply(std::string key, std::vector<love_batch_entry> batches,
               completion<love_applied> done) override;
    void total(std::string key, completion<std::int64_t> done) override;
    void top(std::string key, std::size_t n, completion<std::vector<scored_member>> done) override;
    void score(std::string key, std::string user,
               completion<std::optional<std::int64_t>> done) override;
    void timeline(std::string key, completion<love_timeline> done) override;
    void remove(std::string key, completion<void> done) override;

  private:
    std::shared_ptr<client> client_;
    redis_counters counters_;
    redis_sorted_sets ranking_;
};

class redis_streams final : public streams {
  public:
    explicit redis_streams(std::shared_ptr<client> c) : client_(std::move(c)) {}
    void append(std::string key, std::string payload, completion<std::string> done) override;
    void read(std::string key, std::string group, std::string consumer, std::size_t max,
              std::chrono::milliseconds claim_after,
              completion<std::vector<stream_entry>> done) override;
    void ack(std::string key, std::string group, std::vector<std::string> ids,
             completion<std::size_t> done) override;

  private:
    std::shared_ptr<client> client_;
};

} // namespace livehouse::state::redis
