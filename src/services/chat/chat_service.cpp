// chat_service: rooms, posting, moderation state, status events, archives.
#include "services/chat/chat_service.hpp"

#include "core/rate_limiter.hpp"
#include "media/archive.hpp"
#include "media/ids.hpp"
#include "services/chat/chat_archive.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fmt/format.h>
#include <openssl/rand.h>
#include <spdlog/spdlog.h>

namespace livehouse::services::chat {

namespace {

std::string random_hex(std::size_t bytes) {
    std::string raw(bytes, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1) {
        // Uniqueness, not secrecy, is what the prefix needs: the time will do.
        raw = fmt::format("{:016x}", std::chrono::steady_clock::now().time_since_epoch().count());
        raw.resize(bytes);
    }
    std::string out;
    for (unsigned char c : raw) {
        out += fmt::format("{:02x}", c);
    }
    return out;
}

std::string lower_ascii(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

std::int64_t unix_ms(std::chrono::system_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

} // namespace

std::shared_ptr<chat_service> chat_service::create(chat_config config, chat_deps deps) {
    return std::shared_ptr<chat_service>(new chat_service(std::move(config), std::move(deps)));
}

chat_service::chat_service(chat_config config, chat_deps deps)
    : config_(std::move(config)), deps_(std::move(deps)),
      send_limiter_(std::make_unique<core::rate_limiter>(
          core::rate_limit{.per_second = config_.user_messages_per_second,
                           .burst = config_.user_burst,
                           .max_keys = 200000})),
      node_prefix_(random_hex(4)) {
    auto& m = deps_.metrics;
    connections_ = &m.add_gauge("chat_connections", "Open chat WebSocket connections");
    rooms_gauge_ = &m.add_gauge("chat_rooms", "Chat rooms with connections on this node");
    refusals_ = &m.add_counter("chat_refusals_total",
                               "Chat messages refused (rate, size, banned word, mute, auth)");
    posted_ = &m.add_counter("chat_messages_posted_total", "Chat messages appended by this node");
    deliveries_ =
        &m.add_counter("chat_deliveries_total", "Chat frames handed to connections' send queues");
    skipped_ = &m.add_counter("chat_skipped_total",
                              "Chat messages not shown to viewers to keep a readable pace");
    archives_ = &m.add_counter("chat_archives_total", "Chat logs archived at broadcast end");
}

chat_service::~chat_service() = default;

std::string chat_service::log_key(std::string_view id) const {
    return deps_.keys.key(fmt::format("{{{}}}:log", id));
}
std::string chat_service::channel(std::string_view id) const {
    return deps_.keys.key(fmt::format("{{{}}}:room", id));
}
std::string chat_service::muted_key(std::string_view id) const {
    return deps_.keys.key(fmt::format("{{{}}}:muted", id));
}
std::string chat_service::paid_key(std::string_view id) const {
    return deps_.keys.key(fmt::format("{{{}}}:paid", id));
}

room_access chat_service::access(std::string_view id) const {
    if (auto b = deps_.registry.find(id)) {
        return b->snapshot()->status == media::broadcast_status::ended ? room_access::ended
                                                                       : room_access::open;
    }
    if (config_.accept_unknown_broadcasts && media::is_valid_broadcast_id(id)) {
        return room_access::open;
    }
    return room_access::unknown;
}

double chat_service::position(std::string_view id) const {
    if (auto b = deps_.registry.find(id)) {
        return b->snapshot()->position_s(deps_.clock.now());
    }
    if (deps_.clocks) {
        if (const auto remote = deps_.clocks->lookup(std::string(id))) {
            return remote->position_s;
        }
    }
    return 0;
}

std::shared_ptr<room> chat_service::acquire_room(const std::string& id) {
    std::lock_guard lock(rooms_mu_);
    auto& slot = rooms_[id];
    ++slot.refs;
    if (slot.r) {
        return slot.r;
    }
    slot.r = std::make_shared<room>(
        id, room_options{config_.shard_size, config_.deliver_per_second, config_.flush_interval},
        deps_.timer_exec, room_metrics{deliveries_, skipped_});
    rooms_gauge_->inc();
    std::weak_ptr<room> weak = slot.r;
    // Entries of the log (message, delete) are paced; events (status, muted) go out at once.
    auto on_payload = [weak](std::string_view, const core::shared_bytes& payload) {
        auto r = weak.lock();
        if (!r || !payload) {
            return;
        }
        const auto type = codec::chat::entry_type(*payload);
        if (type == "message" || type == "delete") {
            r->on_entry(payload, codec::chat::entry_offset(*payload).value_or(0),
                        type == "message");
        } else {
            r->broadcast_event(payload);
        }
    };
    slot.sub = deps_.bus.subscribe(channel(id), on_payload, [weak, id](core::result<void> ready) {
        if (!ready) {
            spdlog::warn("chat: room {}: subscribe failed: {}", id, ready.err().message);
        }
        if (auto r = weak.lock()) {
            r->set_ready(static_cast<bool>(ready));
        }
    });
    return slot.r;
}

void chat_service::release_room(const std::string& id) {
    std::unique_ptr<state::bus::subscription> sub;
    std::shared_ptr<room> r;
    {
        std::lock_guard lock(rooms_mu_);
        auto it = rooms_.find(id);
        if (it == rooms_.end() || --it->second.refs > 0) {
            return;
        }
        sub = std::move(it->second.sub);
        r = std::move(it->second.r);
        rooms_.erase(it);
        rooms_gauge_->dec();
    }
    // Destroyed outside the lock: the subscription may wait for a delivery in progress.
}

void chat_service::close() {
    std::unordered_map<std::string, room_slot> rooms;
    {
        std::lock_guard lock(rooms_mu_);
        rooms.swap(rooms_);
    }
    rooms_gauge_->set(0);
}

std::string chat_service::next_message_id() {
    return fmt::format("{}-{:x}", node_prefix_, message_seq_.fetch_add(1) + 1);
}

void chat_service::post_message(const std::string& id, const codec::chat::message_fields& m,
                                state::completion<state::log_entry> done) {
    auto parts = codec::chat::render_message(m);
    deps_.log.append(log_key(id), channel(id), std::move(parts.prefix), std::move(parts.suffix),
                     config_.max_log, [self = shared_from_this(), done = std::move(done)](auto r) {
                         if (r) {
                             self->posted_->inc();
                         }
                         done(std::move(r));
                     });
}

void chat_service::post_delete(const std::string& id, std::uint64_t target,
                               state::completion<state::log_entry> done) {
    auto parts = codec::chat::render_delete(target);
    deps_.log.append(log_key(id), channel(id), std::move(parts.prefix), std::move(parts.suffix),
                     config_.max_log, std::move(done));
}

void chat_service::mute(const std::string& id, const std::string& user_id,
                        state::completion<bool> done) {
    deps_.sets.add(
        muted_key(id), user_id,
        [self = shared_from_this(), id, user_id, done = std::move(done)](core::result<bool> r) {
            if (r) {
                // Tell the room (viewers hide the user's messages); no history
                // needed.
                self->deps_.bus.publish(self->channel(id),
                                        core::make_shared_bytes(codec::chat::render_muted(user_id)),
                                        [](core::result<void>) {});
            }
            done(std::move(r));
        });
}

void chat_service::unmute(const std::string& id, const std::string& user_id,
                          state::completion<bool> done) {
    deps_.sets.remove_member(
        muted_key(id), user_id,
        [self = shared_from_this(), id, user_id, done = std::move(done)](core::result<bool> r) {
            if (r && *r) {
                self->deps_.bus.publish(
                    self->channel(id),
                    core::make_shared_bytes(codec::chat::render_unmuted(user_id)),
                    [](core::result<void>) {});
            }
            done(std::move(r));
        });
}

bool chat_service::take_send_token(const std::string& user_id) {
    return send_limiter_->try_acquire(user_id, deps_.clock.now());
}

std::optional<std::string> chat_service::banned_word(std::string_view text) const {
    if (config_.banned_words.empty()) {
        return std::nullopt;
    }
    const auto lowered = lower_ascii(text);
    for (const auto& w : config_.banned_words) {
        if (!w.empty() && lowered.find(lower_ascii(w)) != std::string::npos) {
            return w;
        }
    }
    return std::nullopt;
}

void chat_service::publish_event(const std::string& id, std::string json) {
    deps_.bus.publish(channel(id), core::make_shared_bytes(std::move(json)),
                      [](core::result<void>) {});
}

void chat_service::on_broadcast_change(const media::broadcast_record& record) {
    const auto status = std::string(media::to_string(record.status));
    deps_.bus.publish(channel(record.id),
                      core::make_shared_bytes(codec::chat::render_status(status)),
                      [](core::result<void>) {});
    if (record.status == media::broadcast_status::ended) {
        archive(record.id, [id = record.id](core::result<state::archive_record> r) {
            if (!r) {
                spdlog::error("chat: archive of {} failed: {}", id, r.err().message);
            }
        });
    }
}

bool chat_service::wait_for_archives(std::chrono::milliseconds timeout) {
    std::unique_lock lock(archives_mu_);
    return archives_cv_.wait_for(lock, timeout, [this] { return archives_pending_ == 0; });
}

void chat_service::archive(const std::string& id, state::completion<state::archive_record> user) {
    {
        std::lock_guard lock(archives_mu_);
        ++archives_pending_;
    }
    // Counted until `user` has run, whichever way the archive ends.
    auto done = [self = shared_from_this(),
                 user = std::move(user)](core::result<state::archive_record> r) {
        user(std::move(r));
        std::lock_guard lock(self->archives_mu_);
        if (--self->archives_pending_ == 0) {
            self->archives_cv_.notify_all();
        }
    };
    read_whole_log(
        deps_.log, log_key(id), config_.max_log,
        [self = shared_from_this(), id, done = std::move(done)](core::result<state::log_slice> r) {
            if (!r) {
                done(r.err());
                return;
            }
            auto text = std::make_shared<std::string>(render_archive(id, *r));
            const auto count = r->entries.size();
            // The file write is blocking: off the event loops.
            self->deps_.io([self, id, text, count, done]() {
                const auto rel = fmt::format("vod/{}/chat.json", id);
                const auto path = std::filesystem::path(self->deps_.data_dir) / rel;
                std::error_code ec;
                std::filesystem::create_directories(path.parent_path(), ec);
                if (auto w = media::write_file_atomic(path, *text); !w) {
                    done(w.err().wrap("chat archive"));
                    return;
                }
                state::archive_record rec{id, "chat", rel, static_cast<std::int64_t>(text->size()),
                                          unix_ms(std::chrono::system_clock::now())};
                self->deps_.records.put_archive(
                    rec, [self, rec, count, done](core::result<void> put) {
                        if (!put) {
                            done(put.err().wrap("chat archive: index"));
                            return;
                        }
                        self->archives_->inc();
                        spdlog::info("chat: archived {} entries of {} to {}", count,
                                     rec.broadcast_id, rec.path);
                        done(rec);
                    });
            });
        });
}

} // namespace livehouse::services::chat
