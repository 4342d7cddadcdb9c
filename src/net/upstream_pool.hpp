// upstream_pool: a bounded pool of HTTP/1.1 keep-alive connections to one upstream server,
// for the edge tier (services/edge), with the body streamed into a core::filling_bytes so the
// edge can answer its waiters while the bytes still arrive.
//
// - At most max_connections connections; requests beyond wait in a FIFO of at most max_queued
//   (then they fail at once with "upstream queue full": the edge answers 503 rather than
//   holding unbounded memory for an upstream that cannot keep up).
// - Timeouts: connect_timeout for resolve + connect; `timeout` for each step after it (writing
//   the request, the response head, and every read of the body): an upstream that stops
//   sending for that long fails the request, and a body being streamed fails (its readers
//   close their connections).
// - A request that fails on a reused keep-alive connection before any byte of the response
//   arrived is retried once on a fresh connection: the upstream may have closed it while idle
//   (RFC 9112 §9.3.1 allows a client to retry an idempotent request then). Only GET and HEAD.
// - Response limits: head at most max_header_bytes; a body with Content-Length larger than
//   max_body_bytes, or a chunked body growing past it, fails the request.
//
// Threading: fetch() from any thread; all I/O and every callback run on the pool's executor
// (one event-loop thread), so the callbacks must not block.
#pragma once

#include "core/filling_bytes.hpp"

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/beast/http/verb.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace livehouse::net {

struct upstream_options {
    std::string host;
    std::uint16_t port = 80;
    std::size_t max_connections = 64;
    std::size_t max_queued = 10000;
    std::chrono::milliseconds connect_timeout{std::chrono::seconds(2)};
    std::chrono::milliseconds timeout{std::chrono::seconds(10)};
    std::size_t max_header_bytes = 64 * 1024;
    std::size_t max_body_bytes = 64 * 1024 * 1024;
};

struct upstream_request {
    boost::beast::http::verb method = boost::beast::http::verb::get;
    std::string target; ///< origin-form: "/path?query"
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
};

struct upstream_head {
    unsigned status = 0;
    std::vector<std::pair<std::string, std::string>> headers; ///< as received, in order
    std::optional<std::uint64_t> content_length;              ///< none: chunked / until close
    /// The first header named `name` (case-insensitive), "" when absent.
    [[nodiscard]] std::string_view header(std::string_view name) const;
};

struct upstream_handlers {
    /// The head arrived: returns the body to fill (sized to content_length when there is
    /// one, else unsized), or nullptr to drop the body (the connection then closes).
    std::function<core::shared_filling_bytes(const upstream_head&)> on_head;
    /// Failed before the head: why, and whether it was a timeout. Failures after the head go
    /// to the body (filling_bytes::fail).
    std::function<void(const std::string& error, bool timed_out)> on_error;
};

class upstream_pool : public std::enable_shared_from_this<upstream_pool> {
  public:
    static std::shared_ptr<upstream_pool> create(boost::asio::any_io_executor exec,
                                                 upstream_options options);
    ~upstream_pool();
    upstream_pool(const upstream_pool&) = delete;
    upstream_pool& operator=(const upstream_pool&) = delete;

    /// Queues the request. Thread-safe; the handlers run on the pool's executor.
    void fetch(upstream_request request, upstream_handlers handlers);
    /// Fails what is queued, closes idle connections; requests in flight finish or fail.
    /// Thread-safe; later fetches fail at once.
    void close();

    [[nodiscard]] const upstream_options& options() const { return options_; }
    /// Connections open (busy + idle) and requests waiting for one; read on any thread.
    [[nodiscard]] std::size_t open_connections() const;
    [[nodiscard]] std::size_t queued() const;

  private:
    struct job;
    struct connection;

    upstream_pool(boost::asio::any_io_executor exec, upstream_options options);
    void pump();
    void start(std::shared_ptr<connection> c, std::shared_ptr<job> j);
    void connect(std::shared_ptr<connection> c, std::shared_ptr<job> j);
    void send(std::shared_ptr<connection> c, std::shared_ptr<job> j);
    void read_body(std::shared_ptr<connection> c, std::shared_ptr<job> j);
    void finish(const std::shared_ptr<connection>& c, bool reusable);
    void fail_before_head(const std::shared_ptr<connection>& c, const std::shared_ptr<job>& j,
                          const std::string& error, bool timed_out);

    boost::asio::any_io_executor exec_;
    const upstream_options options_;
    // Executor-only state.
    std::deque<std::shared_ptr<job>> queue_;
    std::vector<std::shared_ptr<connection>> idle_;
    bool closed_ = false;
    // Read by the gauges from any thread.
    std::atomic<std::size_t> open_{0};
    std::atomic<std::size_t> queued_{0};
};

} // namespace livehouse::net
