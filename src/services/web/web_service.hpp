// The web pages: the broadcast list, the watch page (the same page for every id; its script
// reads the id from location.pathname) and their static files, all served from memory.
//
//   GET /               index.html  (lists broadcasts through the API)
//   GET /watch/{id}     watch.html  ({id} must be [a-z0-9]{1,64}, else 404)
//   GET /static/{file}  web/static/<file>, and hls.min.js from node_modules (see
//                       static_assets.hpp for the whitelist)
//
// Caching: pages "no-cache" (revalidated by ETag, so a deploy shows at once), static files
// "public, max-age=300". Pages carry a Content-Security-Policy that allows scripts only from
// this origin and media/playlists from anywhere (hls_url may name a CDN).
#pragma once

#include "net/router.hpp"
#include "services/service_context.hpp"
#include "services/web/static_assets.hpp"

namespace livehouse::services::web {

/// Loads the assets from ctx.web_dir (blocking, start-up) and adds the routes.
void register_routes(net::router& router, service_context& ctx);

/// Adds the routes over already-loaded assets (tests build them in memory).
void register_routes(net::router& router, static_assets assets);

} // namespace livehouse::services::web
