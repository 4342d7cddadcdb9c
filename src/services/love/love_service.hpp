// Love (hearts) of one node (issue 5, seeds 001 and 002): viewers' batches of taps judged
// (anti_cheat.hpp), gathered, and counted in the state backend in one apply per broadcast per
// flush (state/love_counts.hpp: total, per-viewer ranking, retries once).
//
//   POST .../love ─> submit(): live? judge (range, size, rate) ─> pending[broadcast]
//   flush: love_counts.apply(all pending of a broadcast) ─> each request's answer
//
// When a flush starts (group commit): when the previous flush's applies have all completed and
// at least flush_interval (2 ms) has passed since it started. An idle node so writes a lone
// batch at once; under load the batches gathered while one apply is on its way go together in
// the next, so the backend sees at most one apply per broadcast per max(flush_interval, apply
// time) — a few hundred a second whatever the request rate — and a request waits about one
// apply, not a fixed timer.
//
// Count after the write: a request is answered once its batch is in the state backend (the
// apply completed: on Redis, the script ran; embedded, the journal's commit is on disk), with
// whether it was counted and the total after it. So an answer never
// claims a tap the backend does not have: a node that dies before its flush has answered
// nothing for those batches, and the clients retry (the batch id makes that safe). Cost: a
// request waits for the apply its batch goes in (a millisecond or two) and in exchange a flood
// of requests costs the backend one apply per broadcast per flush (Redis: one script) instead
// of three commands each.
//
// Pending is bounded (max_pending batches on the node): past it a request is refused with 503
// and the client retries later; nothing accepted is dropped.
//
// The ranking's members are "<user id>\n<display name>" (a name has no control character), so
// the ranking shows names without a user table; a user whose name changes gets a second entry.
//
// A node without the broadcast (another node ingests it) takes its love too, judged against the
// live position that node publishes (cluster::broadcast_clocks); the counts are shared through
// the state backend, so both answer the same totals. The end (finalize) is the owner's.
//
// Threading: submit() and the reads from any thread; the flush timer runs on `timer_exec`;
// completions of the backend on any thread.
#pragma once

#include "core/clock.hpp"
#include "core/metrics.hpp"
#include "core/rate_limiter.hpp"
#include "media/broadcast.hpp"
#include "services/cluster/broadcast_clocks.hpp"
#include "services/love/anti_cheat.hpp"
#include "services/love/love_log.hpp"
#include "state/keys.hpp"
#include "state/love_counts.hpp"
#include "state/records.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace livehouse::services::love {

struct love_config {
    love_policy policy;
    std::chrono::milliseconds flush_interval{2}; ///< the shortest time between two flushes
    std::size_t max_pending = 100000;            ///< batches waiting for a flush, on this node
    std::size_t max_viewers = 1000000;           ///< rate buckets held (core::rate_limiter's bound)
    std::size_t max_ranking_limit = 100;         ///< most entries /love/ranking returns
    bool analytics_log = true;                   ///< every counted batch to <data_dir>/love/*.jsonl
};

struct love_deps {
    media::broadcast_registry& registry;
    const core::clock& clock;
    state::love_counts& counts;
    state::key_space keys; ///< the "love" service's keys in this node's phase
    boost::asio::any_io_executor timer_exec;
    core::metrics_registry& metrics;
    state::records& records; ///< the final total (totals "love") and the ranking's index
    std::string data_dir;    ///< the final ranking goes to <data_dir>/vod/<id>/love.json
    media::task_runner io;   ///< blocking file work
    /// Other nodes' live broadcasts (null: only this node's): love for a broadcast another
    /// node ingests is judged and counted here as there.
    std::shared_ptr<const cluster::broadcast_clocks> clocks;
};

struct viewer {
    std::string id;
    std::string name;
};

/// What a submit ended in.
struct submit_result {
    enum class outcome { counted, duplicate, not_found, not_live, busy, unavailable };
    outcome result = outcome::counted;
    std::size_t accepted = 0; ///< taps counted (0 for a duplicate)
    judgement why;            ///< what the anti-cheat took out
    std::int64_t total = 0;   ///< the broadcast's total after the flush
    std::string error;        ///< for unavailable: the backend's message (logged, not sent)
};

struct ranked_viewer {
    viewer who;
    std::int64_t taps = 0;
};

class love_service : public std::enable_shared_from_this<love_service> {
  public:
    static std::shared_ptr<love_service> create(love_config config, love_deps deps);
    ~love_service();
    love_service(const love_service&) = delete;
    love_service& operator=(const love_service&) = delete;

    [[nodiscard]] const love_config& config() const { return config_; }
    /// Whether this node has the broadcast (reads of others' counts are answered 404).
    [[nodiscard]] bool knows(const std::string& broadcast_id) const {
        return deps_.registry.find(broadcast_id) != nullptr ||
               (deps_.clocks && deps_.clocks->lookup(broadcast_id));
    }

    /// Judges and queues a batch; `done` runs once it is counted (or refused).
    void submit(const std::string& broadcast_id, const viewer& who, std::string batch_id,
                const std::vector<double>& taps, std::function<void(submit_result)> done);
    /// The broadcast's total (nullopt: unknown broadcast).
    void total(const std::string& broadcast_id,
               std::function<void(core::result<std::int64_t>)> done);
    void ranking(const std::string& broadcast_id, std::size_t limit,
                 std::function<void(core::result<std::vector<ranked_viewer>>)> done);
    /// Taps per video second (ascending): live from the state backend, from love.json after
    /// the end.
    void timeline(const std::string& broadcast_id,
                  std::function<void(core::result<state::love_timeline>)> done);

