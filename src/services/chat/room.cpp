// room: shards and pacing (see room.hpp).
#include "services/chat/room.hpp"

#include "codec/chat/server_messages.hpp"
#include "codec/websocket/frame.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <cmath>

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
    explicit shard(asio::any_io_executor e) : exec(std::move(e)) {}
    const asio::any_io_executor exec;
    std::size_t size = 0; ///< guarded by the room's mutex (placement decisions)
    /// Touched only on `exec`.
    std::vector<std::shared_ptr<room_member>> list;
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
            s = std::make_shared<shard>(exec);
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
    auto it =
        std::find_if(s->list.begin(), s->list.end(), [m](const auto& p) { return p.get() == m; });
    if (it == s->list.end()) {
        std::lock_guard lock(mu_);
        return members_;
    }
    // Order within a shard does not matter: swap with the last, pop.
    std::swap(*it, s->list.back());
    s->list.pop_back();
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
        asio::post(s->exec, [s, frame, offset, deliveries = metrics_.deliveries] {
            for (const auto& m : s->list) {
                m->deliver(frame, offset);
            }
            if (deliveries != nullptr) {
                deliveries->inc(s->list.size());
            }
        });
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
