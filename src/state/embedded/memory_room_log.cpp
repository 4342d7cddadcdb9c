// memory_room_log: per key a deque of entries and the next offset; one publisher per log at a
// time (memory_room_log.hpp explains why that, and not publishing under the lock).
#include "state/embedded/memory_room_log.hpp"

#include "state/room_log_checks.hpp"

#include <algorithm>
#include <charconv>

namespace livehouse::state::embedded {

log_slice memory_room_log::slice(const log* l, std::size_t start, std::size_t n) {
    log_slice s;
    if (l == nullptr) {
        return s;
    }
    s.next = l->next;
    s.first = l->next - l->entries.size();
    const auto end = start + std::min(n, l->entries.size() - start);
    s.entries.reserve(end - start);
    for (auto i = start; i < end; ++i) {
        s.entries.push_back({s.first + i, l->entries[i]});
    }
    return s;
}

void memory_room_log::append(std::string key, std::string channel, std::string prefix,
                             std::string suffix, std::size_t keep, completion<log_entry> done) {
    if (auto e = check_room_log_append(key, channel, prefix, suffix, keep)) {
        done(std::move(*e));
        return;
    }
    // The payload is built in prefix's buffer; only the offset's digits are added under the lock.
    prefix.reserve(prefix.size() + 20 + suffix.size());
    std::shared_ptr<log> to_publish; // set when this call became the log's publisher
    auto r = logs_.with(key, [&](auto& m) -> core::result<log_entry> {
        auto found = m.find(key);
        auto l = found == m.end() ? nullptr : found->second;
        if (l && l->unpublished.size() >= max_room_log_unpublished) {
            return core::make_error(
                fmt::format("state: room log \"{}\": {} messages not yet published (subscribers "
                            "behind), try again",
                            key, l->unpublished.size()));
        }
        const std::uint64_t offset = l ? l->next : 1;
        char digits[20];
        const auto [end, ec] = std::to_chars(std::begin(digits), std::end(digits), offset);
        const auto size = prefix.size() + static_cast<std::size_t>(end - digits) + suffix.size();
        if (ec != std::errc{} || size > max_room_log_entry_bytes) {
            return room_log_entry_too_big(size); // refused before anything changed
        }
        prefix.append(digits, end).append(suffix);
        auto payload = core::make_shared_bytes(std::move(prefix));
        if (!l) {
            l = std::make_shared<log>();
            m.emplace(key, l);
        }
        l->entries.push_back(payload);
        while (l->entries.size() > keep) {
            l->entries.pop_front();
        }
        l->next = offset + 1;
        l->unpublished.push_back({std::move(channel), payload});
        if (!l->publishing) {
            l->publishing = true;
            to_publish = l;
        }
        return log_entry{offset, std::move(payload)};
    });
    if (to_publish) {
        publish_queued(key, *to_publish);
    }
    done(std::move(r));
}

void memory_room_log::publish_queued(const std::string& key, log& l) {
    std::deque<message> batch;
    for (;;) {
        logs_.with(key, [&](auto&) {
            if (l.unpublished.empty()) {
                l.publishing = false; // the next append publishes its own
            } else {
                batch.swap(l.unpublished);
            }
        });
        if (batch.empty()) {
            return;
        }
        for (auto& msg : batch) {
            // Cannot fail: the channel passed check_room_log_names and the payload is within
            // max_room_log_entry_bytes < max_bus_payload_bytes. At most once, like the bus.
            bus_.publish(std::move(msg.channel), std::move(msg.payload),
                         [](const core::result<void>&) {});
        }
        batch.clear();
    }
}

void memory_room_log::read(std::string key, std::uint64_t from, std::size_t max,
                           completion<log_slice> done) {
    if (auto e = check_room_log_read(key, max)) {
        done(std::move(*e));
        return;
    }
    done(logs_.with(key, [&](auto& m) {
        auto found = m.find(key);
        if (found == m.end()) {
            return slice(nullptr, 0, 0);
        }
        const auto& l = *found->second;
        const auto first = l.next - l.entries.size();
        // from < first: start at first; the caller sees the gap in slice.first.
        const auto start =
            from <= first ? 0 : std::min<std::uint64_t>(from - first, l.entries.size());
        return slice(&l, static_cast<std::size_t>(start), max);
    }));
}

void memory_room_log::read_tail(std::string key, std::size_t n, completion<log_slice> done) {
    if (auto e = check_room_log_read(key, n)) {
        done(std::move(*e));
        return;
    }
    done(logs_.with(key, [&](auto& m) {
        auto found = m.find(key);
        if (found == m.end()) {
            return slice(nullptr, 0, 0);
        }
        const auto& l = *found->second;
        return slice(&l, l.entries.size() > n ? l.entries.size() - n : 0, n);
    }));
}

void memory_room_log::remove(std::string key, completion<void> done) {
    if (auto e = check_room_log_key(key)) {
        done(std::move(*e));
        return;
    }
    // A publisher still draining the old log keeps it alive and finishes its queue.
    logs_.with(key, [&](auto& m) { m.erase(key); });
    done({});
}

} // namespace livehouse::state::embedded
