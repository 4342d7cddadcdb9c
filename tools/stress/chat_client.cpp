// chat_clients (see chat_client.hpp).
#include "stress/chat_client.hpp"

#include "codec/websocket/client_handshake.hpp"
#include "codec/websocket/frame.hpp"
#include "stress/user_token.hpp"

#include <boost/asio/write.hpp>
#include <charconv>
#include <deque>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace livehouse::stress {

namespace asio = boost::asio;
namespace ws = codec::websocket;
using tcp = asio::ip::tcp;
using clock_type = std::chrono::steady_clock;

namespace {
constexpr auto connect_timeout = std::chrono::seconds(10);
constexpr std::size_t scratch_bytes = 64 * 1024;
/// A history can hold many messages; nothing the room sends is near this.
constexpr std::size_t max_message_bytes = 4 * 1024 * 1024;
/// Sends waiting for their ack; beyond, the server is not answering and sending pauses.
constexpr std::size_t max_pending = 256;
/// Frames waiting behind the write in flight; beyond, the connection is given up.
constexpr std::size_t max_queued_bytes = 1024 * 1024;
constexpr std::string_view text_tag = "lh ";

std::int64_t unix_micros() {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

/// The stamp this tester puts at the front of a message's text, read back by receivers:
/// "lh <client> <seq> <unix µs> " (decimal). nullopt for anyone else's message.
std::optional<std::int64_t> stamped_time(std::string_view text) {
    if (!text.starts_with(text_tag)) {
        return std::nullopt;
    }
    text.remove_prefix(text_tag.size());
    for (int skip = 0; skip < 2; ++skip) {
        const auto sp = text.find(' ');
        if (sp == std::string_view::npos) {
            return std::nullopt;
        }
        text.remove_prefix(sp + 1);
    }
    std::int64_t us = 0;
    const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), us);
    if (ec != std::errc{}) {
        return std::nullopt;
    }
    return us;
}

} // namespace

struct chat_clients::client {
    explicit client(asio::io_context& ioc) : sock(ioc), timer(ioc) {}
    tcp::socket sock;
    asio::steady_timer timer; ///< the connect deadline, then the send cadence
    ws::frame_reader reader{ws::role::client, {.max_message_bytes = max_message_bytes}};
    std::string in;      ///< read and not yet parsed
    std::string queued;  ///< frames behind the write in flight
    std::string writing; ///< the write in flight
    std::string key;
    std::uint64_t id = 0;
    std::uint64_t seq = 0;
    bool sender = false;
    bool connected = false;
    bool upgraded = false;
    bool joined = false;
    bool stopped = false;
    clock_type::time_point due;                                           ///< the join's
    clock_type::time_point next_send;                                     ///< the next message's
    std::deque<std::pair<std::uint64_t, clock_type::time_point>> pending; ///< seq, due
};

chat_clients::chat_clients(asio::io_context& ioc, recorder& rec, const endpoints& targets,
                           chat_clients_options options)
    : ioc_(ioc), rec_(rec), targets_(targets), options_(std::move(options)),
      joins_(ioc, options_.share, [this](std::size_t i) { join(i); }), end_timer_(ioc),
      scratch_(std::make_unique_for_overwrite<char[]>(scratch_bytes)),
      rng_(std::random_device{}()) {}

chat_clients::~chat_clients() = default;

void chat_clients::start() {
    if (options_.share.count == 0) {
        return;
    }
    joins_.start();
    end_timer_.expires_at(options_.share.end);
    end_timer_.async_wait([this](boost::system::error_code ec) {
        if (!ec) {
            end_all();
        }
    });
}

