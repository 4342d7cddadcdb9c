// app: start-up, wiring and ordered shutdown of `livehouse serve`.
#include "server/app.hpp"

#include "codec/http/url.hpp"
#include "server/auth_secret.hpp"
#include "services/api/api_service.hpp"
#include "services/auth/auth_service.hpp"
#include "services/auth/user_tokens.hpp"
#include "services/chat/chat_routes.hpp"
#include "services/edge/edge_service.hpp"
#include "services/love/love_routes.hpp"
#include "services/origin/origin_service.hpp"
#include "services/web/web_service.hpp"

#include <array>
#include <boost/asio/post.hpp>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <openssl/rand.h>
#include <spdlog/spdlog.h>
#include <sstream>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

namespace livehouse::server {

namespace asio = boost::asio;
namespace fs = std::filesystem;

namespace {

constexpr std::size_t file_io_threads = 4;

core::result<void> ensure_writable_dir(const std::string& dir) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) {
        return core::make_error(fmt::format("data dir {}: cannot create: {}", dir, ec.message()));
    }
    if (!fs::is_directory(dir, ec)) {
        return core::make_error(fmt::format("data dir {}: not a directory", dir));
    }
    // access(W_OK) is not enough (read-only mounts, ACLs): really create a file.
    const auto probe = fmt::format("{}/.write-test-{}", dir, ::getpid());
    const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        return core::make_error(
            fmt::format("data dir {}: not writable: {}", dir, std::strerror(errno)));
    }
    ::close(fd);
    ::unlink(probe.c_str());
    return {};
}

std::string trim(std::string s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())) != 0) {
        s.pop_back();
    }
    std::size_t start = 0;
    while (start < s.size() && std::isspace(static_cast<unsigned char>(s[start])) != 0) {
        ++start;
    }
    return s.substr(start);
}

} // namespace

core::result<std::string> load_or_create_admin_token(const std::string& data_dir, bool& generated) {
    generated = false;
    const auto path = data_dir + "/admin.token";
    std::error_code ec;
    if (fs::exists(path, ec)) {
        std::ifstream in(path);
        if (!in) {
            return core::make_error(fmt::format("admin token {}: cannot read", path));
        }
        std::stringstream text;
        text << in.rdbuf();
        auto token = trim(text.str());
        if (token.empty()) {
            return core::make_error(fmt::format("admin token {}: file is empty", path));
        }
        return token;
    }
    std::array<unsigned char, 32> raw{};
    if (RAND_bytes(raw.data(), static_cast<int>(raw.size())) != 1) {
        return core::make_error("admin token: no randomness available");
    }
    std::string token;
    for (auto b : raw) {
        token += fmt::format("{:02x}", b);
    }
    // O_EXCL + 0600: never overwrite, never readable by others, even for a moment.
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        return core::make_error(
            fmt::format("admin token {}: cannot create: {}", path, std::strerror(errno)));
    }
    const auto line = token + "\n";
    const auto written = ::write(fd, line.data(), line.size());
    ::close(fd);
    if (written != static_cast<ssize_t>(line.size())) {
        ::unlink(path.c_str());
        return core::make_error(fmt::format("admin token {}: write failed", path));
    }
    generated = true;
    return token;
}

core::result<void> write_file_atomically(const std::string& path, const std::string& text) {
    const auto tmp = fmt::format("{}.tmp.{}", path, ::getpid());
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out) {
            return core::make_error(fmt::format("{}: cannot create", tmp));
        }
        out << text;
        out.flush();
        if (!out) {
            return core::make_error(fmt::format("{}: write failed", tmp));
        }
    }
    // rename(2) is atomic: a reader sees no file or the whole file, never half of it.
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        const auto why = std::strerror(errno);
        std::remove(tmp.c_str());
        return core::make_error(fmt::format("{}: rename failed: {}", path, why));
    }
    return {};
}

app::app(config cfg) : cfg_(std::move(cfg)) {}

app::~app() {
    shutdown();
}

core::result<std::unique_ptr<app>> app::start(config cfg, std::string ready_file) {
    std::unique_ptr<app> a(new app(std::move(cfg)));
    if (auto r = a->build(ready_file); !r) {
        return r.err();
    }
    return a;
}