    /// Called every second (the app's tick): reads the total of each live broadcast of this
    /// node and calls `on_total` when it changed since the last call (the chat room shows it:
    /// one message per room per second at most, not one per tap).
    void tick(const std::function<void(const std::string& id, std::int64_t total)>& on_total);

    /// Hook for broadcast status changes: at the end, finalize().
    void on_broadcast_change(const media::broadcast_record& record);
    /// The end of a broadcast (seed 002: "flushed to MySQL and deleted"): what is pending is
    /// written, then the total goes to the records (totals: broadcast, "love"), the top
    /// final_ranking_size viewers to <data_dir>/vod/<id>/love.json (indexed: archives,
    /// kind "love"), and only then are the live counts removed. Every step is an idempotent
    /// upsert or an atomic file replace, and the counts go last, so a crash anywhere in it
    /// leaves the counts in the state backend and recover() runs it again, to the same result.
    void finalize(const std::string& broadcast_id, std::function<void(core::result<void>)> done);
    /// At start-up: finalize() every ended broadcast whose counts are still in the state
    /// backend (a node that died mid-finalize, or while live: restore() ended it). Both
    /// backends outlive the process: Redis, and the embedded journal (<data_dir>/love.db).
    void recover();
    /// Blocks (not on an event loop) until every finalize() started has completed, or
    /// `timeout`; false on the timeout (shutdown waits before the file pool stops).
    bool wait_for_finals(std::chrono::milliseconds timeout);
    static constexpr std::size_t final_ranking_size = 1000;

    /// The state key of a broadcast's counts ("love|<phase>|{<id>}").
    [[nodiscard]] std::string counts_key(std::string_view broadcast_id) const;
    /// Cancels the flush timer (shutdown, before the event loops go); what is pending is
    /// flushed first.
    void close();

  private:
    love_service(love_config config, love_deps deps);

    struct pending_batch {
        state::love_batch_entry entry; ///< moved to the apply at the flush
        std::string user_id;           ///< for the analytics log
        judgement why;                 ///< why.accepted: the taps counted if it is new
        std::function<void(submit_result)> done;
    };

    /// What finalize() writes: the total, the top final_ranking_size, the timeline.
    struct final_counts {
        std::int64_t total = 0;
        std::vector<state::scored_member> top;
        state::love_timeline timeline;
    };
    void read_final(const std::string& broadcast_id,
                    std::function<void(core::result<final_counts>)> done);
    void store_final(const std::string& broadcast_id, final_counts c,
                     std::function<void(core::result<void>)> done);
    [[nodiscard]] bool ended(const std::string& broadcast_id) const;
    /// The broadcast's love.json, parsed (a blocking read: on the file pool); nullopt if none.
    [[nodiscard]] std::optional<nlohmann::json> final_file(const std::string& broadcast_id) const;
    void live_ranking(const std::string& broadcast_id, std::size_t limit,
                      std::function<void(core::result<std::vector<ranked_viewer>>)> done);
    /// Starts the next flush when it is due: no apply in flight, something pending, and
    /// flush_interval since the last flush started (at once if that has passed).
    void schedule_locked();
    /// Sends everything pending: one apply per broadcast (in chunks of max_love_apply).
    void flush();
    /// An apply completed: at the last one in flight, the waiters of when_written() run and
    /// the next flush is scheduled.
    void applied_one();
    /// Flushes, then runs `fn` once every apply started so far has completed.
    void when_written(std::function<void()> fn);
    void answer(const std::string& id, std::vector<pending_batch>& waiting,
                const core::result<state::love_applied>& r);

    const love_config config_;
    love_deps deps_;
    core::rate_limiter buckets_;
    std::shared_ptr<love_log> log_; ///< null when analytics_log is off

    std::mutex finals_mu_;
    std::condition_variable finals_cv_;
    std::size_t finals_pending_ = 0;

    std::mutex mu_;
    std::unordered_map<std::string, std::vector<pending_batch>> pending_;
    std::size_t pending_count_ = 0;
    std::unordered_map<std::string, std::int64_t> pushed_; ///< the last total given to on_total
    bool armed_ = false;        ///< a flush is scheduled (timer or posted)
    std::size_t in_flight_ = 0; ///< applies sent and not completed
    std::chrono::steady_clock::time_point last_flush_{};
    std::vector<std::function<void()>> on_idle_; ///< when_written() waiters
    bool closed_ = false;
    boost::asio::steady_timer timer_;

    core::counter* requests_ = nullptr;
    core::counter* taps_counted_ = nullptr;
    core::counter* taps_trimmed_ = nullptr;
    core::counter* duplicates_ = nullptr;
    core::counter* applies_ = nullptr;
    core::counter* busy_ = nullptr;
    core::counter* finals_ = nullptr;
};

/// [[second,taps],...]
std::string render_timeline(const state::love_timeline& t);

/// "<id>\n<name>" and back.
std::string ranking_member(const viewer& v);
viewer viewer_of_member(std::string_view member);

} // namespace livehouse::services::love
