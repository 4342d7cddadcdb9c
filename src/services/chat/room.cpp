// room: shards and pacing (see room.hpp).
#include "services/chat/room.hpp"

#include "codec/chat/server_messages.hpp"
#include "codec/websocket/frame.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <cmath>
#include <utility>

namespace livehouse::services::chat {

namespace asio = boost::asio;
namespace ws = codec::websocket;

namespace {
constexpr auto tick = std::chrono::milliseconds(100);

core::shared_bytes text_frame(std::string_view json) {
    return core::make_shared_bytes(ws::encode_frame(ws::opcode::text, json));
}
} // namespace

struct room::shard {
    struct entry {
        core::shared_bytes frame;
        std::uint64_t offset;
    };

    shard(asio::any_io_executor e, std::chrono::milliseconds interval, core::counter* counter)
        : exec(std::move(e)), flush_interval(interval), deliveries(counter), timer(exec) {}
    const asio::any_io_executor exec;
    const std::chrono::milliseconds flush_interval;
    core::counter* const deliveries;
    std::size_t size = 0; ///< guarded by the room's mutex (placement decisions)

    /// Entries not yet flushed, in log order: appended under the room's mutex (so every shard
    /// sees one order), taken by flush() on `exec`.
    std::mutex batch_mu;
    std::vector<entry> batch;
    bool flush_scheduled = false; ///< a schedule_flush() is posted or the timer waits