net::http_server_options app::http_options() const {
    net::http_server_options ho;
    ho.address = cfg_.server.bind;
    ho.port = static_cast<std::uint16_t>(cfg_.http.port);
    ho.limits.max_body_bytes = static_cast<std::size_t>(cfg_.http.max_body_bytes);
    ho.limits.max_header_bytes = static_cast<std::size_t>(cfg_.http.max_header_bytes);
    ho.limits.read_timeout = std::chrono::seconds(cfg_.http.timeout_s);
    ho.limits.idle_timeout = std::chrono::seconds(cfg_.http.idle_timeout_s);
    ho.server_header = "livehouse/" LIVEHOUSE_VERSION;
    ho.websocket.max_message_bytes = static_cast<std::size_t>(cfg_.chat.max_message_bytes);
    ho.websocket.send_soft_limit_bytes = static_cast<std::size_t>(cfg_.chat.send_soft_limit_bytes);
    ho.websocket.send_soft_limit_time = std::chrono::milliseconds(cfg_.chat.send_soft_limit_ms);
    ho.websocket.send_hard_limit_bytes = static_cast<std::size_t>(cfg_.chat.send_hard_limit_bytes);
    return ho;
}

void app::add_operator_routes() {
    router_->add(
        net::http::verb::get, "/healthz",
        [](const net::request&, const net::route_params&, net::responder reply) {
            auto r = net::json_response(net::http::status::ok, R"({"status":"ok"})");
            r.cache_control = "no-store";
            reply(std::move(r));
        },
        "healthz");
    router_->add(
        net::http::verb::get, "/metrics",
        [this](const net::request&, const net::route_params&, net::responder reply) {
            net::response r;
            r.content_type = "text/plain; version=0.0.4; charset=utf-8";
            r.cache_control = "no-store";
            r.body = core::make_shared_bytes(metrics_.render());
            reply(std::move(r));
        },
        "metrics");
    metrics_.add_gauge_family("livehouse_build_info", "Build information (always 1).", {"version"})
        .with({LIVEHOUSE_VERSION})
        .set(1);
    // The process figures Prometheus' client libraries export under these names, and the load
    // average: what a load test puts beside its client-side figures (livehouse stress).
    metrics_.add_callback_counter(
        "process_cpu_seconds_total", "User and system CPU time of this process, in seconds.", [] {
            rusage u{};
            ::getrusage(RUSAGE_SELF, &u);
            const auto secs = [](const timeval& t) {
                return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
            };
            return secs(u.ru_utime) + secs(u.ru_stime);
        });
    metrics_.add_callback_gauge(
        "process_resident_memory_bytes", "Resident memory of this process, in bytes.", [] {
            long pages = 0;
            if (FILE* f = std::fopen("/proc/self/statm", "r")) {
                long size = 0;
                if (std::fscanf(f, "%ld %ld", &size, &pages) != 2) {
                    pages = 0;
                }
                std::fclose(f);
            }
            return static_cast<double>(pages) * static_cast<double>(::sysconf(_SC_PAGESIZE));
        });
    metrics_.add_callback_gauge("node_load1", "The 1-minute load average of the machine.", [] {
        double load[1] = {0};
        return ::getloadavg(load, 1) == 1 ? load[0] : 0.0;
    });
}

core::result<void> app::write_ready_file(const std::string& ready_file) const {
    if (ready_file.empty()) {
        return {};
    }
    const nlohmann::json ready = {
        {"http_port", http_port_}, {"rtmp_port", rtmp_port_}, {"pid", ::getpid()}};
    if (auto r = write_file_atomically(ready_file, ready.dump() + "\n"); !r) {
        return r.err().wrap("ready file");
    }
    return {};
}

