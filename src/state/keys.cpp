// key_space: validation and composition of "<service>|<phase>|<name>" keys.
#include "state/keys.hpp"

#include <fmt/format.h>

namespace livehouse::state {

namespace {

bool valid_part(std::string_view s) {
    if (s.empty() || s.size() > 64) {
        return false;
    }
    for (const char c : s) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
        if (!ok) {
            return false;
        }
    }
    return true;
}

} // namespace

core::result<key_space> key_space::make(std::string_view service, std::string_view phase) {
    if (!valid_part(service)) {
        return core::make_error(
            fmt::format("state: service name \"{}\" must be 1-64 of [a-z0-9_-]", service));
    }
    if (!valid_part(phase)) {
        return core::make_error(
            fmt::format("state: phase \"{}\" must be 1-64 of [a-z0-9_-]", phase));
    }
    return key_space(fmt::format("{}|{}|", service, phase));
}

std::string key_space::key(std::string_view name) const {
    std::string k;
    k.reserve(prefix_.size() + name.size());
    k.append(prefix_);
    k.append(name);
    return k;
}

} // namespace livehouse::state
