// Key namespacing for shared state: "<service>|<phase>|<name>".
//
// Seed 002 (LINE LIVE's love counters): every Redis key carries the service and the phase
// (release, staging, ...) so that several services and phases can share one Redis Cluster and
// one PostgreSQL without stepping on each other, and an operator can tell whose a key is.
//
// Redis Cluster: a multi-key operation must keep its keys in one hash slot. Cluster hashes only
// the part between the first "{" and the next "}" when there is one (Redis Cluster
// specification, "Hash tags"), so callers put the shared part of related keys in braces, e.g.
// key("{b42}:total") and key("{b42}:ranking") for one broadcast's love total and ranking.
#pragma once

#include "core/result.hpp"

#include <cstddef>
#include <string>
#include <string_view>

namespace livehouse::state {

/// Longest key or member accepted by every backend (Redis allows far more; nothing livehouse
/// stores needs more, and a bound keeps a bad request from costing memory).
inline constexpr std::size_t max_key_bytes = 1024;
inline constexpr std::size_t max_member_bytes = 1024;

class key_space {
  public:
    /// service and phase: 1..64 characters of [a-z0-9_-] (they become part of every key).
    static core::result<key_space> make(std::string_view service, std::string_view phase);

    /// "<service>|<phase>|<name>".
    [[nodiscard]] std::string key(std::string_view name) const;
    /// "<service>|<phase>|": what every key of this space starts with.
    [[nodiscard]] const std::string& prefix() const { return prefix_; }

  private:
    explicit key_space(std::string prefix) : prefix_(std::move(prefix)) {}
    std::string prefix_;
};

} // namespace livehouse::state