core::result<void> app::build_edge(const std::string& ready_file) {
    if (cfg_.edge.upstream.empty()) {
        return core::make_error("the edge role needs an upstream: [edge] upstream or --upstream");
    }
    auto upstream = services::edge::parse_upstream_url(cfg_.edge.upstream);
    if (!upstream) {
        return upstream.err().wrap("config: edge.upstream");
    }
    services::edge::edge_config ec;
    ec.upstream = std::move(*upstream);
    ec.cache_bytes = static_cast<std::size_t>(cfg_.edge.cache_bytes);
    ec.max_object_bytes = static_cast<std::size_t>(cfg_.edge.max_object_bytes);
    ec.upstream_connections = static_cast<std::size_t>(cfg_.edge.upstream_connections);
    ec.upstream_timeout = std::chrono::milliseconds(cfg_.edge.upstream_timeout_ms);
    ec.connect_timeout = std::chrono::milliseconds(cfg_.edge.connect_timeout_ms);
    ec.negative_ttl_s = cfg_.edge.negative_ttl_s;
    ec.stale_if_error_s = cfg_.edge.stale_if_error_s;
    ec.max_pass_body_bytes = static_cast<std::size_t>(cfg_.http.max_body_bytes) * 4;

    pool_ = std::make_unique<net::io_pool>(static_cast<std::size_t>(cfg_.server.threads));
    router_ = std::make_shared<net::router>();
    auto http = net::http_server::bind(pool_->at(0), *pool_, router_, metrics_, http_options());
    if (!http) {
        return http.err();
    }
    http_ = std::move(*http);
    http_port_ = http_->port();
    add_operator_routes();
    // The upstream connections share the first event loop: a coalesced edge sends the
    // upstream little (one request per object), so one thread is plenty.
    edge_ =
        services::edge::edge_service::create(std::move(ec), pool_->at(0).get_executor(), metrics_);
    edge_->register_routes(*router_);

    http_->start();
    pool_->run();
    spdlog::info("livehouse edge listening http={} upstream={} threads={} cache_bytes={}",
                 codec::http::authority(cfg_.server.bind, http_port_), cfg_.edge.upstream,
                 pool_->size(), cfg_.edge.cache_bytes);
    return write_ready_file(ready_file);
}

