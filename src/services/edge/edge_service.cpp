// edge_service (see edge_service.hpp).
#include "services/edge/edge_service.hpp"

#include "codec/http/cache_control.hpp"
#include "codec/http/url.hpp"

#include <algorithm>
#include <array>
#include <boost/beast/core/string.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace livehouse::services::edge {

namespace {

using net::http::status;
using net::http::verb;
using clock_type = std::chrono::steady_clock;

/// Headers not forwarded from the upstream: hop-by-hop ones (RFC 9110 §7.6.1), and those the
/// HTTP session writes itself from the response's fields (or computes: Age, X-Cache).
constexpr std::array<std::string_view, 20> not_forwarded = {"Connection",
                                                            "Keep-Alive",
                                                            "Proxy-Connection",
                                                            "Proxy-Authenticate",
                                                            "TE",
                                                            "Trailer",
                                                            "Transfer-Encoding",
                                                            "Upgrade",
                                                            "Date",
                                                            "Server",
                                                            "Content-Length",
                                                            "Content-Type",
                                                            "Cache-Control",
                                                            "ETag",
                                                            "Accept-Ranges",
                                                            "Content-Range",
                                                            "Age",
                                                            "X-Cache",
                                                            "Access-Control-Allow-Origin",
                                                            "Access-Control-Expose-Headers"};

bool forwarded(std::string_view name) {
    return std::none_of(not_forwarded.begin(), not_forwarded.end(),
                        [name](std::string_view n) { return boost::beast::iequals(n, name); });
}

/// Request headers a passed-through request keeps (the rest describe the client's connection
/// to this edge, or are recomputed by the pool: Host, Content-Length).
constexpr std::array<std::string_view, 7> pass_request_headers = {
    "Authorization", "Content-Type",      "Accept",    "Accept-Language",
    "If-None-Match", "If-Modified-Since", "User-Agent"};

/// The cache key: the target, without the query under /hls/ and /vod/ (their query only
/// carries auth, which the origin checks per request, not per object).
std::string cache_key(std::string_view target) {
    if (target.starts_with("/hls/") || target.starts_with("/vod/")) {
        return std::string(target.substr(0, target.find('?')));
    }
    return std::string(target);
}

net::response error_response(status s, std::string_view message) {
    auto r = net::json_error(s, message);
    r.cache_control = "no-store";
    r.cors = true;
    return r;
}

net::response to_response(const cached_object& o, steady_time now, std::string_view label) {
    net::response r;
    r.status = static_cast<status>(o.status);
    r.content_type = o.content_type;
    r.cache_control = o.cache_control;
    r.etag = o.etag;
    r.cors = o.cors;
    r.accept_ranges = o.accept_ranges;
    r.headers = o.headers;
    r.headers.emplace_back("Age", fmt::format("{}", o.current_age_s(now)));
    r.headers.emplace_back("X-Cache", std::string(label));
    r.filling = o.body;
    return r;
}

bool is_server_error(unsigned s) {
    // RFC 5861 §4: stale-if-error applies when "an error is encountered [...] such as a 500,
    // 502, 503, or 504 status code".
    return s == 500 || s == 502 || s == 503 || s == 504;
}

} // namespace

core::result<upstream_address> parse_upstream_url(std::string_view url) {
    auto u = codec::http::parse_http_url(url);
    if (!u) {
        const bool tls = u.err().message.find("only http://") != std::string::npos;
        return core::make_error(fmt::format("upstream {}: {}{}", url, u.err().message,
                                            tls ? " (terminate TLS in front of livehouse)" : ""));
    }
    if (u->target != "/") {
        return core::make_error(fmt::format(
            "upstream {}: a path is not supported (the edge serves the upstream's own paths)",
            url));
    }
    return upstream_address{u->host, u->port};
}

std::shared_ptr<edge_service> edge_service::create(edge_config config,
                                                   boost::asio::any_io_executor upstream_exec,
                                                   core::metrics_registry& metrics) {
    std::shared_ptr<edge_service> s(
        new edge_service(std::move(config), std::move(upstream_exec), metrics));
    auto* cache = &s->cache_;
    metrics.add_callback_gauge("edge_cache_bytes", "Bytes of the objects stored (body + headers).",
                               [cache] { return static_cast<double>(cache->bytes()); });
    metrics.add_callback_gauge("edge_cache_objects", "Objects stored.",
                               [cache] { return static_cast<double>(cache->objects()); });
    metrics.add_callback_counter("edge_cache_evictions_total",
                                 "Objects evicted to stay within [edge] cache_bytes.",
                                 [cache] { return static_cast<double>(cache->evictions()); });
    metrics.add_callback_gauge("edge_fetches_in_flight",
                               "Upstream fetches in flight (each with its coalesced waiters).",
                               [cache] { return static_cast<double>(cache->in_flight()); });
    auto* pool = s->upstream_.get();
    metrics.add_callback_gauge("edge_upstream_connections",
                               "Connections open to the upstream (busy + idle).",
                               [pool] { return static_cast<double>(pool->open_connections()); });
    return s;
}