void chat_clients::join(std::size_t i) {
    auto c = std::make_shared<client>(ioc_);
    c->id = options_.share.id(i);
    c->due = options_.share.join_time(i);
    c->sender = options_.share.ordinal(i) < options_.senders && !options_.token_secret.empty();
    // RFC 6455 §4.1: the key is 16 random bytes, base64: 21 characters of 6 random bits, one of
    // the 4 whose low 4 bits are 0 (the 16th byte's last 2 bits fall in the padding), "==".
    static constexpr std::string_view alphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    c->key.reserve(24);
    for (int k = 0; k < 21; ++k) {
        c->key.push_back(alphabet[rng_() % 64]);
    }
    c->key.push_back("AQgw"[rng_() % 4]);
    c->key.append("==");
    ++rec_.stats().chat.clients;
    clients_.push_back(c);

    c->timer.expires_after(connect_timeout);
    c->timer.async_wait([this, c](boost::system::error_code ec) {
        if (!ec && !c->upgraded && !c->stopped) {
            rec_.request("chat_join", c->due, clock_type::now(), 0, "timeout");
            stop(c, false);
        }
    });
    boost::system::error_code open_error;
    targets_.open(c->sock, c->id - 1, open_error);
    if (open_error) {
        rec_.request("chat_join", c->due, clock_type::now(), 0, "connect");
        stop(c, false);
        return;
    }
    c->sock.async_connect(targets_.of(c->id - 1), [this, c](boost::system::error_code ec) {
        if (c->stopped) {
            return;
        }
        if (ec) {
            rec_.request("chat_join", c->due, clock_type::now(), 0, "connect");
            stop(c, false);
            return;
        }
        c->connected = true;
        rec_.connections(1);
        boost::system::error_code ignored;
        c->sock.set_option(tcp::no_delay(true), ignored);
        c->sock.non_blocking(true, ignored);
        std::string target = fmt::format("/ws/broadcasts/{}", options_.broadcast);
        if (c->sender) {
            auto token =
                mint_user_token(options_.token_secret, fmt::format("stress-chat-{}", c->id),
                                fmt::format("chatter {}", c->id));
            if (!token) {
                rec_.request("chat_join", c->due, clock_type::now(), 0, "token");
                stop(c, false);
                return;
            }
            target += "?token=";
            target += *token; // base64url and '.': nothing to escape in a query
        }
        queue_frame(c, ws::client_handshake_request(options_.host_header, target, c->key));
        wait_read(c);
    });
}

void chat_clients::wait_read(const client_ptr& c) {
    c->sock.async_wait(tcp::socket::wait_read, [this, c](boost::system::error_code ec) {
        if (c->stopped) {
            return;
        }
        if (ec) {
            broken(c, "read");
            return;
        }
        on_readable(c);
    });
}

void chat_clients::on_readable(const client_ptr& c) {
    // Drain what the socket has into the loop's scratch buffer, then parse.
    for (;;) {
        boost::system::error_code ec;
        const auto n = c->sock.read_some(asio::buffer(scratch_.get(), scratch_bytes), ec);
        if (ec == asio::error::would_block) {
            break;
        }
        if (ec) {
            broken(c, ec == asio::error::eof ? "closed" : "read");
            return;
        }
        c->in.append(scratch_.get(), n);
        if (n < scratch_bytes) {
            break;
        }
    }
    if (!c->upgraded) {
        on_handshake(c);
    } else {
        on_frames(c);
    }
    if (!c->stopped) {
        wait_read(c);
    }
}

void chat_clients::on_handshake(const client_ptr& c) {
    const auto answer = ws::check_handshake_answer(c->in, c->key);
    if (answer.result.state == core::parse_state::need_more) {
        return;
    }
    if (answer.result.state == core::parse_state::error) {
        // A refusal (401 bad token, 404 unknown broadcast) says so in its status.
        rec_.request("chat_join", c->due, clock_type::now(), answer.status,
                     answer.status != 0 && answer.status != 101 ? "status" : "handshake");
        stop(c, false);
        return;
    }
    c->in.erase(0, answer.result.consumed);
    c->upgraded = true;
    c->timer.cancel();
    on_frames(c);
}

