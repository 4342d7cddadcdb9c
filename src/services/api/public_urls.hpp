// The public URLs of a broadcast (RTMP ingest, live HLS, VOD, watch page, status), built from the
// address and ports in the service context. Shared by the api (broadcast objects) and the origin
// (404 bodies that point a player at the status endpoint or the recording).
//
// Limits: ids are put into URLs verbatim, so callers pass only ids the registry issued (they are
// [a-z0-9]+; see origin/path_rules.hpp). An IPv6 literal host is bracketed (RFC 3986 §3.2.2).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace livehouse::services {
struct service_context;
}

namespace livehouse::services::api {

class public_urls {
  public:
    /// Copies what it needs from `ctx` (host and ports); keeps no reference to it.
    explicit public_urls(const service_context& ctx);
    public_urls(std::string_view host, std::uint16_t http_port, std::uint16_t rtmp_port);

    /// rtmp://<host>:<rtmp_port>/live — the publisher appends "/<stream_key>".
    [[nodiscard]] const std::string& rtmp_url() const { return rtmp_url_; }
    /// http://<host>:<http_port> with no trailing slash.
    [[nodiscard]] const std::string& http_base() const { return http_base_; }

    [[nodiscard]] std::string hls_url(std::string_view id) const;   ///< .../hls/<id>/index.m3u8
    [[nodiscard]] std::string vod_url(std::string_view id) const;   ///< .../vod/<id>/index.m3u8
    [[nodiscard]] std::string watch_url(std::string_view id) const; ///< .../watch/<id>
    [[nodiscard]] std::string
    status_url(std::string_view id) const; ///< .../api/v1/broadcasts/<id>/status

  private:
    std::string http_base_;
    std::string rtmp_url_;
};

} // namespace livehouse::services::api
