// broadcast_clocks (see broadcast_clocks.hpp).
#include "services/cluster/broadcast_clocks.hpp"

#include "codec/chat/server_messages.hpp"

#include <cmath>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

namespace livehouse::services::cluster {

std::shared_ptr<broadcast_clocks> broadcast_clocks::create(state::bus& bus, state::key_space keys,
                                                           media::broadcast_registry& registry,
                                                           const core::clock& clock) {
    return std::shared_ptr<broadcast_clocks>(
        new broadcast_clocks(bus, std::move(keys), registry, clock));
}

broadcast_clocks::broadcast_clocks(state::bus& bus, state::key_space keys,
                                   media::broadcast_registry& registry, const core::clock& clock)
    : bus_(bus), channel_(keys.key("{clocks}")), registry_(registry), clock_(clock) {}

broadcast_clocks::~broadcast_clocks() = default;

void broadcast_clocks::start() {
    sub_ = bus_.subscribe(
        channel_,
        [w = weak_from_this()](std::string_view, const core::shared_bytes& payload) {
            if (auto self = w.lock(); self && payload) {
                self->on_event(*payload);
            }
        },
        [](core::result<void> ready) {
            if (!ready) {
                spdlog::warn("cluster: broadcast clocks unavailable: {}", ready.err().message);
            }
        });
}

void broadcast_clocks::close() {
    sub_.reset();
}

void broadcast_clocks::tick() {
    if (++ticks_ % period_ticks != 0) {
        return;
    }
    const auto now = clock_.now();
    for (const auto& b : registry_.list()) {
        const auto snap = b->snapshot();
        if (snap->status != media::broadcast_status::live &&
            snap->status != media::broadcast_status::suspended) {
            continue;
        }
        auto text = fmt::format(R"({{"id":{},"position":{:.3f},"live":{}}})",
                                codec::chat::json_string(b->id()), snap->position_s(now),
                                snap->status == media::broadcast_status::live);
        bus_.publish(channel_, core::make_shared_bytes(std::move(text)), [](core::result<void>) {});
    }
}

void broadcast_clocks::on_event(std::string_view payload) {
    // From another node through the bus: parsed without exceptions, fields checked.
    const auto j = nlohmann::json::parse(payload, nullptr, false);
    if (!j.is_object()) {
        return;
    }
    const auto id = j.find("id");
    const auto pos = j.find("position");
    const auto live = j.find("live");
    if (id == j.end() || !id->is_string() || pos == j.end() || !pos->is_number() ||
        live == j.end() || !live->is_boolean()) {
        return;
    }
    const double p = pos->get<double>();
    if (!std::isfinite(p) || p < 0) {
        return;
    }
    auto key = id->get<std::string>();
    if (registry_.find(key)) {
        return; // ours: the registry knows better
    }
    const auto now = clock_.now();
    std::lock_guard lock(mu_);
    if (entries_.size() >= max_entries && !entries_.contains(key)) {
        std::erase_if(entries_, [&](const auto& kv) { return now - kv.second.at > stale_after; });
        if (entries_.size() >= max_entries) {
            return;
        }
    }
    entries_[std::move(key)] = entry{p, live->get<bool>(), now};
}

std::optional<remote_clock> broadcast_clocks::lookup(const std::string& id) const {
    const auto now = clock_.now();
    std::lock_guard lock(mu_);
    const auto it = entries_.find(id);
    if (it == entries_.end() || now - it->second.at > stale_after) {
        return std::nullopt;
    }
    const auto& e = it->second;
    const double ahead = e.live ? std::chrono::duration<double>(now - e.at).count() : 0.0;
    return remote_clock{e.position_s + ahead, e.live};
}

} // namespace livehouse::services::cluster
