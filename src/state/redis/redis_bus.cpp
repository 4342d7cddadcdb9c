// The pub/sub bus on Redis sharded pub/sub (redis_state.hpp, client.hpp).
#include "state/limits.hpp"
#include "state/redis/call.hpp"
#include "state/redis/redis_state.hpp"

#include <fmt/format.h>

namespace livehouse::state::redis {

namespace {

std::optional<core::error> check_payload(const core::shared_bytes& payload) {
    if (!payload || payload->size() > max_bus_payload_bytes) {
        return core::make_error(fmt::format("state: bus payload of {} bytes (at most {})",
                                            payload ? payload->size() : 0, max_bus_payload_bytes));
    }
    return std::nullopt;
}

class redis_subscription final : public bus::subscription {
  public:
    redis_subscription(std::weak_ptr<client> c, std::uint64_t id)
        : client_(std::move(c)), id_(id) {}
    ~redis_subscription() override {
        if (auto c = client_.lock()) {
            c->unsubscribe(id_);
        }
    }
    redis_subscription(const redis_subscription&) = delete;
    redis_subscription& operator=(const redis_subscription&) = delete;

  private:
    std::weak_ptr<client> client_;
    std::uint64_t id_;
};

} // namespace

void redis_bus::publish(std::string channel, core::shared_bytes payload, completion<void> done) {
    if (auto e = check_key(channel); e || (e = check_payload(payload))) {
        done(std::move(*e));
        return;
    }
    auto route = channel;
    // SPUBLISH: the message goes to the shard that owns the channel's slot, and only there.
    call(*client_, {"SPUBLISH", std::move(channel), *payload}, std::move(route), std::move(done),
         [](reply) -> core::result<void> { return {}; });
}

std::unique_ptr<bus::subscription> redis_bus::subscribe(std::string channel, handler h,
                                                        completion<void> ready) {
    if (auto e = check_key(channel)) {
        ready(std::move(*e));
        return nullptr;
    }
    const auto id = client_->subscribe(std::move(channel), std::move(h), std::move(ready));
    return std::make_unique<redis_subscription>(client_, id);
}

} // namespace livehouse::state::redis
