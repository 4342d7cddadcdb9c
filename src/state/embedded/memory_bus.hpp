// The embedded bus: in-process pub/sub for a single node (state/bus.hpp's contract). publish()
// delivers on the publisher's thread, outside the lock, to a snapshot of the channel's
// subscriptions taken under it.
#pragma once

#include "state/bus.hpp"

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace livehouse::state::embedded {

class memory_bus final : public bus {
  public:
    memory_bus();
    ~memory_bus() override;
    memory_bus(const memory_bus&) = delete;
    memory_bus& operator=(const memory_bus&) = delete;

    void publish(std::string channel, core::shared_bytes payload, completion<void> done) override;
    std::unique_ptr<subscription> subscribe(std::string channel, handler h,
                                            completion<void> ready) override;

    /// Subscriptions alive on a channel (tests, metrics).
    [[nodiscard]] std::size_t subscribers(const std::string& channel) const;

  private:
    struct entry {
        handler h;
        std::atomic<bool> active{true};
    };
    struct channels {
        mutable std::mutex mutex;
        std::unordered_map<std::string, std::vector<std::shared_ptr<entry>>> by_name;
    };
    class memory_subscription;

    // Shared with the subscriptions, which may outlive the bus.
    std::shared_ptr<channels> channels_;
};

} // namespace livehouse::state::embedded
