#include "services/web/web_service.hpp"

#include "services/origin/path_rules.hpp"

#include <memory>
#include <string>

namespace livehouse::services::web {

namespace {

using net::http::status;

constexpr std::string_view page_cache = "no-cache";
constexpr std::string_view static_cache = "public, max-age=300";

// Scripts and styles only from this origin; playlists, segments and API calls may go to any
// host (the API's hls_url can point at a CDN); hls.js runs its transmuxer in a blob: worker
// and feeds the video element through a blob: MediaSource URL.
constexpr std::string_view page_csp =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src *; media-src * blob:; worker-src 'self' blob:; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'self'";

net::response not_found(std::string_view message) {
    auto r = net::json_error(status::not_found, message);
    r.cache_control = "max-age=1";
    return r;
}

net::response asset_response(const static_asset& a, std::string_view cache_control) {
    net::response r;
    r.content_type = a.content_type;
    r.cache_control = cache_control;
    r.etag = a.etag;
    r.body = a.data;
    r.headers.emplace_back("X-Content-Type-Options", "nosniff");
    return r;
}

net::response page_response(const static_asset& a) {
    auto r = asset_response(a, page_cache);
    r.headers.emplace_back("Content-Security-Policy", page_csp);
    r.headers.emplace_back("Referrer-Policy", "same-origin");
    return r;
}

} // namespace

void register_routes(net::router& router, static_assets assets) {
    const auto shared = std::make_shared<const static_assets>(std::move(assets));
    using net::http::verb;
    router.add(
        verb::get, "/",
        [shared](const net::request&, const net::route_params&, const net::responder& respond) {
            const auto* page = shared->page("index.html");
            respond(page ? page_response(*page) : not_found("no index page"));
        },
        "web.index");
    router.add(
        verb::get, "/watch/{id}",
        [shared](const net::request&, const net::route_params& params,
                 const net::responder& respond) {
            const auto it = params.find("id");
            const auto* page = shared->page("watch.html");
            if (it == params.end() || !origin::is_valid_broadcast_id(it->second) || !page) {
                respond(not_found("not found"));
                return;
            }
            respond(page_response(*page));
        },
        "web.watch");
    router.add(
        verb::get, "/static/{file}",
        [shared](const net::request&, const net::route_params& params,
                 const net::responder& respond) {
            const auto it = params.find("file");
            const static_asset* a = nullptr;
            if (it != params.end() && is_valid_static_name(it->second)) {
                a = shared->file(it->second);
            }
            respond(a ? asset_response(*a, static_cache) : not_found("not found"));
        },
        "web.static");
}

void register_routes(net::router& router, service_context& ctx) {
    register_routes(router, static_assets::load(ctx.web_dir));
}

} // namespace livehouse::services::web
