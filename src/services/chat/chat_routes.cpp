// chat_routes: the WebSocket upgrade decision and the chat REST endpoints.
#include "services/chat/chat_routes.hpp"

#include "codec/chat/client_message.hpp"
#include "services/api/admin_auth.hpp"
#include "services/api/http_helpers.hpp"
#include "services/auth/user_tokens.hpp"
#include "services/chat/chat_archive.hpp"
#include "services/chat/chat_connection.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

namespace livehouse::services::chat {

namespace {

using json = nlohmann::json;
using status = net::http::status;
using verb = net::http::verb;
using api::ok_json;
using api::parse_u64;
using api::query_of;
using api::query_param;
using api::unavailable;

std::optional<double> parse_seconds(std::string_view s) {
    if (s.empty() || s.size() > 32) {
        return std::nullopt;
    }
    double v = 0;
    const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || ptr != s.data() + s.size() || !std::isfinite(v) || v < 0) {
        return std::nullopt;
    }
    return v;
}

net::response bad_request(std::string_view message) {
    return net::json_error(status::bad_request, message);
}

/// A JSON object body, or the 400 that says why not.
std::variant<json, net::response> object_body(const net::request& req) {
    if (req.body().size() > max_body_bytes) {
        return net::json_error(status::payload_too_large, "body: larger than 16 KiB");
    }
    json body = json::parse(req.body(), nullptr, false);
    if (body.is_discarded()) {
        return bad_request("body: not valid JSON");
    }
    if (!body.is_object()) {
        return bad_request("body: must be a JSON object");
    }
    return body;
}

bool printable_key(std::string_view k) {
    if (k.empty() || k.size() > 64) {
        return false;
    }
    for (char c : k) {
        if (c < 0x21 || c > 0x7e) {
            return false;
        }
    }
    return true;
}

struct routes {
    std::shared_ptr<chat_service> svc;
    std::string admin_token;

    net::ws_decision upgrade(const net::request&, const net::route_params& p,
                             std::string_view query, boost::asio::any_io_executor exec) const {
        const auto& id = p.at("id");
        if (svc->access(id) == room_access::unknown) {
            return net::json_error(status::not_found, "broadcast not found");
        }
        std::optional<auth::user> user;
        if (auto token = query_param(query, "token"); token && !token->empty()) {
            if (svc->tokens() == nullptr) {
                return net::json_error(status::unauthorized, "user tokens are not configured");
            }
            auto u = svc->tokens()->verify(*token);
            if (!u) {
                return api::unauthorized("token: " + u.err().message);
            }
            user = std::move(*u);
        }
        std::optional<std::uint64_t> since;
        if (auto s = query_param(query, "since")) {
            since = parse_u64(*s);
            if (!since) {
                return bad_request("since: must be a log offset (an unsigned integer)");
            }
        }
        return std::make_shared<chat_connection>(svc, id, std::move(user), since, std::move(exec));
    }

    void replay(const net::request& req, const net::route_params& p, net::responder respond) const {
        const auto id = p.at("id");
        if (svc->access(id) == room_access::unknown) {
            respond(net::json_error(status::not_found, "broadcast not found"));
            return;
        }
        const auto query = query_of(req);
        double from = 0;
        double to = std::numeric_limits<double>::infinity();
        if (auto f = query_param(query, "from")) {
            auto v = parse_seconds(*f);
            if (!v) {
                respond(bad_request("from: must be seconds >= 0"));
                return;
            }
            from = *v;
        }
        if (auto t = query_param(query, "to")) {
            auto v = parse_seconds(*t);
            if (!v) {
                respond(bad_request("to: must be seconds >= 0"));
                return;
            }
            to = *v;
        }
        if (to <= from) {
            respond(bad_request("to: must be greater than from"));
            return;
        }
        const auto path = std::filesystem::path(svc->data_dir()) / "vod" / id / "chat.json";
        svc->io()([svc = svc, id, path, from, to, respond]() {
            std::error_code ec;
            if (std::filesystem::is_regular_file(path, ec)) {
                std::ifstream in(path, std::ios::binary);
                std::ostringstream text;
                text << in.rdbuf();
                auto entries = archive_entries(text.str());
                if (!entries) {
                    respond(net::json_error(status::internal_server_error, entries.err().message));
                    return;
                }
                std::vector<std::string_view> views(entries->begin(), entries->end());
                bool truncated = false;
                auto window = replay_window(views, from, to, &truncated);
                auto r = ok_json(status::ok,
                                 render_replay(id, from, to, "archive", window, truncated), true);
                // An archive does not change: a CDN may keep windows of it.
                r.cache_control = "public, max-age=60";
                respond(std::move(r));
                return;
            }
            read_whole_log(svc->log(), svc->log_key(id), svc->config().max_log,
                           [id, from, to, respond](core::result<state::log_slice> log) {
                               if (!log) {
                                   respond(unavailable("chat log unavailable"));
                                   return;
                               }
                               std::vector<std::string_view> views;
                               views.reserve(log->entries.size());
                               for (const auto& e : log->entries) {
                                   if (e.payload) {
                                       views.emplace_back(*e.payload);
                                   }
                               }
                               bool truncated = false;
                               auto window = replay_window(views, from, to, &truncated);
                               auto r = ok_json(
                                   status::ok,
                                   render_replay(id, from, to, "live", window, truncated), true);
                               r.cache_control = "public, max-age=1";
                               respond(std::move(r));
                           });
        });
    }

