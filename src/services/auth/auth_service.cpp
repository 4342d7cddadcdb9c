#include "services/auth/auth_service.hpp"

#include "services/api/admin_auth.hpp"
#include "services/api/broadcast_json.hpp"
#include "services/auth/user_tokens.hpp"

#include <cassert>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

namespace livehouse::services::auth {

namespace {

using json = nlohmann::json;
using net::http::status;

net::response no_store(net::response r) {
    r.cache_control = "no-store";
    r.cors = true;
    return r;
}

net::response error(status st, std::string_view message) {
    return no_store(net::json_error(st, message));
}

std::string dump(const json& j) {
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string expires_at(const user& u) {
    return api::format_rfc3339(std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(
            std::chrono::seconds(u.expires_at))));
}

/// The client's address (the socket's peer, from net), the per-address bucket's key.
std::string remote_address(const net::route_params& params) {
    const auto it = params.find(net::remote_address_param);
    return it == params.end() ? std::string() : it->second;
}

class auth_service {
  public:
    auth_service(service_context& ctx, auth_options options)
        : ctx_(ctx), allow_guests_(options.allow_guests), per_address_(options.guests_per_address),
          overall_(options.guests_overall) {}

    void guest(const net::request& req, const net::route_params& params,
               const net::responder& respond) {
        if (!allow_guests_) {
            respond(error(status::forbidden, "guest accounts are disabled"));
            return;
        }
        if (req.body().size() > max_body_bytes) {
            respond(error(status::payload_too_large, "body: larger than 4 KiB"));
            return;
        }
        const json body = json::parse(req.body(), nullptr, false);
        if (body.is_discarded()) {
            respond(error(status::bad_request, "body: not valid JSON"));
            return;
        }
        if (!body.is_object()) {
            respond(error(status::bad_request, "body: must be a JSON object"));
            return;
        }
        const auto name = body.find("name");
        if (name == body.end()) {
            respond(error(status::bad_request, "name: required"));
            return;
        }
        if (!name->is_string()) {
            respond(error(status::bad_request, "name: must be a string"));
            return;
        }
        // Rate limits after validation: a malformed request costs the client nothing but
        // also gets nothing.
        const auto now = ctx_.clock.now();
        std::chrono::seconds retry{0};
        const auto address = remote_address(params);
        if ((!address.empty() && !per_address_.try_acquire(address, now, &retry)) ||
            !overall_.try_acquire("", now, &retry)) {
            auto r = error(status::too_many_requests, "too many guest accounts; retry later");
            r.headers.emplace_back("Retry-After", std::to_string(retry.count()));
            respond(std::move(r));
            return;
        }
        auto minted = ctx_.user_tokens->mint_guest(name->get_ref<const std::string&>());
        if (!minted) {
            const bool bad_name = minted.err().message.starts_with("name:");
            respond(error(bad_name ? status::bad_request : status::service_unavailable,
                          minted.err().message));
            return;
        }
        json out = json::object();
        out["token"] = minted->token;
        out["user"] = {{"id", minted->who.id}, {"name", minted->who.name}};
        out["expires_at"] = expires_at(minted->who);
        respond(no_store(net::json_response(status::created, dump(out))));
    }

    void me(const net::request& req, const net::route_params&, const net::responder& respond) {
        const auto it = req.find(net::http::field::authorization);
        const auto token =
            it == req.end()
                ? std::string_view()
                : api::bearer_token(std::string_view(it->value().data(), it->value().size()));
        if (token.empty()) {
            respond(no_store(api::unauthorized("user token required")));
            return;
        }
        auto u = ctx_.user_tokens->verify(token);
        if (!u) {
            // The reason helps a site debug the tokens it mints; it never includes the secret.
            respond(no_store(api::unauthorized(u.err().message)));
            return;
        }
        json out = json::object();
        out["user"] = {{"id", u->id}, {"name", u->name}, {"role", u->role}};
        out["expires_at"] = expires_at(*u);
        respond(no_store(net::json_response(status::ok, dump(out))));
    }

  private:
    service_context& ctx_;
    bool allow_guests_;
    core::rate_limiter per_address_;
    core::rate_limiter overall_;
};

} // namespace

void register_routes(net::router& router, service_context& ctx, auth_options options) {
    assert(ctx.user_tokens != nullptr);
    auto svc = std::make_shared<auth_service>(ctx, options);
    using net::http::verb;
    router.add(
        verb::post, "/api/v1/auth/guest",
        [svc](const net::request& req, const net::route_params& p, const net::responder& r) {
            svc->guest(req, p, r);
        },
        "api.auth.guest");
    router.add(
        verb::get, "/api/v1/auth/me",
        [svc](const net::request& req, const net::route_params& p, const net::responder& r) {
            svc->me(req, p, r);
        },
        "api.auth.me");
}

} // namespace livehouse::services::auth