edge_service::edge_service(edge_config config, boost::asio::any_io_executor upstream_exec,
                           core::metrics_registry& metrics)
    : config_(std::move(config)),
      cache_(edge_cache::options{
          .capacity_bytes = config_.cache_bytes,
          // Shards split the byte budget: keep each able to hold several of the largest
          // objects (a small test cache gets one shard).
          .shards = std::clamp<std::size_t>(
              config_.cache_bytes / std::max<std::size_t>(1, 4 * config_.max_object_bytes), 1, 8)}),
      upstream_(net::upstream_pool::create(
          std::move(upstream_exec),
          net::upstream_options{
              .host = config_.upstream.host,
              .port = config_.upstream.port,
              .max_connections = config_.upstream_connections,
              .max_queued = config_.upstream_queue,
              .connect_timeout = config_.connect_timeout,
              .timeout = config_.upstream_timeout,
              .max_header_bytes = 64 * 1024,
              .max_body_bytes =
                  std::max(config_.max_object_bytes, config_.max_pass_body_bytes) * 4})),
      requests_(metrics.add_counter_family(
          "edge_requests_total",
          "Requests by how the edge answered them: hit (fresh), stale (stale-while-revalidate, "
          "or stale-if-error while the upstream is failing), miss (started the upstream fetch), "
          "coalesced (joined a fetch in flight), pass (not cacheable).",
          {"result"})),
      upstream_requests_(metrics.add_counter_family(
          "edge_upstream_requests_total",
          "Requests sent upstream: miss (a cache fill), refresh (stale-while-revalidate), pass.",
          {"reason"})),
      hits_(requests_.with({"hit"})), stale_hits_(requests_.with({"stale"})),
      misses_(requests_.with({"miss"})), coalesced_(requests_.with({"coalesced"})),
      passes_(requests_.with({"pass"})), fetches_miss_(upstream_requests_.with({"miss"})),
      fetches_refresh_(upstream_requests_.with({"refresh"})),
      fetches_pass_(upstream_requests_.with({"pass"})),
      upstream_errors_(metrics.add_counter(
          "edge_upstream_errors_total",
          "Upstream requests that failed before a response (connect, timeout, queue full) or "
          "answered 5xx.")),
      stale_if_error_(metrics.add_counter(
          "edge_stale_if_error_total",
          "Requests answered with a stale copy because the upstream failed (stale-if-error).")),
      head_seconds_(metrics.add_histogram(
          "edge_upstream_head_seconds", "From an upstream request to its response head.",
          {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5})) {}

void edge_service::register_routes(net::router& router) {
    auto self = shared_from_this();
    auto get = [self](const net::request& req, const net::route_params& params,
                      net::responder reply) { self->get(req, params, std::move(reply)); };
    auto pass = [self](const net::request& req, const net::route_params& params,
                       net::responder reply) { self->pass(req, params, std::move(reply)); };
    for (const char* pattern : {"/", "/{path*}"}) {
        router.add(verb::get, pattern, get, "edge");
        for (auto v : {verb::post, verb::put, verb::patch, verb::delete_}) {
            router.add(v, pattern, pass, "edge_pass");
        }
    }
}

void edge_service::close() {
    upstream_->close();
    std::vector<std::weak_ptr<core::filling_bytes>> all;
    {
        std::lock_guard lock(filling_mutex_);
        all.swap(filling_);
    }
    for (auto& weak : all) {
        if (auto body = weak.lock()) {
            body->fail(); // wakes its sessions, which close
        }
    }
    for (auto& w : cache_.drain()) {
        w(nullptr, {"shutting down"});
    }
}