    /// Touched only on `exec`. While flush() walks `list`, a member leaving is only emptied
    /// (moved to `left`, so it outlives its own call) and the holes are closed after the walk:
    /// moving the last member into the hole would make the walk skip it.
    std::vector<std::shared_ptr<room_member>> list;
    bool flushing = false;
    std::vector<std::shared_ptr<room_member>> left;
    asio::steady_timer timer;
    std::chrono::steady_clock::time_point last_flush{};
};

room::room(std::string id, room_options options, asio::any_io_executor timer_exec,
           room_metrics metrics)
    : id_(std::move(id)), options_(options), metrics_(metrics),
      tokens_(std::max(1.0, options.deliver_per_second)),
      refilled_at_(std::chrono::steady_clock::now()), timer_(std::move(timer_exec)) {}

room::~room() = default;

std::shared_ptr<room::shard> room::join(std::shared_ptr<room_member> m,
                                        asio::any_io_executor exec) {
    std::shared_ptr<shard> s;
    {
        std::lock_guard lock(mu_);
        for (const auto& candidate : shards_) {
            if (candidate->exec == exec && candidate->size < options_.shard_size) {
                s = candidate;
                break;
            }
        }
        if (!s) {
            s = std::make_shared<shard>(exec, options_.flush_interval, metrics_.deliveries);
            shards_.push_back(s);
        }
        ++s->size;
        ++members_;
    }
    // On exec, the shard's thread: the only one touching its list.
    s->list.push_back(std::move(m));
    return s;
}

std::size_t room::leave(const std::shared_ptr<shard>& s, const room_member* m) {
    auto it = std::find_if(s->list.begin(), s->list.end(),
                           [m](const auto& p) { return p && p.get() == m; });
    if (it == s->list.end()) {
        std::lock_guard lock(mu_);
        return members_;
    }
    if (s->flushing) {
        s->left.push_back(std::move(*it)); // the walk skips the hole; flush() closes it
    } else {
        // Order within a shard does not matter: swap with the last, pop.
        std::swap(*it, s->list.back());
        s->list.pop_back();
    }
    std::lock_guard lock(mu_);
    --s->size;
    --members_;
    if (s->size == 0) {
        std::erase(shards_, s);
    }
    return members_;
}

std::size_t room::members() const {
    std::lock_guard lock(mu_);
    return members_;
}

std::size_t room::shard_count() const {
    std::lock_guard lock(mu_);
    return shards_.size();
}

void room::fan_out_locked(const core::shared_bytes& frame, std::uint64_t offset) {
    for (const auto& s : shards_) {
        bool post = false;
        {
            std::lock_guard lock(s->batch_mu);
            s->batch.push_back({frame, offset});
            post = !std::exchange(s->flush_scheduled, true);
        }
        if (post) {
            asio::post(s->exec, [s] { schedule_flush(s); });
        }
    }
}

// On the shard's thread, once per batch: flush now if the last flush is an interval old, else
// when it will be.
void room::schedule_flush(const std::shared_ptr<shard>& s) {
    const auto due = s->last_flush + s->flush_interval;
    if (s->flush_interval.count() == 0 || std::chrono::steady_clock::now() >= due) {
        flush(s);
        return;
    }
    s->timer.expires_at(due);
    s->timer.async_wait([s](boost::system::error_code ec) {
        if (!ec) {
            flush(s);
        }
    });
}

void room::flush(const std::shared_ptr<shard>& s) {
    std::vector<shard::entry> batch;
    {
        std::lock_guard lock(s->batch_mu);
        batch.swap(s->batch);
        s->flush_scheduled = false;
    }
    s->last_flush = std::chrono::steady_clock::now();
    // Member by member, so that each connection queues the whole batch and writes it in one
    // sendmsg(2). By index: a member may leave during its own calls (see `left`).
    s->flushing = true;
    std::size_t delivered = 0;
    const std::size_t n = s->list.size();
    for (std::size_t i = 0; i < n; ++i) {
        room_member* m = s->list[i].get();
        if (m == nullptr) {
            continue;
        }
        m->begin_batch();
        for (const auto& e : batch) {
            m->deliver(e.frame, e.offset);
            ++delivered;
            if (!s->list[i]) {
                break; // it left (closed): nothing more for it
            }
        }
        m->end_batch();
    }
    s->flushing = false;
    if (!s->left.empty()) {
        std::erase(s->list, nullptr);
        s->left.clear();
    }
    if (s->deliveries != nullptr) {
        s->deliveries->inc(delivered);
    }
    // Keep the capacity for the next batch unless a burst left it large.
    if (batch.capacity() <= 64) {
        batch.clear();
        std::lock_guard lock(s->batch_mu);
        if (s->batch.empty()) {
            s->batch.swap(batch);
        }
    }
}

void room::refill_locked(std::chrono::steady_clock::time_point now) {
    const double rate = std::max(1.0, options_.deliver_per_second);
    const double elapsed = std::chrono::duration<double>(now - refilled_at_).count();
    if (elapsed > 0) {
        tokens_ = std::min(rate, tokens_ + elapsed * rate);
        refilled_at_ = now;
    }
}

void room::on_entry(const core::shared_bytes& json, std::uint64_t offset, bool is_message) {
    auto frame = text_frame(*json);
    std::lock_guard lock(mu_);
    refill_locked(std::chrono::steady_clock::now());
    if (queue_.empty() && (!is_message || tokens_ >= 1)) {
        if (is_message) {
            tokens_ -= 1;
        }
        fan_out_locked(frame, offset);
        return;
    }
    queue_.push_back({std::move(frame), offset, is_message});
    // Bounded: at most one second of the pace (and never under 64) waits; past that the
    // oldest waiting entry goes (a message is counted as skipped).
    const auto cap =
        std::max<std::size_t>(64, static_cast<std::size_t>(std::ceil(options_.deliver_per_second)));
    std::uint64_t dropped = 0;
    while (queue_.size() > cap) {
        dropped += queue_.front().is_message ? 1 : 0;
        queue_.pop_front();
    }
    if (dropped > 0) {
        if (metrics_.skipped != nullptr) {
            metrics_.skipped->inc(dropped);
        }
        fan_out_locked(text_frame(codec::chat::render_skipped(dropped)), 0);
    }
    arm_timer_locked();
}

void room::broadcast_event(const core::shared_bytes& json) {
    auto frame = text_frame(*json);
    std::lock_guard lock(mu_);
    fan_out_locked(frame, 0);
}

void room::arm_timer_locked() {
    if (timer_armed_) {
        return;
    }
    timer_armed_ = true;
    timer_.expires_after(tick);
    timer_.async_wait([w = weak_from_this()](boost::system::error_code ec) {
        if (ec) {
            return;
        }
        if (auto self = w.lock()) {
            self->on_tick();
        }
    });
}

void room::on_tick() {
    std::lock_guard lock(mu_);
    timer_armed_ = false;
    refill_locked(std::chrono::steady_clock::now());
    std::size_t messages = 0;
    for (const auto& p : queue_) {
        messages += p.is_message ? 1 : 0;
    }
    const auto allowed = static_cast<std::size_t>(std::floor(tokens_));
    if (allowed == 0 && messages > 0) {
        // Not one token yet (a slow pace): wait for it rather than skip everything; the queue's
        // cap bounds what waits.
        arm_timer_locked();
        return;
    }
    std::size_t skip = messages > allowed ? messages - allowed : 0;
    if (skip > 0) {
        if (metrics_.skipped != nullptr) {
            metrics_.skipped->inc(skip);
        }
        fan_out_locked(text_frame(codec::chat::render_skipped(skip)), 0);
    }
    // Newest kept: the oldest `skip` messages go, everything else is delivered in order.
    for (auto& p : queue_) {
        if (p.is_message && skip > 0) {
            --skip;
            continue;
        }
        if (p.is_message) {
            tokens_ -= 1;
        }
        fan_out_locked(p.frame, p.offset);
    }
    queue_.clear();
}

void room::when_ready(std::function<void(bool ok)> f) {
    std::unique_lock lock(mu_);
    if (ready_ == 0) {
        waiting_.push_back(std::move(f));
        return;
    }
    const bool ok = ready_ > 0;
    lock.unlock();
    f(ok);
}

void room::set_ready(bool ok) {
    std::vector<std::function<void(bool)>> waiting;
    {
        std::lock_guard lock(mu_);
        ready_ = ok ? 1 : -1;
        waiting.swap(waiting_);
    }
    for (auto& f : waiting) {
        f(ok);
    }
}

} // namespace livehouse::services::chat
