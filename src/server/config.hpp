// The whole configuration of `livehouse serve`: a plain struct with every key's default.
// Precedence: these defaults < the TOML file (--config) < LIVEHOUSE_* environment < flags.
// config/livehouse.example.toml documents every key; config_loader.hpp reads and checks them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace livehouse::server {

struct server_section {
    std::string host = "localhost"; ///< the address put into URLs (RTMP ingest URL, links)
    std::string bind = "0.0.0.0";   ///< the address both listeners bind
    int threads = 0;                ///< io threads; 0: one per hardware thread
    std::string data_dir = "./data";
    std::string web_dir; ///< "": the source tree's web/ baked in at build time, else ./web
    /// all: every role in one process (ingest, origin, API, chat, love). edge: a cache in
    /// front of [edge] upstream, serving the same URLs (docs/EDGE.md).
    std::string role = "all";
};

struct rtmp_section {
    int port = 1935;
    std::int64_t chunk_size = 4096;                   ///< outgoing chunk size (Set Chunk Size)
    std::int64_t max_message_bytes = 8 * 1024 * 1024; ///< one incoming message
    std::int64_t max_chunk_size = 16 * 1024 * 1024;   ///< largest Set Chunk Size accepted
    int timeout_s = 10;                               ///< handshake / idle publisher timeout
};

struct http_section {
    int port = 8080;
    std::int64_t max_body_bytes = 1024 * 1024;
    std::int64_t max_header_bytes = 16 * 1024;
    int timeout_s = 30;      ///< reading one request
    int idle_timeout_s = 60; ///< an idle keep-alive connection
};

struct hls_section {
    int segment_target_ms = 2000;
    int window_segments = 6;
    int grace_period_s = 30; ///< suspended (publisher gone) -> ended
};

struct admin_section {
    /// "": LIVEHOUSE_ADMIN_TOKEN, else <data_dir>/admin.token (generated on first start).
    std::string token;
};

/// User tokens (HS256 JWTs) for chat and the other live features: docs/API.md, "Auth".
struct auth_section {
    /// HMAC key, at least 32 bytes. "": LIVEHOUSE_AUTH_TOKEN_SECRET, else
    /// <data_dir>/auth.secret (generated on first start, never printed).
    std::string token_secret;
    int token_ttl_seconds = 86400;          ///< lifetime of guest tokens
    bool allow_guests = true;               ///< POST /api/v1/auth/guest (403 when false)
    int guests_per_address_per_minute = 10; ///< guest tokens per client address (burst: same)
    int guests_per_second = 5;              ///< guest tokens for all clients (burst: 20 s worth)
    int verified_token_cache = 65536;       ///< tokens remembered once verified (0: none)
};

/// Where shared state lives (docs/ARCHITECTURE.md, "State: what lives where"). "auto": the
/// server engine when its address is given (redis / postgres), else embedded.
struct state_section {
    std::string phase = "release"; ///< the phase in every key, "service|phase|key" (seed 002)
    std::string redis;             ///< "host:port[,host:port...]" or redis://[:pw@]host:port,...
    std::string postgres;          ///< libpq conninfo, e.g. "host=db dbname=livehouse user=lh"
    std::string shared = "auto";  ///< counters, rankings, sets, bus, inventory: auto|embedded|redis
    std::string streams = "auto"; ///< durable streams: auto|embedded|redis
    std::string records = "auto"; ///< relational records: auto|embedded|postgres
    int redis_reply_timeout_ms = 5000;
    int postgres_pool = 8;                 ///< connections (and worker threads)
    int postgres_acquire_timeout_ms = 250; ///< then "records unavailable" (HTTP 503)
};

/// Live chat (docs/API.md, "Chat"); services/chat/chat_config.hpp says what each does.
struct chat_section {
    int shard_size = 2000;
    int history = 100;
    int max_log = 100000;
    int max_resume = 1000;
    int max_text_chars = 500;
    int max_message_bytes = 4096;
    int user_messages_per_minute = 60;
    int user_burst = 5;
    int deliver_per_second = 30;
    int flush_interval_ms = 100;
    std::vector<std::string> banned_words;
    int send_soft_limit_bytes = 256 * 1024;
    int send_soft_limit_ms = 10000;
    int send_hard_limit_bytes = 1024 * 1024;
    bool accept_unknown_broadcasts = false;
};

/// Love (hearts; docs/API.md, "Love"); services/love/anti_cheat.hpp and love_service.hpp say
/// what each does.
struct love_section {
    int taps_per_second = 10;
    int burst_taps = 50;
    int max_taps_per_batch = 100;
    int max_tap_age_s = 60;
    int flush_interval_ms = 2;
    int max_pending = 100000;
    bool analytics_log = true;
};

/// The edge role (docs/EDGE.md); services/edge/edge_config.hpp says what each does.
struct edge_section {
    std::string upstream; ///< http://host:port of the origin or of another edge
    std::int64_t cache_bytes = 256LL * 1024 * 1024;
    std::int64_t max_object_bytes = 16LL * 1024 * 1024;
    int upstream_connections = 64;
    int upstream_timeout_ms = 10000;
    int connect_timeout_ms = 2000;
    int negative_ttl_s = 1;
    int stale_if_error_s = 60;
};

struct log_section {
    std::string level = "info";  ///< trace, debug, info, warn, error, critical, off
    std::string format = "text"; ///< text | json (one JSON object per line)
};

struct config {
    server_section server;
    rtmp_section rtmp;
    http_section http;
    hls_section hls;
    admin_section admin;
    auth_section auth;
    state_section state;
    chat_section chat;
    love_section love;
    edge_section edge;
    log_section log;
};

} // namespace livehouse::server
