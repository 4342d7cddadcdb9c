// chat_connection: the per-connection chat protocol (see chat_connection.hpp).
#include "services/chat/chat_connection.hpp"

#include "codec/chat/client_message.hpp"
#include "codec/websocket/frame.hpp"

#include <boost/asio/post.hpp>
#include <chrono>
#include <fmt/format.h>

namespace livehouse::services::chat {

namespace ws = codec::websocket;
namespace chatc = codec::chat;

chat_connection::chat_connection(std::shared_ptr<chat_service> service, std::string broadcast_id,
                                 std::optional<auth::user> user, std::optional<std::uint64_t> since,
                                 boost::asio::any_io_executor exec)
    : service_(std::move(service)), broadcast_id_(std::move(broadcast_id)), user_(std::move(user)),
      since_(since), exec_(std::move(exec)) {}

chat_connection::~chat_connection() = default;

template <class F> void chat_connection::on_thread(F&& f) {
    boost::asio::post(exec_, [w = weak_from_this(), f = std::forward<F>(f)]() mutable {
        auto self = w.lock();
        if (self && self->phase_ != phase::closed) {
            f(*self);
        }
    });
}

void chat_connection::on_open(std::shared_ptr<net::ws_connection> c) {
    conn_ = std::move(c);
    service_->connections_gauge().inc();
    room_ = service_->acquire_room(broadcast_id_);
    shard_ = room_->join(std::static_pointer_cast<room_member>(shared_from_this()), exec_);
    room_->when_ready([w = weak_from_this()](bool ok) {
        auto self = w.lock();
        if (!self) {
            return;
        }
        self->on_thread([ok](chat_connection& me) {
            if (!ok) {
                me.refuse("unavailable", "chat is unavailable, try again later", "");
                me.conn_->close(ws::close_code::internal_error, "chat unavailable");
                return;
            }
            me.load_history();
        });
    });
}

void chat_connection::load_history() {
    auto& log = service_->log();
    const auto key = service_->log_key(broadcast_id_);
    auto done = [w = weak_from_this()](bool resumed) {
        return [w, resumed](core::result<state::log_slice> r) {
            if (auto self = w.lock()) {
                self->on_thread([r = std::move(r), resumed](chat_connection& me) mutable {
                    me.on_history(std::move(r), resumed);
                });
            }
        };
    };
    if (since_) {
        // One more than allowed, to tell "exactly max_resume missed" from "more".
        log.read(key, *since_ + 1, service_->config().max_resume + 1, done(true));
    } else {
        log.read_tail(key, service_->config().history, done(false));
    }
}

void chat_connection::on_history(core::result<state::log_slice> r, bool resumed) {
    if (!r) {
        refuse("unavailable", "chat history is unavailable, try again later", "");
        conn_->close(ws::close_code::internal_error, "history unavailable");
        return;
    }
    if (resumed) {
        const std::uint64_t want = *since_ + 1;
        const bool too_old = want < r->first && r->first > 1;
        const bool too_many = r->entries.size() > service_->config().max_resume;
        if (too_old || too_many) {
            const std::uint64_t lost_to = too_old ? r->first - 1 : r->next - 1;
            refuse("history_gap",
                   fmt::format("messages {}..{} can no longer be sent; showing the latest", want,
                               lost_to),
                   "");
            service_->log().read_tail(
                service_->log_key(broadcast_id_), service_->config().history,
                [w = weak_from_this()](core::result<state::log_slice> tail) {
                    if (auto self = w.lock()) {
                        self->on_thread([tail = std::move(tail)](chat_connection& me) mutable {
                            me.on_history(std::move(tail), false);
                        });
                    }
                });
            return;
        }
    }
    std::vector<std::string_view> entries;
    entries.reserve(r->entries.size());
    for (const auto& e : r->entries) {
        if (e.payload) {
            entries.emplace_back(*e.payload);
        }
        last_offset_ = std::max(last_offset_, e.offset);
    }
    last_offset_ = std::max(last_offset_, r->next > 0 ? r->next - 1 : 0);
    send_json(chatc::render_history(entries, r->next, resumed));
    phase_ = phase::live;
    auto buffered = std::move(buffered_);
    buffered_.clear();
    buffered_.shrink_to_fit();
    for (auto& [frame, offset] : buffered) {
        deliver(frame, offset);
    }
}

void chat_connection::begin_batch() {
    if (phase_ == phase::live && conn_) {
        conn_->cork();
    }
}

void chat_connection::end_batch() {
    // A copy: a write error ends the connection inside uncork(), and on_close drops conn_.
    if (auto c = conn_) {
        c->uncork();
    }
}

void chat_connection::deliver(const core::shared_bytes& frame, std::uint64_t offset) {
    if (phase_ == phase::closed) {
        return;
    }
    if (phase_ == phase::joining) {
        if (buffered_.size() >= max_buffered) {
            conn_->close(1013, "room too busy to join, try again");
            phase_ = phase::closed;
            return;
        }
        buffered_.emplace_back(frame, offset);
        return;
    }
    if (offset != 0) {
        if (offset <= last_offset_) {
            return; // already in the history this connection got
        }
        last_offset_ = offset;
    }
    conn_->send(frame);
}

void chat_connection::send_json(const std::string& json) {
    conn_->send(core::make_shared_bytes(ws::encode_frame(ws::opcode::text, json)));
}

void chat_connection::refuse(std::string_view code, std::string_view message,
                             std::string_view ref) {
    service_->refusals().inc();
    send_json(chatc::render_error(code, message, ref));
}

void chat_connection::on_message(std::string_view text) {
    const auto& cfg = service_->config();
    auto parsed = chatc::parse_client_message(
        text, {.max_message_bytes = cfg.max_message_bytes, .max_text_chars = cfg.max_text_chars});
    if (auto* no = std::get_if<chatc::refusal>(&parsed)) {
        refuse(no->code, no->message, no->ref);
        return;
    }
    auto& cmd = std::get<chatc::client_command>(parsed);
    if (!user_) {
        refuse("auth_required", "sign in to chat (a user token as ?token=)", cmd.ref);
        return;
    }
    if (service_->access(broadcast_id_) == room_access::ended) {
        refuse("broadcast_ended", "the broadcast has ended", cmd.ref);
        return;
    }
    if (!service_->take_send_token(user_->id)) {
        refuse("rate_limited", "too many messages, slow down", cmd.ref);
        return;
    }
    if (auto w = service_->banned_word(cmd.text)) {
        refuse("banned_word", "the message contains a word that is not allowed here", cmd.ref);
        return;
    }
    // The mute list is shared (a moderator on another node may have muted the user).
    service_->sets().contains(
        service_->muted_key(broadcast_id_), user_->id,
        [w = weak_from_this(), text = std::move(cmd.text),
         ref = std::move(cmd.ref)](core::result<bool> muted) mutable {
            auto self = w.lock();
            if (!self) {
                return;
            }
            self->on_thread([muted = std::move(muted), text = std::move(text),
                             ref = std::move(ref)](chat_connection& me) mutable {
                if (!muted) {
                    me.refuse("unavailable", "chat is unavailable, try again later", ref);
                } else if (*muted) {
                    me.refuse("muted", "a moderator muted you in this room", ref);
                } else {
                    me.send_checked(std::move(text), std::move(ref));
                }
            });
        });
}

void chat_connection::send_checked(std::string text, std::string ref) {
    chatc::message_fields m;
    m.id = service_->next_message_id();
    m.user = {user_->id, user_->name};
    m.text = std::move(text);
    m.time_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
    m.position_s = service_->position(broadcast_id_);
    service_->post_message(
        broadcast_id_, m, [w = weak_from_this(), ref](core::result<state::log_entry> r) {
            auto self = w.lock();
            if (!self) {
                return;
            }
            self->on_thread([r = std::move(r), ref](chat_connection& me) {
                if (!r) {
                    me.refuse("unavailable", "the message was not sent, try again", ref);
                    return;
                }
                me.send_json(chatc::render_ack(r->offset, ref));
            });
        });
}

void chat_connection::on_close(std::uint16_t, std::string_view) {
    if (phase_ == phase::closed && !room_) {
        return;
    }
    phase_ = phase::closed;
    if (room_) {
        room_->leave(shard_, this);
        service_->release_room(broadcast_id_);
        service_->connections_gauge().dec();
    }
    room_.reset();
    shard_.reset();
    buffered_.clear();
    conn_.reset();
}

} // namespace livehouse::services::chat
