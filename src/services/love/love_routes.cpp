// love routes (see love_routes.hpp).
#include "services/love/love_routes.hpp"

#include "codec/chat/server_messages.hpp"
#include "codec/love/love_batch.hpp"
#include "services/api/admin_auth.hpp"
#include "services/api/http_helpers.hpp"
#include "services/auth/user_tokens.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace livehouse::services::love {

namespace {

using status = net::http::status;
using verb = net::http::verb;
using codec::chat::json_string;

struct routes {
    std::shared_ptr<love_service> svc;
    std::shared_ptr<const auth::user_tokens> tokens;

    void post(const net::request& req, const net::route_params& p,
              const net::responder& respond) const {
        const auto user = tokens ? tokens->from_authorization(req[net::http::field::authorization])
                                 : std::nullopt;
        if (!user) {
            respond(api::unauthorized("a user token is required (Authorization: Bearer)"));
            return;
        }
        auto parsed = codec::love::parse_love_batch(req.body());
        if (auto* f = std::get_if<codec::love::batch_refusal>(&parsed)) {
            respond(net::json_error(status::bad_request, f->message));
            return;
        }
        auto& batch = std::get<codec::love::love_batch>(parsed);
        const auto id = p.at("id");
        svc->submit(id, viewer{user->id, user->name}, std::move(batch.batch_id), batch.taps,
                    [respond](submit_result r) {
                        using o = submit_result::outcome;
                        switch (r.result) {
                        case o::not_found:
                            respond(net::json_error(status::not_found, "broadcast not found"));
                            return;
                        case o::not_live:
                            respond(net::json_error(status::conflict,
                                                    "the broadcast is not live: love is counted "
                                                    "only while it is"));
                            return;
                        case o::busy:
                            respond(api::unavailable("too many love batches pending; retry"));
                            return;
                        case o::unavailable:
                            respond(api::unavailable("love counts unavailable; retry"));
                            return;
                        case o::counted:
                        case o::duplicate:
                            break;
                        }
                        respond(api::ok_json(
                            status::ok,
                            fmt::format(R"({{"accepted":{},"duplicate":{},"total":{},)"
                                        R"("trimmed":{{"out_of_range":{},"over_batch":{},)"
                                        R"("over_rate":{}}}}})",
                                        r.accepted, r.result == o::duplicate, r.total,
                                        r.why.out_of_range, r.why.over_batch, r.why.over_rate),
                            true));
                    });
    }

    void total(const net::request&, const net::route_params& p,
               const net::responder& respond) const {
        const auto id = p.at("id");
        if (!svc->knows(id)) {
            respond(net::json_error(status::not_found, "broadcast not found"));
            return;
        }
        svc->total(id, [respond](core::result<std::int64_t> r) {
            if (!r) {
                respond(api::unavailable("love counts unavailable; retry"));
                return;
            }
            auto res = net::json_response(status::ok, fmt::format(R"({{"total":{}}})", *r));
            // Every viewer polls it: a CDN may keep it for a second.
            res.cache_control = "public, max-age=1";
            res.cors = true;
            respond(std::move(res));
        });
    }

    void ranking(const net::request& req, const net::route_params& p,
                 const net::responder& respond) const {
        if (!svc->knows(p.at("id"))) {
            respond(net::json_error(status::not_found, "broadcast not found"));
            return;
        }
        std::size_t limit = 10;
        if (const auto v = api::query_param(api::query_of(req), "limit")) {
            const auto n = api::parse_u64(*v);
            if (!n || *n < 1 || *n > svc->config().max_ranking_limit) {
                respond(net::json_error(
                    status::bad_request,
                    fmt::format("limit: must be 1..{}", svc->config().max_ranking_limit)));
                return;
            }
            limit = static_cast<std::size_t>(*n);
        }
        svc->ranking(p.at("id"), limit, [respond](core::result<std::vector<ranked_viewer>> r) {
            if (!r) {
                respond(api::unavailable("love counts unavailable; retry"));
                return;
            }
            std::string body = R"({"ranking":[)";
            for (std::size_t i = 0; i < r->size(); ++i) {
                const auto& v = (*r)[i];
                body += fmt::format(R"({}{{"user":{{"id":{},"name":{}}},"taps":{}}})",
                                    i == 0 ? "" : ",", json_string(v.who.id),
                                    json_string(v.who.name), v.taps);
            }
            body += "]}";
            auto res = net::json_response(status::ok, std::move(body));
            res.cache_control = "public, max-age=1";
            res.cors = true;
            respond(std::move(res));
        });
    }
};

void timeline_route(const std::shared_ptr<love_service>& svc, const net::route_params& p,
                    const net::responder& respond) {
    const auto id = p.at("id");
    if (!svc->knows(id)) {
        respond(net::json_error(status::not_found, "broadcast not found"));
        return;
    }
    svc->timeline(id, [respond](core::result<state::love_timeline> r) {
        if (!r) {
            respond(api::unavailable("love counts unavailable; retry"));
            return;
        }
        auto res = net::json_response(status::ok, "{\"timeline\":" + render_timeline(*r) + "}");
        res.cache_control = "public, max-age=1";
        res.cors = true;
        respond(std::move(res));
    });
}
} // namespace

void register_routes(net::router& router, std::shared_ptr<love_service> service,
                     std::shared_ptr<const auth::user_tokens> tokens) {
    auto r = std::make_shared<routes>(routes{std::move(service), std::move(tokens)});
    router.add(
        verb::post, "/api/v1/broadcasts/{id}/love",
        [r](const net::request& req, const net::route_params& p, net::responder respond) {
            r->post(req, p, respond);
        },
        "love.post");
    router.add(
        verb::get, "/api/v1/broadcasts/{id}/love",
        [r](const net::request& req, const net::route_params& p, net::responder respond) {
            r->total(req, p, respond);
        },
        "love.total");
    router.add(
        verb::get, "/api/v1/broadcasts/{id}/love/ranking",
        [r](const net::request& req, const net::route_params& p, net::responder respond) {
            r->ranking(req, p, respond);
        },
        "love.ranking");
    router.add(
        verb::get, "/api/v1/broadcasts/{id}/love/timeline",
        [svc = r->svc](const net::request&, const net::route_params& p, net::responder respond) {
            timeline_route(svc, p, respond);
        },
        "love.timeline");
}

} // namespace livehouse::services::love
