#include "services/api/api_service.hpp"

#include "services/api/admin_auth.hpp"
#include "services/api/broadcast_json.hpp"
#include "services/api/public_urls.hpp"
#include "services/origin/path_rules.hpp"

#include <algorithm>
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace livehouse::services::api {

namespace {

using json = nlohmann::json;
using net::http::status;

// Public reads may be cached for a second by a CDN or the browser; anything that carries the
// stream key must not be stored anywhere. Both vary on Authorization because the body does.
constexpr std::string_view public_cache = "public, max-age=1";
constexpr std::string_view private_cache = "private, no-store";

/// Serializes without throwing: titles are valid UTF-8 (the parser checked), but records
/// restored from a store might not be, so invalid sequences are replaced rather than thrown.
std::string dump(const json& j) {
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

net::response json_ok(status st, const json& j, bool admin) {
    auto r = net::json_response(st, dump(j));
    r.cache_control = admin ? private_cache : public_cache;
    r.cors = !admin;
    r.headers.emplace_back("Vary", "Authorization");
    return r;
}

net::response not_found() {
    return net::json_error(status::not_found, "broadcast not found");
}

net::response bad_request(std::string_view message) {
    return net::json_error(status::bad_request, message);
}

/// Number of Unicode code points in valid UTF-8 (counts every byte that is not a continuation
/// byte 10xxxxxx).
std::size_t utf8_length(std::string_view s) {
    std::size_t n = 0;
    for (char c : s) {
        if ((static_cast<unsigned char>(c) & 0xC0U) != 0x80U) {
            ++n;
        }
    }
    return n;
}

bool is_blank(std::string_view s) {
    return s.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

class api_service {
  public:
    explicit api_service(service_context& ctx) : ctx_(ctx), urls_(ctx) {}

    void create(const net::request& req, const net::route_params&, const net::responder& respond) {
        if (!is_admin(req, ctx_.admin_token)) {
            respond(unauthorized("admin token required"));
            return;
        }
        if (req.body().size() > max_body_bytes) {
            respond(net::json_error(status::payload_too_large, "body: larger than 16 KiB"));
            return;
        }
        // Exceptions off: a malformed (or non-UTF-8) body yields a discarded value, not a throw.
        const json body = json::parse(req.body(), nullptr, false);
        if (body.is_discarded()) {
            respond(bad_request("body: not valid JSON"));
            return;
        }
        if (!body.is_object()) {
            respond(bad_request("body: must be a JSON object"));
            return;
        }
        const auto title_it = body.find("title");
        if (title_it == body.end()) {
            respond(bad_request("title: required"));
            return;
        }
        if (!title_it->is_string()) {
            respond(bad_request("title: must be a string"));
            return;
        }
        const auto& title = title_it->get_ref<const std::string&>();
        const auto length = utf8_length(title);
        if (length == 0 || is_blank(title)) {
            respond(bad_request("title: must not be empty"));
            return;
        }
        if (length > max_title_length) {
            respond(bad_request("title: longer than 200 characters"));
            return;
        }
        const auto b = ctx_.registry.create(title);
        if (!b) {
            respond(net::json_error(status::service_unavailable, "broadcast limit reached"));
            return;
        }
        auto r = json_ok(status::created, broadcast_json(b->record(), urls_, true), true);
        r.headers.emplace_back("Location", "/api/v1/broadcasts/" + b->id());
        respond(std::move(r));
    }

    void list(const net::request& req, const net::route_params&, const net::responder& respond) {
        const bool admin = is_admin(req, ctx_.admin_token);
        json items = json::array();
        const auto all = ctx_.registry.list();
        // Live first, so the cap drops the oldest ended broadcasts.
        const auto n = std::min(all.size(), max_list_items);
        for (std::size_t i = 0; i < n; ++i) {
            items.push_back(broadcast_json(all[i]->record(), urls_, admin));
        }
        json j = json::object();
        j["broadcasts"] = std::move(items);
        respond(json_ok(status::ok, j, admin));
    }

    void get(const net::request& req, const net::route_params& params,
             const net::responder& respond) {
        const auto b = find(params);
        if (!b) {
            respond(not_found());
            return;
        }
        const bool admin = is_admin(req, ctx_.admin_token);
        respond(json_ok(status::ok, broadcast_json(b->record(), urls_, admin), admin));
    }

    void end(const net::request& req, const net::route_params& params,
             const net::responder& respond) {
        if (!is_admin(req, ctx_.admin_token)) {
            respond(unauthorized("admin token required"));
            return;
        }
        const auto b = find(params);
        if (!b) {
            respond(not_found());
            return;
        }
        // Idempotent: ending an ended broadcast answers the same object.
        ctx_.registry.end(b->id());
        respond(json_ok(status::ok, broadcast_json(b->record(), urls_, true), true));
    }

    // The hot endpoint: thousands of players poll it every ~2 s. It reads only the immutable
    // snapshot (one atomic load), renders into one reserved string and shares it as the body.
    void status_doc(const net::request&, const net::route_params& params,
                    const net::responder& respond) {
        const auto b = find(params);
        if (!b) {
            auto r = not_found();
            r.cache_control = "public, max-age=1";
            r.cors = true;
            respond(std::move(r));
            return;
        }
        const auto snap = b->snapshot();
        // updated_at: while segments flow, the end of the newest one (from the snapshot, no
        // lock). Otherwise the record's last transition: ended_at, else started_at, else
        // created_at (idle, or live before its first segment closed). record() takes the
        // broadcast's lock and copies the record, which only the not-streaming states pay.
        std::optional<std::chrono::system_clock::time_point> updated_at;
        if (snap->status != media::broadcast_status::ended) {
            updated_at = snapshot_updated_at(*snap);
        }
        if (!updated_at) {
            const auto rec = b->record();
            updated_at =
                rec.ended_at ? rec.ended_at : (rec.started_at ? rec.started_at : rec.created_at);
        }
        net::response r;
        r.status = status::ok;
        r.content_type = "application/json";
        r.cache_control = "public, max-age=1";
        r.cors = true;
        r.body = std::make_shared<const std::string>(render_status(b->id(), *snap, updated_at));
        respond(std::move(r));
    }

  private:
    std::shared_ptr<media::broadcast> find(const net::route_params& params) const {
        const auto it = params.find("id");
        if (it == params.end() || !origin::is_valid_broadcast_id(it->second)) {
            return nullptr;
        }
        return ctx_.registry.find(it->second);
    }

    service_context& ctx_;
    public_urls urls_;
};

} // namespace

void register_routes(net::router& router, service_context& ctx) {
    auto svc = std::make_shared<api_service>(ctx);
    auto bind = [svc](void (api_service::*fn)(const net::request&, const net::route_params&,
                                              const net::responder&)) -> net::handler {
        return [svc, fn](const net::request& req, const net::route_params& params,
                         const net::responder& respond) { ((*svc).*fn)(req, params, respond); };
    };
    using net::http::verb;
    router.add(verb::post, "/api/v1/broadcasts", bind(&api_service::create),
               "api.broadcasts.create");
    router.add(verb::get, "/api/v1/broadcasts", bind(&api_service::list), "api.broadcasts.list");
    router.add(verb::get, "/api/v1/broadcasts/{id}", bind(&api_service::get), "api.broadcasts.get");
    router.add(verb::delete_, "/api/v1/broadcasts/{id}", bind(&api_service::end),
               "api.broadcasts.end");
    router.add(verb::get, "/api/v1/broadcasts/{id}/status", bind(&api_service::status_doc),
               "api.broadcasts.status");
}

} // namespace livehouse::services::api