void chat_clients::on_frames(const client_ptr& c) {
    const auto r = c->reader.feed(
        core::bytes_view(reinterpret_cast<const std::uint8_t*>(c->in.data()), c->in.size()));
    c->in.erase(0, r.consumed);
    while (auto e = c->reader.next()) {
        if (c->stopped) {
            return;
        }
        switch (e->op) {
        case ws::opcode::text:
            on_text(c, e->payload);
            break;
        case ws::opcode::ping:
            queue_frame(c, ws::encode_frame(ws::opcode::pong, e->payload, ws::role::client,
                                            static_cast<std::uint32_t>(rng_())));
            break;
        case ws::opcode::close:
            // The server ended it (1008 too slow, 1001 going away...): kind by code.
            broken(c, fmt::format("close {}", e->code));
            return;
        default:
            break;
        }
    }
    if (r.state == core::parse_state::error) {
        broken(c, "protocol");
        return;
    }
    if (c->in.capacity() > 4 * scratch_bytes && c->in.size() < scratch_bytes) {
        c->in.shrink_to_fit();
    }
}

void chat_clients::on_text(const client_ptr& c, const std::string& payload) {
    auto& cs = rec_.stats().chat;
    // The room's messages are most of the traffic and begin {"type":"message","offset":N
    // (docs/API.md): read the stamp without building a JSON tree.
    if (payload.starts_with(R"({"type":"message")")) {
        ++cs.received;
        static constexpr std::string_view key = R"("text":")";
        const auto at = payload.find(key);
        if (at != std::string::npos) {
            if (const auto sent = stamped_time(std::string_view(payload).substr(at + key.size()))) {
                ++cs.delivered;
                cs.delivery.record(
                    static_cast<std::uint64_t>(std::max<std::int64_t>(0, unix_micros() - *sent)));
            }
        }
        return;
    }
    const auto j = nlohmann::json::parse(payload, nullptr, false);
    if (!j.is_object() || !j.contains("type") || !j["type"].is_string()) {
        ++cs.malformed;
        return;
    }
    const auto& type = j["type"].get_ref<const std::string&>();
    const auto text_of = [&](const char* k) {
        return j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : std::string();
    };
    if (type == "history") {
        if (!c->joined) {
            c->joined = true;
            ++cs.joined;
            if (clock_type::now() > options_.send_from) {
                ++cs.late_joins; // messages sent before now are in its history, not delivered
            }
            rec_.request("chat_join", c->due, clock_type::now(), 101, "");
            if (c->sender) {
                // Senders spread over the send interval (not all on the same tick), from the
                // time everyone has joined.
                const double interval = 1.0 / options_.send_rate;
                const double phase = std::fmod(static_cast<double>(c->id) * 0.6180339887, 1.0);
                c->next_send =
                    options_.send_from + std::chrono::duration_cast<clock_type::duration>(
                                             std::chrono::duration<double>(interval * phase));
                schedule_send(c);
            }
        }
    } else if (type == "ack") {
        on_answer(c, true, text_of("ref"), "");
    } else if (type == "error") {
        const auto ref = text_of("ref");
        if (!ref.empty()) {
            on_answer(c, false, ref, text_of("code"));
        } else {
            ++cs.errors[text_of("code")];
        }
    } else if (type == "skipped") {
        if (j.contains("count") && j["count"].is_number_unsigned()) {
            cs.skipped += j["count"].get<std::uint64_t>();
        }
    } else if (type == "message") {
        ++cs.received; // a message object whose keys came in another order
    }
}

void chat_clients::on_answer(const client_ptr& c, bool acked, std::string_view ref,
                             std::string_view code) {
    std::uint64_t seq = 0;
    if (std::from_chars(ref.data(), ref.data() + ref.size(), seq).ec != std::errc{}) {
        return; // not ours
    }
    const auto now = clock_type::now();
    // Answers come in send order; a send passed over was never answered.
    while (!c->pending.empty() && c->pending.front().first < seq) {
        rec_.request("chat_send", c->pending.front().second, now, 0, "unanswered");
        c->pending.pop_front();
    }
    if (c->pending.empty() || c->pending.front().first != seq) {
        return;
    }
    const auto due = c->pending.front().second;
    c->pending.pop_front();
    if (acked) {
        ++rec_.stats().chat.acked;
        rec_.request("chat_send", due, now, 200, "");
    } else {
        rec_.request("chat_send", due, now, 0, code.empty() ? "refused" : code);
    }
}

