#include "services/api/public_urls.hpp"

#include "services/service_context.hpp"

#include <fmt/format.h>

namespace livehouse::services::api {

namespace {

// RFC 3986 §3.2.2: "A host identified by an IPv6 literal address is represented inside square
// brackets". A host that already carries brackets is left alone.
std::string url_host(std::string_view host) {
    if (host.find(':') != std::string_view::npos && !host.starts_with('[')) {
        return fmt::format("[{}]", host);
    }
    return std::string(host);
}

} // namespace

public_urls::public_urls(const service_context& ctx)
    : public_urls(ctx.host, ctx.http_port, ctx.rtmp_port) {}

public_urls::public_urls(std::string_view host, std::uint16_t http_port, std::uint16_t rtmp_port)
    : http_base_(fmt::format("http://{}:{}", url_host(host), http_port)),
      rtmp_url_(fmt::format("rtmp://{}:{}/live", url_host(host), rtmp_port)) {}

std::string public_urls::hls_url(std::string_view id) const {
    return fmt::format("{}/hls/{}/index.m3u8", http_base_, id);
}

std::string public_urls::vod_url(std::string_view id) const {
    return fmt::format("{}/vod/{}/index.m3u8", http_base_, id);
}

std::string public_urls::watch_url(std::string_view id) const {
    return fmt::format("{}/watch/{}", http_base_, id);
}

std::string public_urls::status_url(std::string_view id) const {
    return fmt::format("{}/api/v1/broadcasts/{}/status", http_base_, id);
}

} // namespace livehouse::services::api