    /// A moderator's call on a room: the broadcast id, or nullopt once 401 (no admin token) or
    /// 404 (no such room) is answered.
    std::optional<std::string> admin_room(const net::request& req, const net::route_params& p,
                                          const net::responder& respond) const {
        if (!api::is_admin(req, admin_token)) {
            respond(api::unauthorized("admin token required"));
            return std::nullopt;
        }
        auto id = p.at("id");
        if (svc->access(id) == room_access::unknown) {
            respond(net::json_error(status::not_found, "broadcast not found"));
            return std::nullopt;
        }
        return id;
    }

    void delete_message(const net::request& req, const net::route_params& p,
                        net::responder respond) const {
        const auto room = admin_room(req, p, respond);
        if (!room) {
            return;
        }
        const auto& id = *room;
        auto target = parse_u64(p.at("offset"));
        if (!target || *target == 0) {
            respond(bad_request("offset: must be a message offset (1 or more)"));
            return;
        }
        svc->post_delete(id, *target, [respond, t = *target](core::result<state::log_entry> r) {
            if (!r) {
                respond(unavailable("chat log unavailable"));
                return;
            }
            respond(ok_json(status::ok, fmt::format(R"({{"target":{},"offset":{}}})", t, r->offset),
                            false));
        });
    }

    void mute(const net::request& req, const net::route_params& p, net::responder respond) const {
        const auto room = admin_room(req, p, respond);
        if (!room) {
            return;
        }
        const auto& id = *room;
        auto body = object_body(req);
        if (auto* r = std::get_if<net::response>(&body)) {
            respond(std::move(*r));
            return;
        }
        const auto& b = std::get<json>(body);
        auto user = b.find("user_id");
        if (user == b.end() || !user->is_string() || !printable_key(user->get<std::string>())) {
            respond(bad_request("user_id: must be a user id (1..64 printable characters)"));
            return;
        }
        const auto user_id = user->get<std::string>();
        svc->mute(id, user_id, [respond, user_id](core::result<bool> r) {
            if (!r) {
                respond(unavailable("chat state unavailable"));
                return;
            }
            respond(ok_json(status::ok,
                            fmt::format(R"({{"user_id":{},"muted":true,"new":{}}})",
                                        codec::chat::json_string(user_id), *r),
                            false));
        });
    }

    void unmute(const net::request& req, const net::route_params& p, net::responder respond) const {
        const auto room = admin_room(req, p, respond);
        if (!room) {
            return;
        }
        const auto& id = *room;
        const auto user_id = std::string(p.at("user_id"));
        if (!printable_key(user_id)) {
            respond(bad_request("user_id: must be a user id (1..64 printable characters)"));
            return;
        }
        svc->unmute(id, user_id, [respond, user_id](core::result<bool> r) {
            if (!r) {
                respond(unavailable("chat state unavailable"));
                return;
            }
            respond(ok_json(status::ok,
                            fmt::format(R"({{"user_id":{},"muted":false,"was_muted":{}}})",
                                        codec::chat::json_string(user_id), *r),
                            false));
        });
    }