core::result<void> app::build(const std::string& ready_file) {
    if (cfg_.server.role == "edge") {
        return build_edge(ready_file);
    }
    const auto& dir = cfg_.server.data_dir;
    if (auto r = ensure_writable_dir(dir); !r) {
        return r;
    }

    // Admin token: config/env first, else the file (created on first start).
    std::string admin_token = cfg_.admin.token;
    if (admin_token.empty()) {
        bool generated = false;
        auto t = load_or_create_admin_token(dir, generated);
        if (!t) {
            return t.err();
        }
        admin_token = std::move(*t);
        if (generated) {
            // Printed once, whatever the log level: this is the only time it is shown.
            fmt::print(stderr, "livehouse: generated admin token (saved in {}/admin.token): {}\n",
                       dir, admin_token);
        }
    }

    // User-token secret: config/env first, else <data_dir>/auth.secret (made on first start;
    // never printed or logged).
    std::string token_secret = cfg_.auth.token_secret;
    if (token_secret.empty()) {
        bool generated = false;
        auto s = load_or_create_auth_secret(dir, generated);
        if (!s) {
            return s.err();
        }
        token_secret = std::move(*s);
        if (generated) {
            spdlog::info("auth: generated the user-token secret in {}/auth.secret", dir);
        }
    }
    auto user_tokens = services::auth::user_tokens::create(
        {.secret = std::move(token_secret),
         .ttl = std::chrono::seconds(cfg_.auth.token_ttl_seconds),
         .limits = {},
         .cache_entries = static_cast<std::size_t>(cfg_.auth.verified_token_cache)},
        clock_);
    if (!user_tokens) {
        return user_tokens.err().wrap("auth");
    }

    auto store = state::broadcast_store::open(dir);
    if (!store) {
        return store.err();
    }
    store_ = std::move(*store);

    // Shared state: embedded unless [state] / --redis / --postgres point elsewhere.
    state::backends_options so;
    so.data_dir = dir;
    so.phase = cfg_.state.phase;
    so.redis = cfg_.state.redis;
    so.postgres = cfg_.state.postgres;
    so.shared = cfg_.state.shared;
    so.streams = cfg_.state.streams;
    so.records = cfg_.state.records;
    so.redis_reply_timeout = std::chrono::milliseconds(cfg_.state.redis_reply_timeout_ms);
    so.postgres_pool = static_cast<std::size_t>(cfg_.state.postgres_pool);
    so.postgres_acquire_timeout = std::chrono::milliseconds(cfg_.state.postgres_acquire_timeout_ms);
    if (std::array<char, 256> name{}; ::gethostname(name.data(), name.size() - 1) == 0) {
        so.node_name = name.data();
    }
    auto backends = state::backends::open(so);
    if (!backends) {
        return backends.err();
    }
    state_ = std::move(*backends);
    spdlog::info("state: {}", state_->describe());
    auto& backend_info = metrics_.add_gauge_family(
        "livehouse_state_backend_info", "The backend serving each kind of shared state (always 1).",
        {"kind", "backend"});
    backend_info.with({"shared", state_->shared_backend()}).set(1);
    backend_info.with({"streams", state_->streams_backend()}).set(1);
    backend_info.with({"records", state_->records_backend()}).set(1);
    // The database connections a load test puts beside its figures (seed 000: the 2020
    // incident was a connection pool running dry).
    metrics_.add_callback_gauge(
        "redis_connections",
        "Connections this node has up to Redis: commands and subscriptions, every node.",
        [st = state_.get()] { return static_cast<double>(st->redis_connections()); });
    metrics_.add_callback_gauge(
        "postgres_connections", "Open connections of this node's PostgreSQL pool.",
        [st = state_.get()] { return static_cast<double>(st->postgres_connections()); });

    auto records = store_->load_all();
    if (!records) {
        return records.err();
    }

    file_pool_ = std::make_unique<asio::thread_pool>(file_io_threads);
    // Archive writes are serialized per broadcast by media::archive itself, so the plain pool
    // is enough; VOD reads share it.
    media::task_runner file_io = [pool = file_pool_.get()](std::function<void()> task) {
        asio::post(*pool, std::move(task));
    };

    media::packager_config pc;
    pc.target_segment = std::chrono::milliseconds(cfg_.hls.segment_target_ms);
    pc.window_segments = cfg_.hls.window_segments;
    pc.grace_period = std::chrono::seconds(cfg_.hls.grace_period_s);
    pc.data_dir = dir;
    pc.segments_produced =
        &metrics_.add_counter("hls_segments_total", "HLS segments closed (all broadcasts).");
    pc.segment_bytes =
        &metrics_.add_counter("hls_segment_bytes_total", "Bytes of MPEG-TS in closed segments.");
    // Buckets from 50 us: the packager closes a segment inside the ingest read that delivered
    // the keyframe, so this delay is expected in the tens of microseconds.
    pc.playlist_delay = &metrics_.add_histogram(
        "hls_playlist_delay_seconds",
        "From the arrival of the frame that closed a segment to the playlist listing it.",
        {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25});
    registry_ = std::make_unique<media::broadcast_registry>(pc, clock_, file_io);
    // Before restore(): broadcasts a crash left live are ended by it, and that must persist.
    // Chat and love hear of status changes too (events to the room, the archives at the end);
    // chat_ and love_ are set below, before any thread runs: the observer reads them race-free.
    registry_->on_change([this, store = store_.get()](const media::broadcast_record& r) {
        store->save_later(r);
        if (chat_) {
            chat_->on_broadcast_change(r);
        }
        if (love_) {
            love_->on_broadcast_change(r);
        }
    });
    const auto restored = records->size();
    registry_->restore(std::move(*records));

    pool_ = std::make_unique<net::io_pool>(static_cast<std::size_t>(cfg_.server.threads));

    // Bind both listeners before wiring the services: they need the real ports.
    router_ = std::make_shared<net::router>();
    auto http = net::http_server::bind(pool_->at(0), *pool_, router_, metrics_, http_options());
    if (!http) {
        return http.err();
    }
    http_ = std::move(*http);
    http_port_ = http_->port();

    auto rtmp = net::tcp_listener::bind(pool_->at(0), *pool_, "rtmp", cfg_.server.bind,
                                        static_cast<std::uint16_t>(cfg_.rtmp.port));
    if (!rtmp) {
        return rtmp.err();
    }
    rtmp_ = std::move(*rtmp);
    rtmp_port_ = rtmp_->port();

    services_ = std::make_unique<services::service_context>(services::service_context{
        *registry_, clock_, admin_token, cfg_.server.host, http_port_, rtmp_port_, dir,
        cfg_.server.web_dir, file_io, std::move(*user_tokens)});

    // ---- HTTP routes ------------------------------------------------------------------------
    add_operator_routes();
    services::api::register_routes(*router_, *services_);
    {
        // Per address: the bucket holds a minute's worth. Overall: 20 seconds' worth.
        const double per_address = cfg_.auth.guests_per_address_per_minute;
        const double overall = cfg_.auth.guests_per_second;
        services::auth::register_routes(
            *router_, *services_,
            {.allow_guests = cfg_.auth.allow_guests,
             .guests_per_address = {.per_second = per_address / 60.0,
                                    .burst = per_address,
                                    .max_keys = 10000},
             .guests_overall = {.per_second = overall, .burst = overall * 20, .max_keys = 1}});
    }
    services::origin::register_routes(*router_, *services_);

    // ---- What other nodes ingest (live status, media position) -----------------------------
    auto cluster_keys = state_->keys("cluster");
    if (!cluster_keys) {
        return cluster_keys.err().wrap("cluster");
    }
    clocks_ = services::cluster::broadcast_clocks::create(state_->bus(), std::move(*cluster_keys),
                                                          *registry_, clock_);
    clocks_->start();

    // ---- Chat -------------------------------------------------------------------------------
    services::chat::chat_config cc;
    cc.shard_size = static_cast<std::size_t>(cfg_.chat.shard_size);
    cc.history = static_cast<std::size_t>(cfg_.chat.history);
    cc.max_log = static_cast<std::size_t>(cfg_.chat.max_log);
    cc.max_resume = static_cast<std::size_t>(cfg_.chat.max_resume);
    cc.max_text_chars = static_cast<std::size_t>(cfg_.chat.max_text_chars);
    cc.max_message_bytes = static_cast<std::size_t>(cfg_.chat.max_message_bytes);
    cc.user_messages_per_second = cfg_.chat.user_messages_per_minute / 60.0;
    cc.user_burst = cfg_.chat.user_burst;
    cc.deliver_per_second = cfg_.chat.deliver_per_second;
    cc.flush_interval = std::chrono::milliseconds(cfg_.chat.flush_interval_ms);
    cc.banned_words = cfg_.chat.banned_words;
    cc.send_soft_limit_bytes = static_cast<std::size_t>(cfg_.chat.send_soft_limit_bytes);
    cc.send_soft_limit_time = std::chrono::milliseconds(cfg_.chat.send_soft_limit_ms);
    cc.send_hard_limit_bytes = static_cast<std::size_t>(cfg_.chat.send_hard_limit_bytes);
    cc.accept_unknown_broadcasts = cfg_.chat.accept_unknown_broadcasts;
    auto chat_keys = state_->keys("chat");
    if (!chat_keys) {
        return chat_keys.err().wrap("chat");
    }
    chat_ = services::chat::chat_service::create(
        std::move(cc), services::chat::chat_deps{
                           state_->room_log(), state_->bus(), state_->sets(), state_->records(),
                           std::move(*chat_keys), *registry_, clock_, services_->user_tokens, dir,
                           file_io, pool_->at(0).get_executor(), metrics_, clocks_});
    services::chat::register_routes(*router_, chat_, admin_token);

    // ---- Love ---------------------------------------------------------------------------------
    auto love_keys = state_->keys("love");
    if (!love_keys) {
        return love_keys.err().wrap("love");
    }
    services::love::love_config lc;
    lc.policy.taps_per_second = cfg_.love.taps_per_second;
    lc.policy.burst_taps = cfg_.love.burst_taps;
    lc.policy.max_taps_per_batch = static_cast<std::size_t>(cfg_.love.max_taps_per_batch);
    lc.policy.max_tap_age_s = cfg_.love.max_tap_age_s;
    lc.flush_interval = std::chrono::milliseconds(cfg_.love.flush_interval_ms);
    lc.max_pending = static_cast<std::size_t>(cfg_.love.max_pending);
    lc.analytics_log = cfg_.love.analytics_log;
    love_ = services::love::love_service::create(
        std::move(lc),
        services::love::love_deps{*registry_, clock_, state_->love_counts(), std::move(*love_keys),
                                  pool_->at(0).get_executor(), metrics_, state_->records(), dir,
                                  file_io, clocks_});
    services::love::register_routes(*router_, love_, services_->user_tokens);
    love_->recover();
    services::web::register_routes(*router_, *services_);

    // ---- RTMP ingest ------------------------------------------------------------------------
    services::ingest::ingest_config ic;
    ic.chunk_size = static_cast<std::uint32_t>(cfg_.rtmp.chunk_size);
    ic.limits.max_chunk_size = static_cast<std::uint32_t>(cfg_.rtmp.max_chunk_size);
    ic.limits.max_message_length = static_cast<std::uint32_t>(cfg_.rtmp.max_message_bytes);
    ic.timeout = std::chrono::seconds(cfg_.rtmp.timeout_s);
    ingest_ = std::make_shared<services::ingest::rtmp_server>(*registry_, ic);
    ingest_->register_metrics(metrics_);
    // Each connection starts on the context the listener handed it to, for its whole life.
    rtmp_->start(
        [ingest = ingest_](asio::ip::tcp::socket socket) { ingest->accept(std::move(socket)); });

    // ---- Metrics ----------------------------------------------------------------------------
    metrics_.add_callback_gauge(
        "broadcasts_live", "Broadcasts with a publisher attached.",
        [reg = registry_.get()] { return static_cast<double>(reg->live_count()); });

    // ---- Go ---------------------------------------------------------------------------------
    http_->start();
    pool_->run();
    schedule_tick();

    spdlog::info("livehouse listening http={} rtmp={} threads={} data_dir={} restored={}",
                 codec::http::authority(cfg_.server.bind, http_port_),
                 codec::http::authority(cfg_.server.bind, rtmp_port_), pool_->size(), dir,
                 restored);
    return write_ready_file(ready_file);
}

