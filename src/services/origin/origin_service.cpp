#include "services/origin/origin_service.hpp"

#include "services/api/public_urls.hpp"
#include "services/origin/file_cache.hpp"
#include "services/origin/file_reader.hpp"
#include "services/origin/path_rules.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <memory>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <string>

namespace livehouse::services::origin {

namespace {

using net::http::status;

constexpr std::string_view playlist_type = "application/vnd.apple.mpegurl";
constexpr std::string_view segment_type = "video/mp2t";
constexpr std::string_view immutable_cache = "public, max-age=31536000, immutable";
constexpr std::string_view final_playlist_cache = "public, max-age=60";
constexpr std::string_view miss_cache = "max-age=1";

/// A 404 that players and CDNs retry soon: {"error": ..., <extra fields>}.
net::response miss(std::string_view message, nlohmann::json extra = nlohmann::json::object()) {
    extra["error"] = message;
    auto r = net::json_response(
        status::not_found, extra.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    r.cache_control = miss_cache;
    r.cors = true;
    return r;
}

/// RFC 8216 §6.2.2: the client reloads a live playlist no sooner than the target duration;
/// half of it (at least 1 s) keeps a cache from holding a player behind the live edge.
/// RFC 5861: for as long again a cache may answer with the copy it has while one request
/// refreshes it (stale-while-revalidate: a flash crowd costs one refresh, not a queue), and
/// for 10 s it may when this origin fails (stale-if-error: players keep their position
/// instead of meeting a 5xx storm).
std::string live_playlist_cache(int target_duration_s) {
    const int max_age = std::max(1, target_duration_s / 2);
    return fmt::format("public, max-age={}, stale-while-revalidate={}, stale-if-error=10", max_age,
                       max_age);
}

class origin_service {
  public:
    explicit origin_service(service_context& ctx)
        : ctx_(ctx), urls_(ctx), vod_root_((ctx.data_dir.empty() ? "." : ctx.data_dir) + "/vod/"),
          cache_(std::make_shared<file_cache>(vod_cache_bytes, vod_cache_max_entry_bytes)) {}

    void hls(const net::request&, const net::route_params& params,
             const net::responder& respond) const {
        const auto id = param(params, "id");
        const auto file = param(params, "file");
        if (!is_valid_broadcast_id(id)) {
            respond(miss("broadcast not found"));
            return;
        }
        const auto b = ctx_.registry.find(id);
        if (!b) {
            respond(miss("broadcast not found"));
            return;
        }
        if (file == playlist_name) {
            respond(live_playlist(*b));
            return;
        }
        const auto seq = parse_segment_name(file);
        if (!seq) {
            respond(miss("not found"));
            return;
        }
        const auto snap = b->snapshot();
        const auto seg = snap->find(*seq);
        if (!seg) {
            // Left memory (RFC 8216 §6.2.2 availability over, or the broadcast ended): the
            // archive has the same bytes under the same name, for a player with an old
            // playlist or one finishing the ENDLIST playlist.
            serve_archive_file(id, file, false, snap->status == media::broadcast_status::ended,
                               respond);
            return;
        }
        net::response r;
        r.content_type = segment_type;
        r.cache_control = immutable_cache;
        r.etag = seg->etag;
        r.accept_ranges = true;
        r.cors = true;
        r.blob = seg->data;
        respond(std::move(r));
    }

    void vod(const net::request&, const net::route_params& params,
             const net::responder& respond) const {
        const auto id = param(params, "id");
        const auto file = param(params, "file");
        const bool is_playlist = file == playlist_name;
        if (!is_valid_broadcast_id(id) || (!is_playlist && !parse_segment_name(file))) {
            respond(miss("not found"));
            return;
        }
        // The archive is final once the broadcast ended (or when this node no longer knows
        // it: the files are all that is left); only then may its playlist be cached for long.
        const auto b = ctx_.registry.find(id);
        const bool final = !b || b->snapshot()->status == media::broadcast_status::ended;
        serve_archive_file(id, file, is_playlist, final, respond);
    }

  private:
    /// Answers <data_dir>/vod/<id>/<file> from the memory cache or, on a miss, by reading it on
    /// the io runner. Preconditions: id and file passed path_rules. Segment files never change
    /// once written (the archive renames complete files into place), so they are cached
    /// whatever the status; a playlist only when `final`.
    void serve_archive_file(std::string_view id, std::string_view file, bool is_playlist,
                            bool final, const net::responder& respond) const {
        std::string path = vod_root_;
        path.append(id).append("/").append(file);
        const bool cacheable = final || !is_playlist;
        if (cacheable) {
            if (auto hit = cache_->get(path)) {
                respond(vod_response(is_playlist, final, hit->data, std::move(hit->etag)));
                return;
            }
        }
        auto task = [path = std::move(path), is_playlist, final, cacheable, respond,
                     cache = cache_]() {
            auto f = read_file(path, vod_max_file_bytes);
            switch (f.status) {
            case read_status::ok:
                break;
            case read_status::not_found:
                respond(miss("not found"));
                return;
            case read_status::too_large:
            case read_status::failed:
                spdlog::warn("origin: archive: {}", f.error);
                respond(net::json_error(status::internal_server_error, "cannot read the file"));
                return;
            }
            auto etag = file_etag(f.size, f.mtime_ns);
            if (cacheable) {
                cache->put(path, cached_file{f.data, etag});
            }
            respond(vod_response(is_playlist, final, std::move(f.data), std::move(etag)));
        };
        if (ctx_.io) {
            ctx_.io(std::move(task));
        } else {
            task(); // no runner configured: read inline
        }
    }

    static std::string_view param(const net::route_params& params, const std::string& name) {
        const auto it = params.find(name);
        return it == params.end() ? std::string_view{} : std::string_view(it->second);
    }

    net::response live_playlist(const media::broadcast& b) const {
        const auto snap = b.snapshot();
        if (snap->playlist) {
            net::response r;
            r.content_type = playlist_type;
            r.cache_control = snap->status == media::broadcast_status::ended
                                  ? std::string(final_playlist_cache)
                                  : live_playlist_cache(snap->target_duration_s);
            r.etag = snap->playlist_etag;
            r.cors = true;
            r.body = snap->playlist;
            return r;
        }
        if (snap->status == media::broadcast_status::ended) {
            return miss("broadcast ended; the recording is at vod_url",
                        {{"status", "ended"}, {"vod_url", urls_.vod_url(b.id())}});
        }
        return miss("no playlist yet; poll status_url until the status is live",
                    {{"status", std::string(media::to_string(snap->status))},
                     {"status_url", urls_.status_url(b.id())}});
    }

    static net::response vod_response(bool is_playlist, bool final, core::shared_bytes data,
                                      std::string etag) {
        net::response r;
        if (is_playlist) {
            r.content_type = playlist_type;
            // The archive playlist grows until the broadcast ends; only then is it final.
            r.cache_control = final ? final_playlist_cache : "public, max-age=1";
        } else {
            r.content_type = segment_type;
            r.cache_control = immutable_cache;
        }
        r.etag = std::move(etag);
        r.accept_ranges = true;
        r.cors = true;
        r.body = std::move(data);
        return r;
    }

    service_context& ctx_;
    api::public_urls urls_;
    std::string vod_root_;
    /// Shared with io tasks, which may finish after a request's service is gone (shutdown).
    std::shared_ptr<file_cache> cache_;
};

} // namespace

void register_routes(net::router& router, service_context& ctx) {
    auto svc = std::make_shared<origin_service>(ctx);
    using net::http::verb;
    router.add(
        verb::get, "/hls/{id}/{file}",
        [svc](const net::request& req, const net::route_params& params,
              const net::responder& respond) { svc->hls(req, params, respond); },
        "origin.hls");
    router.add(
        verb::get, "/vod/{id}/{file}",
        [svc](const net::request& req, const net::route_params& params,
              const net::responder& respond) { svc->vod(req, params, respond); },
        "origin.vod");
}

} // namespace livehouse::services::origin