    void paid_message(const net::request& req, const net::route_params& p,
                      net::responder respond) const {
        const auto id = p.at("id");
        const auto access = svc->access(id);
        if (access == room_access::unknown) {
            respond(net::json_error(status::not_found, "broadcast not found"));
            return;
        }
        if (svc->tokens() == nullptr) {
            respond(api::unauthorized("user tokens are not configured"));
            return;
        }
        auto user = svc->tokens()->from_authorization(req[net::http::field::authorization]);
        if (!user) {
            respond(api::unauthorized("a user token is required (Authorization: Bearer)"));
            return;
        }
        const auto key = req["Idempotency-Key"];
        if (!printable_key(key)) {
            respond(bad_request("Idempotency-Key: header required (1..64 printable characters)"));
            return;
        }
        if (access == room_access::ended) {
            respond(net::json_error(status::conflict, "the broadcast has ended"));
            return;
        }
        auto body = object_body(req);
        if (auto* r = std::get_if<net::response>(&body)) {
            respond(std::move(*r));
            return;
        }
        const auto& b = std::get<json>(body);
        // The text goes through the same checks as a chat message.
        json as_message = {{"type", "send"}, {"text", b.value("text", json())}};
        if (!b.contains("text") || !b["text"].is_string()) {
            respond(bad_request("text: required string"));
            return;
        }
        auto parsed = codec::chat::parse_client_message(
            as_message.dump(-1, ' ', false, json::error_handler_t::replace),
            {.max_message_bytes = max_body_bytes, .max_text_chars = svc->config().max_text_chars});
        if (auto* no = std::get_if<codec::chat::refusal>(&parsed)) {
            respond(bad_request("text: " + no->message));
            return;
        }
        auto amount = b.find("amount");
        if (amount == b.end() || !amount->is_number_integer() || amount->get<std::int64_t>() < 1 ||
            amount->get<std::int64_t>() > max_paid_amount) {
            respond(bad_request(fmt::format(
                "amount: must be an integer 1..{} (smallest currency unit)", max_paid_amount)));
            return;
        }
        auto currency = b.find("currency");
        const std::string code =
            currency != b.end() && currency->is_string() ? currency->get<std::string>() : "";
        if (code.size() != 3 ||
            !std::all_of(code.begin(), code.end(), [](char c) { return c >= 'A' && c <= 'Z'; })) {
            respond(bad_request("currency: must be an ISO 4217 code (3 capital letters)"));
            return;
        }
        if (svc->banned_word(std::get<codec::chat::client_command>(parsed).text)) {
            respond(bad_request("text: contains a word that is not allowed here"));
            return;
        }
        codec::chat::message_fields m;
        m.user = {user->id, user->name};
        m.text = std::get<codec::chat::client_command>(parsed).text;
        m.paid_amount = amount->get<std::int64_t>();
        m.paid_currency = code;
        state::purchase_record purchase;
        purchase.id = fmt::format("chat-paid|{}|{}|{}", id, user->id, key);
        purchase.user_id = user->id;
        purchase.item = "chat-paid|" + id;
        purchase.quantity = 1;
        purchase.amount = *m.paid_amount;
        purchase.time_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
        // 1. The payment record first: it is what must never be lost or doubled.
        svc->records().put_purchase(purchase, [svc = svc, id, m, purchase,
                                               respond](core::result<bool> stored) mutable {
            if (!stored) {
                const bool down = stored.err().message.starts_with(state::records_unavailable);
                respond(down
                            ? unavailable("payments unavailable")
                            : net::json_error(status::internal_server_error, stored.err().message));
                return;
            }
            // 2. Posted once per purchase: the set remembers which purchases have their
            // message, so a retry after a crash between 1 and 2 still posts (exactly once).
            svc->sets().add(
                svc->paid_key(id), purchase.id,
                [svc, id, m = std::move(m), purchase, respond](core::result<bool> first) mutable {
                    if (!first) {
                        respond(unavailable("chat state unavailable"));
                        return;
                    }
                    if (!*first) {
                        respond(ok_json(status::ok,
                                        fmt::format(R"({{"purchase_id":{},"duplicate":true}})",
                                                    codec::chat::json_string(purchase.id)),
                                        false));
                        return;
                    }
                    m.id = svc->next_message_id();
                    m.time_ms = purchase.time_ms;
                    m.position_s = svc->position(id);
                    svc->post_message(id, m, [purchase, respond](core::result<state::log_entry> r) {
                        if (!r) {
                            respond(unavailable("chat log unavailable"));
                            return;
                        }
                        respond(ok_json(
                            status::created,
                            fmt::format(R"({{"purchase_id":{},"duplicate":false,"offset":{}}})",
                                        codec::chat::json_string(purchase.id), r->offset),
                            false));
                    });
                });
        });
    }
};

} // namespace

void register_routes(net::router& router, std::shared_ptr<chat_service> service,
                     std::string admin_token) {
    auto r = std::make_shared<routes>(routes{std::move(service), std::move(admin_token)});
    router.add_websocket(
        "/ws/broadcasts/{id}",
        [r](const net::request& req, const net::route_params& p, std::string_view query,
            boost::asio::any_io_executor exec) {
            return r->upgrade(req, p, query, std::move(exec));
        },
        "chat.ws");
    router.add(
        verb::get, "/api/v1/broadcasts/{id}/chat",
        [r](const net::request& req, const net::route_params& p, net::responder respond) {
            r->replay(req, p, std::move(respond));
        },
        "chat.replay");
    router.add(
        verb::delete_, "/api/v1/broadcasts/{id}/chat/messages/{offset}",
        [r](const net::request& req, const net::route_params& p, net::responder respond) {
            r->delete_message(req, p, std::move(respond));
        },
        "chat.delete");
    router.add(
        verb::post, "/api/v1/broadcasts/{id}/chat/mutes",
        [r](const net::request& req, const net::route_params& p, net::responder respond) {
            r->mute(req, p, std::move(respond));
        },
        "chat.mute");
    router.add(
        verb::delete_, "/api/v1/broadcasts/{id}/chat/mutes/{user_id}",
        [r](const net::request& req, const net::route_params& p, net::responder respond) {
            r->unmute(req, p, std::move(respond));
        },
        "chat.unmute");
    router.add(
        verb::post, "/api/v1/broadcasts/{id}/paid-messages",
        [r](const net::request& req, const net::route_params& p, net::responder respond) {
            r->paid_message(req, p, std::move(respond));
        },
        "chat.paid");
}

} // namespace livehouse::services::chat