void app::schedule_tick() {
    if (!registry_) {
        return; // the edge role has no broadcasts to tick
    }
    tick_timer_.expires_after(std::chrono::seconds(1));
    tick_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec) {
            return;
        }
        // Grace periods: suspended broadcasts whose publisher did not come back end here.
        registry_->tick();
        if (clocks_) {
            clocks_->tick();
        }
        if (love_ && chat_) {
            love_->tick([chat = chat_](const std::string& id, std::int64_t total) {
                chat->publish_event(id, codec::chat::render_love(total));
            });
        }
        schedule_tick();
    });
}

int app::run() {
    asio::signal_set signals(main_ctx_, SIGINT, SIGTERM);
    signals.async_wait([this](const boost::system::error_code& ec, int signo) {
        if (ec) {
            return;
        }
        spdlog::info("livehouse stopping signal={}", signo == SIGTERM ? "SIGTERM" : "SIGINT");
        request_stop();
    });
    main_ctx_.run();
    // A second signal during shutdown gets the default action (terminate): an operator who
    // presses Ctrl-C twice means it.
    boost::system::error_code ignored;
    signals.clear(ignored);
    shutdown();
    spdlog::info("livehouse stopped");
    return 0;
}

void app::request_stop() {
    asio::post(main_ctx_, [this] {
        tick_timer_.cancel();
        main_ctx_.stop();
    });
}