void edge_service::track(const core::shared_filling_bytes& body) {
    if (body->current() != core::filling_bytes::state::filling) {
        return;
    }
    std::lock_guard lock(filling_mutex_);
    filling_.push_back(body);
    if (filling_.size() >= 2 * filling_pruned_at_) {
        // Amortized O(1): prune once the list doubled since the last prune.
        std::erase_if(filling_, [](const std::weak_ptr<core::filling_bytes>& w) {
            auto b = w.lock();
            return !b || b->current() != core::filling_bytes::state::filling;
        });
        filling_pruned_at_ = std::max<std::size_t>(64, filling_.size());
    }
}

void edge_service::get(const net::request& req, const net::route_params& params,
                       net::responder reply) {
    if (req.find(net::http::field::authorization) != req.end()) {
        pass(req, params, std::move(reply));
        return;
    }
    const auto key = cache_key(req.target());
    const auto now = clock_type::now();
    waiter w = [self = shared_from_this(), reply](const object_ptr& object,
                                                  const fetch_status& fetched) {
        const auto at = clock_type::now();
        if (object) {
            reply(to_response(*object, at, fetched.error.empty() ? "MISS" : "STALE"));
            return;
        }
        reply(error_response(fetched.timed_out ? status::gateway_timeout : status::bad_gateway,
                             "upstream unavailable"));
    };
    auto found = cache_.lookup(key, now, w);
    switch (found.result) {
    case edge_cache::outcome::hit:
        hits_.inc();
        reply(to_response(*found.object, now, "HIT"));
        return;
    case edge_cache::outcome::stale:
        stale_hits_.inc();
        reply(to_response(*found.object, now, "STALE"));
        if (found.refresh) {
            start_fetch(key, std::string(req.target()), true);
        }
        return;
    case edge_cache::outcome::joined:
        coalesced_.inc();
        return; // the waiter answers
    case edge_cache::outcome::fetch:
        misses_.inc();
        start_fetch(key, std::string(req.target()), false);
        return;
    }
}

void edge_service::start_fetch(const std::string& key, std::string target, bool refresh) {
    (refresh ? fetches_refresh_ : fetches_miss_).inc();
    net::upstream_request rq;
    rq.method = verb::get;
    rq.target = std::move(target);
    // RFC 9110 §7.6.3: a proxy sends Via. The fetch is the edge's own (shared by every
    // waiter), so no client's headers go with it.
    rq.headers.emplace_back("Via", "1.1 livehouse-edge");
    const auto started = clock_type::now();
    net::upstream_handlers h;
    h.on_head = [self = shared_from_this(), key,
                 started](const net::upstream_head& head) -> core::shared_filling_bytes {
        const auto now = clock_type::now();
        self->head_seconds_.observe(std::chrono::duration<double>(now - started).count());
        std::shared_ptr<const cached_object> object =
            self->make_object(head, now, self->config_.max_object_bytes);
        auto body = object->body;
        self->track(body);
        if (body->is_sized()) {
            self->fetched(key, object); // waiters stream the body while it arrives
        } else {
            // No length yet: waiters are answered once the body is whole.
            body->when_beyond(0, [self, key, object] {
                if (object->body->current() == core::filling_bytes::state::complete) {
                    self->fetched(key, object);
                } else {
                    self->fetch_failed(key, "upstream body failed", false);
                }
            });
        }
        return body;
    };
    h.on_error = [self = shared_from_this(), key](const std::string& error, bool timed_out) {
        self->fetch_failed(key, error, timed_out);
    };
    upstream_->fetch(std::move(rq), std::move(h));
}

