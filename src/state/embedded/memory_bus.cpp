// memory_bus: channel -> subscriptions, delivery outside the lock.
#include "state/embedded/memory_bus.hpp"

#include "state/limits.hpp"

#include <algorithm>

namespace livehouse::state::embedded {

class memory_bus::memory_subscription final : public bus::subscription {
  public:
    memory_subscription(std::weak_ptr<channels> c, std::string channel, std::shared_ptr<entry> e)
        : channels_(std::move(c)), channel_(std::move(channel)), entry_(std::move(e)) {}

    ~memory_subscription() override {
        entry_->active.store(false);
        auto c = channels_.lock();
        if (!c) {
            return;
        }
        std::lock_guard lock(c->mutex);
        auto it = c->by_name.find(channel_);
        if (it == c->by_name.end()) {
            return;
        }
        std::erase(it->second, entry_);
        if (it->second.empty()) {
            c->by_name.erase(it);
        }
    }
    memory_subscription(const memory_subscription&) = delete;
    memory_subscription& operator=(const memory_subscription&) = delete;

  private:
    std::weak_ptr<channels> channels_;
    std::string channel_;
    std::shared_ptr<entry> entry_;
};

memory_bus::memory_bus() : channels_(std::make_shared<channels>()) {}
memory_bus::~memory_bus() = default;

void memory_bus::publish(std::string channel, core::shared_bytes payload, completion<void> done) {
    if (auto e = check_key(channel)) {
        done(std::move(*e));
        return;
    }
    const std::size_t size = payload ? payload->size() : 0;
    if (size > max_bus_payload_bytes) {
        done(core::make_error(fmt::format("state: bus payload of {} bytes (at most {})", size,
                                          max_bus_payload_bytes)));
        return;
    }
    if (!payload) {
        payload = core::make_shared_bytes({});
    }
    std::vector<std::shared_ptr<entry>> targets;
    {
        std::lock_guard lock(channels_->mutex);
        if (auto it = channels_->by_name.find(channel); it != channels_->by_name.end()) {
            targets = it->second;
        }
    }
    for (const auto& t : targets) {
        if (t->active.load()) {
            t->h(channel, payload);
        }
    }
    done({});
}

std::unique_ptr<bus::subscription> memory_bus::subscribe(std::string channel, handler h,
                                                         completion<void> ready) {
    if (auto e = check_key(channel)) {
        ready(std::move(*e));
        return nullptr;
    }
    auto e = std::make_shared<entry>();
    e->h = std::move(h);
    {
        std::lock_guard lock(channels_->mutex);
        channels_->by_name[channel].push_back(e);
    }
    auto sub = std::make_unique<memory_subscription>(channels_, std::move(channel), std::move(e));
    ready({});
    return sub;
}

std::size_t memory_bus::subscribers(const std::string& channel) const {
    std::lock_guard lock(channels_->mutex);
    auto it = channels_->by_name.find(channel);
    return it == channels_->by_name.end() ? 0 : it->second.size();
}

} // namespace livehouse::state::embedded