void chat_clients::schedule_send(const client_ptr& c) {
    if (c->next_send >= options_.send_until) {
        return;
    }
    c->timer.expires_at(c->next_send);
    c->timer.async_wait([this, c](boost::system::error_code ec) {
        if (!ec && !c->stopped) {
            send_message(c);
        }
    });
}

void chat_clients::send_message(const client_ptr& c) {
    const auto due = c->next_send;
    c->next_send += std::chrono::duration_cast<clock_type::duration>(
        std::chrono::duration<double>(1.0 / options_.send_rate));
    if (c->pending.size() >= max_pending) {
        // No answers for max_pending sends: the due one is not sent, and counts as such.
        rec_.request("chat_send", due, clock_type::now(), 0, "backlog");
        schedule_send(c);
        return;
    }
    const auto seq = c->seq++;
    auto text = fmt::format("{}{} {} {} ", text_tag, c->id, seq, unix_micros());
    if (text.size() < options_.message_bytes) {
        text.append(options_.message_bytes - text.size(), 'x');
    }
    // The text is digits, spaces and 'x': nothing to escape.
    const auto body = fmt::format(R"({{"type":"send","text":"{}","ref":"{}"}})", text, seq);
    c->pending.emplace_back(seq, due);
    ++rec_.stats().chat.sent;
    queue_frame(c, ws::encode_frame(ws::opcode::text, body, ws::role::client,
                                    static_cast<std::uint32_t>(rng_())));
    schedule_send(c);
}

void chat_clients::queue_frame(const client_ptr& c, std::string frame) {
    if (c->queued.size() + frame.size() > max_queued_bytes) {
        broken(c, "backpressure");
        return;
    }
    c->queued += frame;
    flush(c);
}

void chat_clients::flush(const client_ptr& c) {
    if (!c->writing.empty() || c->queued.empty() || c->stopped) {
        return;
    }
    std::swap(c->writing, c->queued);
    asio::async_write(c->sock, asio::buffer(c->writing),
                      [this, c](boost::system::error_code ec, std::size_t) {
                          if (c->stopped) {
                              return;
                          }
                          if (ec) {
                              broken(c, "write");
                              return;
                          }
                          c->writing.clear();
                          flush(c);
                      });
}

void chat_clients::broken(const client_ptr& c, std::string_view kind) {
    if (c->stopped) {
        return;
    }
    if (!c->upgraded) {
        rec_.request("chat_join", c->due, clock_type::now(), 0, kind);
    } else {
        auto& cs = rec_.stats().chat;
        ++cs.disconnects;
        ++cs.errors[std::string(kind)];
    }
    stop(c, false);
}

void chat_clients::stop(const client_ptr& c, bool say_goodbye) {
    if (c->stopped) {
        return;
    }
    c->stopped = true;
    if (c->connected) {
        if (say_goodbye && c->upgraded && c->writing.empty()) {
            // RFC 6455 §7.1.2: start the closing handshake; best effort, without waiting.
            const auto bye = ws::encode_close(ws::close_code::normal, "", ws::role::client,
                                              static_cast<std::uint32_t>(rng_()));
            boost::system::error_code ignored;
            c->sock.write_some(asio::buffer(bye), ignored);
        }
        rec_.connections(-1);
        c->connected = false;
    }
    boost::system::error_code ignored;
    c->sock.close(ignored);
    c->timer.cancel();
    for (const auto& [seq, due] : c->pending) {
        rec_.request("chat_send", due, clock_type::now(), 0, "unanswered");
    }
    c->pending.clear();
}

void chat_clients::end_all() {
    for (auto& c : clients_) {
        if (!c->stopped && !c->joined) {
            // Still connecting, or upgraded without a history: a join that never completed.
            rec_.request("chat_join", c->due, clock_type::now(), c->upgraded ? 101 : 0,
                         c->upgraded ? "history" : "unfinished");
        }
        stop(c, true);
    }
    clients_.clear();
}

} // namespace livehouse::stress
