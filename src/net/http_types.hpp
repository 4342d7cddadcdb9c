// The contract between the HTTP server (net) and the services that answer requests.
//
// A handler gets the parsed request and a responder it calls exactly once, from any thread (the
// session posts the response back to its own thread). Bodies are shared immutable buffers: a
// live segment is written to every viewer's socket from the same bytes, with no copy.
//
// The session applies the generic HTTP rules so services do not repeat them:
// - HEAD: the same headers as GET, no body;
// - ETag + If-None-Match: a 200 whose `etag` matches becomes a 304 with no body;
// - Range (when `accept_ranges`): a single "bytes=a-b" range -> 206 with Content-Range, an
//   unsatisfiable one -> 416;
// - CORS: `Access-Control-Allow-Origin: *` when `cors` is set, and OPTIONS preflight answered;
// - Content-Length always; keep-alive per HTTP/1.1.
#pragma once

#include "core/blob.hpp"
#include "core/bytes.hpp"
#include "core/filling_bytes.hpp"

#include <boost/beast/http.hpp>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace livehouse::net {

namespace http = boost::beast::http;

using request = http::request<http::string_body>;

struct response {
    http::status status = http::status::ok;
    std::string content_type = "application/json";
    std::string cache_control; ///< empty: no Cache-Control header
    std::string etag;          ///< quoted entity tag; empty: none
    bool accept_ranges = false;
    bool cors = false;
    std::vector<std::pair<std::string, std::string>> headers; ///< extra headers
    core::shared_bytes body;                                  ///< may be null (empty body)
    /// Instead of `body` (which must then be null): immutable bytes the session sends with
    /// sendfile(2) when the blob has a descriptor (a live segment), else with write().
    core::shared_blob blob;
    /// Instead of `body` and `blob`: a body still arriving from upstream (the edge cache). The
    /// session writes the header at once and then each part as it arrives, from the shared
    /// buffer. It must be sized (Content-Length known) or already complete. While it fills,
    /// Range is ignored (a full 200, as RFC 9110 §14.2 allows); if it fails, the connection
    /// closes (the client sees a body shorter than its Content-Length, never a wrong one).
    core::shared_filling_bytes filling;
};

/// Call exactly once. Safe to call from any thread. Copies share one reply: the first call
/// wins, later ones are dropped (logged), and if every copy is destroyed without a call the
/// client gets a 500. A responder must not outlive the server's io_pool.
using responder = std::function<void(response)>;

/// Path parameters captured by the router: "/hls/{id}/{file}" -> {"id": ..., "file": ...}.
/// The session adds remote_address_param.
using route_params = std::unordered_map<std::string, std::string>;

/// The peer's IP address ("127.0.0.1", "::1"; no port) in every handler's route_params, set by
/// the session from the socket (never from a header, so a client cannot choose it). A name no
/// "{capture}" can have. Behind a proxy it is the proxy's address.
inline constexpr const char* remote_address_param = ":remote";

using handler = std::function<void(const request&, const route_params&, responder)>;

/// A JSON error body: {"error": "<message>"}; no-store.
response json_error(http::status status, std::string_view message);
/// A JSON body from already-serialized text.
response json_response(http::status status, std::string body);

} // namespace livehouse::net