std::shared_ptr<cached_object> edge_service::make_object(const net::upstream_head& head,
                                                         steady_time now,
                                                         std::size_t unsized_limit) const {
    auto o = std::make_shared<cached_object>();
    o->status = head.status;
    o->received = now;
    bool varies = false;
    for (const auto& [name, value] : head.headers) {
        if (boost::beast::iequals(name, "Content-Type")) {
            o->content_type = value;
        } else if (boost::beast::iequals(name, "Cache-Control")) {
            o->cache_control = value;
        } else if (boost::beast::iequals(name, "ETag")) {
            o->etag = value;
        } else if (boost::beast::iequals(name, "Accept-Ranges")) {
            o->accept_ranges = boost::beast::iequals(value, "bytes");
        } else if (boost::beast::iequals(name, "Access-Control-Allow-Origin")) {
            o->cors = value == "*";
        } else if (boost::beast::iequals(name, "Vary")) {
            varies = !value.empty();
            o->headers.emplace_back(name, value);
        } else if (forwarded(name)) {
            o->headers.emplace_back(name, value);
        }
    }
    const auto age = codec::http::parse_age(head.header("Age")).value_or(0);
    o->age_s = age;
    const auto f = codec::http::shared_cache_freshness(
        head.status, codec::http::parse_cache_control(o->cache_control), age,
        {.negative_ttl_s = config_.negative_ttl_s, .stale_if_error_s = config_.stale_if_error_s});
    // Vary: this edge keeps one variant per key, so an answer that varies is not stored.
    o->storable = f.storable && !varies;
    o->fresh_until = now + std::chrono::seconds(f.fresh_for_s);
    o->revalidate_until = o->fresh_until + std::chrono::seconds(f.stale_while_revalidate_s);
    o->error_until = o->fresh_until + std::chrono::seconds(f.stale_if_error_s);
    if (head.content_length) {
        o->body = core::filling_bytes::sized(static_cast<std::size_t>(*head.content_length));
    } else {
        o->body = core::filling_bytes::unsized(unsized_limit);
    }
    return o;
}

void edge_service::fetched(const std::string& key, const object_ptr& object) {
    const auto now = clock_type::now();
    if (is_server_error(object->status)) {
        upstream_errors_.inc();
        auto failed = cache_.fail(key, now);
        for (auto& w : failed.waiters) {
            if (failed.stale) {
                stale_if_error_.inc();
                w(failed.stale, {"upstream answered an error"});
            } else {
                w(object, {}); // the upstream's own error page, not stored
            }
        }
        return;
    }
    const bool store = object->storable && object->body->size() <= config_.max_object_bytes;
    auto done = cache_.resolve(key, object, store);
    for (auto& w : done.waiters) {
        w(object, {});
    }
}

void edge_service::fetch_failed(const std::string& key, const std::string& error, bool timed_out) {
    upstream_errors_.inc();
    spdlog::warn("edge: {}: {}", key, error);
    auto failed = cache_.fail(key, clock_type::now());
    for (auto& w : failed.waiters) {
        if (failed.stale) {
            stale_if_error_.inc();
            w(failed.stale, {error, timed_out});
        } else {
            w(nullptr, {error, timed_out});
        }
    }
}

void edge_service::pass(const net::request& req, const net::route_params& params,
                        net::responder reply) {
    passes_.inc();
    fetches_pass_.inc();
    net::upstream_request rq;
    rq.method = req.method();
    rq.target = std::string(req.target());
    for (auto name : pass_request_headers) {
        if (auto it = req.find(name); it != req.end()) {
            rq.headers.emplace_back(std::string(name), std::string(it->value()));
        }
    }
    // RFC 7239's predecessor, as every proxy sends it: the client's address, appended.
    std::string forwarded_for(req["X-Forwarded-For"]);
    if (auto ip = params.find(net::remote_address_param); ip != params.end()) {
        if (!forwarded_for.empty()) {
            forwarded_for.append(", ");
        }
        forwarded_for.append(ip->second);
    }
    if (!forwarded_for.empty()) {
        rq.headers.emplace_back("X-Forwarded-For", std::move(forwarded_for));
    }
    rq.headers.emplace_back("Via", "1.1 livehouse-edge");
    rq.body = req.body();
    const auto max_body = config_.max_pass_body_bytes;
    net::upstream_handlers h;
    h.on_head = [self = shared_from_this(), reply,
                 max_body](const net::upstream_head& head) -> core::shared_filling_bytes {
        std::shared_ptr<const cached_object> object =
            self->make_object(head, clock_type::now(), max_body);
        self->track(object->body);
        if (!object->body->is_sized()) {
            object->body->when_beyond(0, [reply, object] {
                if (object->body->current() == core::filling_bytes::state::complete) {
                    reply(to_response(*object, clock_type::now(), "PASS"));
                } else {
                    reply(error_response(status::bad_gateway, "upstream body failed"));
                }
            });
            return object->body;
        }
        reply(to_response(*object, clock_type::now(), "PASS"));
        return object->body;
    };
    h.on_error = [self = shared_from_this(), reply](const std::string& error, bool timed_out) {
        self->upstream_errors_.inc();
        spdlog::warn("edge: pass: {}", error);
        reply(error_response(timed_out ? status::gateway_timeout : status::bad_gateway,
                             "upstream unavailable"));
    };
    upstream_->fetch(std::move(rq), std::move(h));
}

} // namespace livehouse::services::edge