void app::shutdown() {
    if (shut_down_) {
        return;
    }
    shut_down_ = true;
    // 1. Stop accepting (existing connections keep being served for now).
    if (http_) {
        http_->stop();
    }
    if (rtmp_) {
        rtmp_->stop();
    }
    // Publishers are disconnected (their broadcasts go suspended, then end just below).
    if (ingest_) {
        ingest_->close_all();
    }
    // 2. End every live broadcast: playlists finalized (ENDLIST), archive playlists queued.
    if (registry_) {
        registry_->shutdown();
    }
    // Love batches still pending are written (and answered) while the event loops run, and
    // the final counts of the broadcasts just ended go to the records.
    if (love_) {
        love_->close();
        if (!love_->wait_for_finals(std::chrono::seconds(10))) {
            spdlog::warn("shutdown: final love counts still pending after 10 s; not waiting");
        }
    }
    // Chat archives start with a read of the room's log (Redis, when configured) and only
    // then queue their file write: wait for them before the pool stops taking work.
    if (chat_ && !chat_->wait_for_archives(std::chrono::seconds(10))) {
        spdlog::warn("shutdown: chat archives still pending after 10 s; not waiting longer");
    }
    // The edge: queued upstream fetches fail and every body still arriving fails, so no
    // session waits on one when the event loops stop.
    if (edge_) {
        edge_->close();
    }
    // 3. Let the file I/O pool finish what is queued (the archive writes just requested).
    if (file_pool_) {
        file_pool_->join();
    }
    // 4. Stop the event loops; connections are dropped with their contexts.
    if (pool_) {
        pool_->stop();
        pool_->join();
    }
    // Rooms hold timers on the pool's contexts: dropped while the contexts still exist.
    if (chat_) {
        chat_->close();
    }
    if (clocks_) {
        clocks_->close();
    }

    http_.reset();
    rtmp_.reset();
    ingest_.reset();
    pool_.reset(); // destroys the sessions while everything they reference is still alive
    // 5. Persist the final states (the registry's observer queued them).
    if (store_) {
        store_->close();
    }
}

} // namespace livehouse::server
