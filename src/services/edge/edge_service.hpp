// The edge role: serves the origin's URLs from an in-memory cache in front of an upstream (the
// origin, or another edge: tiers chain), so a flash crowd costs the upstream one request per
// object (seed 003). docs/EDGE.md is the operator's guide.
//
// Per request:
// - GET/HEAD without Authorization: the cache (edge_cache.hpp) by key; a miss starts the one
//   upstream fetch for its key and concurrent misses join it; the answer streams from the
//   shared body as it arrives. Key: the path (and query) as sent, except under /hls/ and
//   /vod/, whose query only ever carries auth (a playback signature): left out of the key.
// - Anything else (POST love, guest tokens, an authorized GET): passed to the upstream and
//   relayed, never stored (RFC 9111 §3.5: a shared cache must not reuse an answer to an
//   authorized request).
// - What may be stored and for how long is the upstream's Cache-Control
//   (codec/http/cache_control.hpp), minus the Age it reports, so a second tier does not hold a
//   playlist twice as long as the first.
// - The edge's own /healthz and /metrics are not forwarded.
//
// Metrics: edge_requests_total{result=hit|stale|miss|coalesced|pass}, edge_upstream_requests_
// total{reason=miss|refresh|pass}, edge_upstream_errors_total, edge_stale_if_error_total,
// edge_upstream_head_seconds, edge_cache_bytes, edge_cache_objects, edge_cache_evictions_total,
// edge_fetches_in_flight, edge_upstream_connections.
#pragma once

#include "core/metrics.hpp"
#include "net/http_types.hpp"
#include "net/router.hpp"
#include "net/upstream_pool.hpp"
#include "services/edge/edge_cache.hpp"
#include "services/edge/edge_config.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace livehouse::services::edge {

class edge_service : public std::enable_shared_from_this<edge_service> {
  public:
    /// `upstream_exec`: the event loop the upstream connections run on.
    static std::shared_ptr<edge_service> create(edge_config config,
                                                boost::asio::any_io_executor upstream_exec,
                                                core::metrics_registry& metrics);

    /// GET/HEAD "/" and "/{path*}" to the cache, other methods passed through. Register the
    /// edge's own routes (/healthz, /metrics) too: literal routes win over the tail capture.
    void register_routes(net::router& router);
    /// Stops the upstream pool (queued fetches fail: their waiters get 502) and fails every
    /// body still arriving, so no session waits on one any more: after it, the sessions hold
    /// no reference outside their event loops (the app destroys those loops next).
    void close();

    [[nodiscard]] const edge_cache& cache() const { return cache_; }

  private:
    edge_service(edge_config config, boost::asio::any_io_executor upstream_exec,
                 core::metrics_registry& metrics);

    void get(const net::request& req, const net::route_params& params, net::responder reply);
    void pass(const net::request& req, const net::route_params& params, net::responder reply);
    void start_fetch(const std::string& key, std::string target, bool refresh);
    void fetched(const std::string& key, const object_ptr& object);
    void fetch_failed(const std::string& key, const std::string& error, bool timed_out);
    /// The object for `head`, with an empty body sized to its Content-Length, or unsized
    /// (at most `unsized_limit` bytes) when it has none.
    std::shared_ptr<cached_object> make_object(const net::upstream_head& head, steady_time now,
                                               std::size_t unsized_limit) const;

    /// Remembers a body while it fills, for close().
    void track(const core::shared_filling_bytes& body);

    edge_config config_;
    std::mutex filling_mutex_;
    std::vector<std::weak_ptr<core::filling_bytes>> filling_;
    std::size_t filling_pruned_at_ = 64;
    edge_cache cache_;
    std::shared_ptr<net::upstream_pool> upstream_;
    core::counter_family& requests_;
    core::counter_family& upstream_requests_;
    core::counter& hits_;
    core::counter& stale_hits_;
    core::counter& misses_;
    core::counter& coalesced_;
    core::counter& passes_;
    core::counter& fetches_miss_;
    core::counter& fetches_refresh_;
    core::counter& fetches_pass_;
    core::counter& upstream_errors_;
    core::counter& stale_if_error_;
    core::histogram& head_seconds_;
};

} // namespace livehouse::services::edge
