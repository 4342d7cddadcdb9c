// json_error / json_response: the small helpers every service uses for JSON bodies.
#include "net/http_types.hpp"

#include <nlohmann/json.hpp>

namespace livehouse::net {

response json_error(http::status status, std::string_view message) {
    response r;
    r.status = status;
    r.content_type = "application/json";
    r.cache_control = "no-store";
    // dump() with error_handler::replace: a message carrying invalid UTF-8 (it may quote peer
    // input) must still produce a valid body instead of throwing.
    r.body = core::make_shared_bytes(nlohmann::json{{"error", message}}.dump(
        -1, ' ', false, nlohmann::json::error_handler_t::replace));
    return r;
}

response json_response(http::status status, std::string body) {
    response r;
    r.status = status;
    r.content_type = "application/json";
    r.body = core::make_shared_bytes(std::move(body));
    return r;
}

} // namespace livehouse::net
