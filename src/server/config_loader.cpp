// Config loading: one table of keys shared by the TOML reader, the environment and the flags.
#include "server/config_loader.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <sstream>
#include <toml++/toml.h>
#include <utility>
#include <vector>

namespace livehouse::server {

namespace {

enum class value_type { string, integer, boolean, string_list };

// One configuration key. Setters are plain function pointers (captureless lambdas).
struct key_spec {
    std::string_view section;
    std::string_view key;
    std::string_view env;  ///< LIVEHOUSE_* variable, or empty
    std::string_view flag; ///< command-line flag, or empty
    value_type type;
    std::int64_t min = 0; ///< integers: the range; strings: the shortest non-empty value
    std::int64_t max = 0;
    std::string_view allowed; ///< strings: comma-separated accepted values, or empty
    bool allow_empty = true;  ///< strings: may be ""
    void (*set_int)(config&, std::int64_t) = nullptr;
    void (*set_string)(config&, std::string) = nullptr;
    void (*set_bool)(config&, bool) = nullptr;
    /// string_list (config file only: a TOML array of strings, each 1..max bytes).
    void (*set_list)(config&, std::vector<std::string>) = nullptr;
};

// clang-format off
const std::array<key_spec, 67> keys = {{
    {"server", "host", "LIVEHOUSE_HOST", "--host", value_type::string, 0, 0, "", false,
     nullptr, [](config& c, std::string v) { c.server.host = std::move(v); }},
    {"server", "bind", "LIVEHOUSE_BIND", "--bind", value_type::string, 0, 0, "", false,
     nullptr, [](config& c, std::string v) { c.server.bind = std::move(v); }},
    {"server", "threads", "LIVEHOUSE_THREADS", "--threads", value_type::integer, 0, 1024, "", true,
     [](config& c, std::int64_t v) { c.server.threads = static_cast<int>(v); }, nullptr},
    {"server", "data_dir", "LIVEHOUSE_DATA_DIR", "--data-dir", value_type::string, 0, 0, "", false,
     nullptr, [](config& c, std::string v) { c.server.data_dir = std::move(v); }},
    {"server", "web_dir", "", "", value_type::string, 0, 0, "", true,
     nullptr, [](config& c, std::string v) { c.server.web_dir = std::move(v); }},
    {"server", "role", "LIVEHOUSE_ROLE", "--role", value_type::string, 0, 0, "all,edge", false,
     nullptr, [](config& c, std::string v) { c.server.role = std::move(v); }},

    {"rtmp", "port", "LIVEHOUSE_RTMP_PORT", "--rtmp-port", value_type::integer, 0, 65535, "", true,
     [](config& c, std::int64_t v) { c.rtmp.port = static_cast<int>(v); }, nullptr},
    // RTMP spec §5.4.1: chunk sizes are 31-bit; in practice no peer sends above 0xFFFFFF.
    {"rtmp", "chunk_size", "", "", value_type::integer, 128, 0xFFFFFF, "", true,
     [](config& c, std::int64_t v) { c.rtmp.chunk_size = v; }, nullptr},
    // RTMP spec §5.3.1.2.1: message length is a 3-byte field.
    {"rtmp", "max_message_bytes", "", "", value_type::integer, 1024, 0xFFFFFF, "", true,
     [](config& c, std::int64_t v) { c.rtmp.max_message_bytes = v; }, nullptr},
    {"rtmp", "max_chunk_size", "", "", value_type::integer, 128, 0x7FFFFFFF, "", true,
     [](config& c, std::int64_t v) { c.rtmp.max_chunk_size = v; }, nullptr},
    {"rtmp", "timeout_s", "", "", value_type::integer, 1, 3600, "", true,
     [](config& c, std::int64_t v) { c.rtmp.timeout_s = static_cast<int>(v); }, nullptr},

    {"http", "port", "LIVEHOUSE_HTTP_PORT", "--http-port", value_type::integer, 0, 65535, "", true,
     [](config& c, std::int64_t v) { c.http.port = static_cast<int>(v); }, nullptr},
    {"http", "max_body_bytes", "", "", value_type::integer, 0, 1LL << 30, "", true,
     [](config& c, std::int64_t v) { c.http.max_body_bytes = v; }, nullptr},
    {"http", "max_header_bytes", "", "", value_type::integer, 1024, 1 << 20, "", true,
     [](config& c, std::int64_t v) { c.http.max_header_bytes = v; }, nullptr},
    {"http", "timeout_s", "", "", value_type::integer, 1, 3600, "", true,
     [](config& c, std::int64_t v) { c.http.timeout_s = static_cast<int>(v); }, nullptr},
    {"http", "idle_timeout_s", "", "", value_type::integer, 1, 3600, "", true,
     [](config& c, std::int64_t v) { c.http.idle_timeout_s = static_cast<int>(v); }, nullptr},

    {"hls", "segment_target_ms", "", "", value_type::integer, 500, 60000, "", true,
     [](config& c, std::int64_t v) { c.hls.segment_target_ms = static_cast<int>(v); }, nullptr},
    // RFC 8216 §6.2.2: a live playlist MUST hold at least three target durations of segments.
    {"hls", "window_segments", "", "", value_type::integer, 3, 1000, "", true,
     [](config& c, std::int64_t v) { c.hls.window_segments = static_cast<int>(v); }, nullptr},
    {"hls", "grace_period_s", "", "", value_type::integer, 0, 86400, "", true,
     [](config& c, std::int64_t v) { c.hls.grace_period_s = static_cast<int>(v); }, nullptr},

    {"admin", "token", "LIVEHOUSE_ADMIN_TOKEN", "", value_type::string, 0, 0, "", true,
     nullptr, [](config& c, std::string v) { c.admin.token = std::move(v); }},

    // RFC 7518 §3.2: an HS256 key MUST be at least as long as the hash output (32 bytes).
    {"auth", "token_secret", "LIVEHOUSE_AUTH_TOKEN_SECRET", "", value_type::string, 32, 0, "", true,
     nullptr, [](config& c, std::string v) { c.auth.token_secret = std::move(v); }},
    {"auth", "token_ttl_seconds", "", "", value_type::integer, 60, 31536000, "", true,
     [](config& c, std::int64_t v) { c.auth.token_ttl_seconds = static_cast<int>(v); }, nullptr},
    {"auth", "allow_guests", "", "", value_type::boolean, 0, 0, "", true,
     nullptr, nullptr, [](config& c, bool v) { c.auth.allow_guests = v; }},
    {"auth", "guests_per_address_per_minute", "", "", value_type::integer, 1, 100000, "", true,
     [](config& c, std::int64_t v) { c.auth.guests_per_address_per_minute = static_cast<int>(v); },
     nullptr},
    {"auth", "guests_per_second", "", "", value_type::integer, 1, 100000, "", true,
     [](config& c, std::int64_t v) { c.auth.guests_per_second = static_cast<int>(v); }, nullptr},
    {"auth", "verified_token_cache", "", "", value_type::integer, 0, 10000000, "", true,
     [](config& c, std::int64_t v) { c.auth.verified_token_cache = static_cast<int>(v); },
     nullptr},

    {"state", "phase", "LIVEHOUSE_STATE_PHASE", "", value_type::string, 0, 0, "", false,
     nullptr, [](config& c, std::string v) { c.state.phase = std::move(v); }},
    {"state", "redis", "LIVEHOUSE_REDIS", "--redis", value_type::string, 0, 0, "", true,
     nullptr, [](config& c, std::string v) { c.state.redis = std::move(v); }},
    {"state", "postgres", "LIVEHOUSE_POSTGRES", "--postgres", value_type::string, 0, 0, "", true,
     nullptr, [](config& c, std::string v) { c.state.postgres = std::move(v); }},
    {"state", "shared", "", "", value_type::string, 0, 0, "auto,embedded,redis", false,
     nullptr, [](config& c, std::string v) { c.state.shared = std::move(v); }},
    {"state", "streams", "", "", value_type::string, 0, 0, "auto,embedded,redis", false,
     nullptr, [](config& c, std::string v) { c.state.streams = std::move(v); }},
    {"state", "records", "", "", value_type::string, 0, 0, "auto,embedded,postgres", false,
     nullptr, [](config& c, std::string v) { c.state.records = std::move(v); }},
    {"state", "redis_reply_timeout_ms", "", "", value_type::integer, 100, 600000, "", true,
     [](config& c, std::int64_t v) { c.state.redis_reply_timeout_ms = static_cast<int>(v); },
     nullptr},
    {"state", "postgres_pool", "", "", value_type::integer, 1, 256, "", true,
     [](config& c, std::int64_t v) { c.state.postgres_pool = static_cast<int>(v); }, nullptr},
    {"state", "postgres_acquire_timeout_ms", "", "", value_type::integer, 1, 60000, "", true,
     [](config& c, std::int64_t v) { c.state.postgres_acquire_timeout_ms = static_cast<int>(v); },
     nullptr},

    {"chat", "shard_size", "", "", value_type::integer, 1, 1000000, "", true,
     [](config& c, std::int64_t v) { c.chat.shard_size = static_cast<int>(v); }, nullptr},
    {"chat", "history", "", "", value_type::integer, 0, 1000, "", true,
     [](config& c, std::int64_t v) { c.chat.history = static_cast<int>(v); }, nullptr},
    {"chat", "max_log", "", "", value_type::integer, 1, 1000000, "", true,
     [](config& c, std::int64_t v) { c.chat.max_log = static_cast<int>(v); }, nullptr},
    {"chat", "max_resume", "", "", value_type::integer, 0, 9999, "", true,
     [](config& c, std::int64_t v) { c.chat.max_resume = static_cast<int>(v); }, nullptr},
    {"chat", "max_text_chars", "", "", value_type::integer, 1, 60000, "", true,
     [](config& c, std::int64_t v) { c.chat.max_text_chars = static_cast<int>(v); }, nullptr},
    {"chat", "max_message_bytes", "", "", value_type::integer, 128, 1 << 20, "", true,
     [](config& c, std::int64_t v) { c.chat.max_message_bytes = static_cast<int>(v); }, nullptr},
    {"chat", "user_messages_per_minute", "", "", value_type::integer, 1, 6000000, "", true,
     [](config& c, std::int64_t v) { c.chat.user_messages_per_minute = static_cast<int>(v); },
     nullptr},
    {"chat", "user_burst", "", "", value_type::integer, 1, 1000000, "", true,
     [](config& c, std::int64_t v) { c.chat.user_burst = static_cast<int>(v); }, nullptr},
    {"chat", "deliver_per_second", "", "", value_type::integer, 1, 1000000, "", true,
     [](config& c, std::int64_t v) { c.chat.deliver_per_second = static_cast<int>(v); }, nullptr},
    {"chat", "flush_interval_ms", "", "", value_type::integer, 0, 1000, "", true,
     [](config& c, std::int64_t v) { c.chat.flush_interval_ms = static_cast<int>(v); }, nullptr},
    {"chat", "banned_words", "", "", value_type::string_list, 1, 64, "", true,
     nullptr, nullptr, nullptr,
     [](config& c, std::vector<std::string> v) { c.chat.banned_words = std::move(v); }},
    {"chat", "send_soft_limit_bytes", "", "", value_type::integer, 4096, 1 << 30, "", true,
     [](config& c, std::int64_t v) { c.chat.send_soft_limit_bytes = static_cast<int>(v); },
     nullptr},
    {"chat", "send_soft_limit_ms", "", "", value_type::integer, 0, 3600000, "", true,
     [](config& c, std::int64_t v) { c.chat.send_soft_limit_ms = static_cast<int>(v); }, nullptr},
    {"chat", "send_hard_limit_bytes", "", "", value_type::integer, 4096, 1 << 30, "", true,
     [](config& c, std::int64_t v) { c.chat.send_hard_limit_bytes = static_cast<int>(v); },
     nullptr},
    {"chat", "accept_unknown_broadcasts", "", "", value_type::boolean, 0, 0, "", true,
     nullptr, nullptr, [](config& c, bool v) { c.chat.accept_unknown_broadcasts = v; }},

    {"love", "taps_per_second", "", "", value_type::integer, 1, 1000, "", true,
     [](config& c, std::int64_t v) { c.love.taps_per_second = static_cast<int>(v); }, nullptr},
    {"love", "burst_taps", "", "", value_type::integer, 1, 100000, "", true,
     [](config& c, std::int64_t v) { c.love.burst_taps = static_cast<int>(v); }, nullptr},
    {"love", "max_taps_per_batch", "", "", value_type::integer, 1, 5000, "", true,
     [](config& c, std::int64_t v) { c.love.max_taps_per_batch = static_cast<int>(v); }, nullptr},
    {"love", "max_tap_age_s", "", "", value_type::integer, 1, 86400, "", true,
     [](config& c, std::int64_t v) { c.love.max_tap_age_s = static_cast<int>(v); }, nullptr},
    {"love", "flush_interval_ms", "", "", value_type::integer, 0, 1000, "", true,
     [](config& c, std::int64_t v) { c.love.flush_interval_ms = static_cast<int>(v); }, nullptr},
    {"love", "analytics_log", "", "", value_type::boolean, 0, 0, "", true, nullptr, nullptr,
     [](config& c, bool v) { c.love.analytics_log = v; }},
    {"love", "max_pending", "", "", value_type::integer, 100, 10000000, "", true,
     [](config& c, std::int64_t v) { c.love.max_pending = static_cast<int>(v); }, nullptr},

    {"edge", "upstream", "LIVEHOUSE_EDGE_UPSTREAM", "--upstream", value_type::string, 0, 0, "",
     true, nullptr, [](config& c, std::string v) { c.edge.upstream = std::move(v); }},
    {"edge", "cache_bytes", "", "", value_type::integer, 64 * 1024, 1LL << 40, "", true,
     [](config& c, std::int64_t v) { c.edge.cache_bytes = v; }, nullptr},
    {"edge", "max_object_bytes", "", "", value_type::integer, 1024, 1LL << 32, "", true,
     [](config& c, std::int64_t v) { c.edge.max_object_bytes = v; }, nullptr},
    {"edge", "upstream_connections", "", "", value_type::integer, 1, 4096, "", true,
     [](config& c, std::int64_t v) { c.edge.upstream_connections = static_cast<int>(v); },
     nullptr},
    {"edge", "upstream_timeout_ms", "", "", value_type::integer, 100, 600000, "", true,
     [](config& c, std::int64_t v) { c.edge.upstream_timeout_ms = static_cast<int>(v); }, nullptr},
    {"edge", "connect_timeout_ms", "", "", value_type::integer, 100, 60000, "", true,
     [](config& c, std::int64_t v) { c.edge.connect_timeout_ms = static_cast<int>(v); }, nullptr},
    {"edge", "negative_ttl_s", "", "", value_type::integer, 0, 3600, "", true,
     [](config& c, std::int64_t v) { c.edge.negative_ttl_s = static_cast<int>(v); }, nullptr},
    {"edge", "stale_if_error_s", "", "", value_type::integer, 0, 604800, "", true,
     [](config& c, std::int64_t v) { c.edge.stale_if_error_s = static_cast<int>(v); }, nullptr},

    {"log", "level", "LIVEHOUSE_LOG_LEVEL", "--log-level", value_type::string, 0, 0,
     "trace,debug,info,warn,error,critical,off", false,
     nullptr, [](config& c, std::string v) { c.log.level = std::move(v); }},
    {"log", "format", "", "", value_type::string, 0, 0, "text,json", false,
     nullptr, [](config& c, std::string v) { c.log.format = std::move(v); }},
}};
// clang-format on

bool is_allowed(std::string_view allowed, std::string_view v) {
    while (!allowed.empty()) {
        const auto comma = allowed.find(',');
        if (allowed.substr(0, comma) == v) {
            return true;
        }
        if (comma == std::string_view::npos) {
            break;
        }
        allowed.remove_prefix(comma + 1);
    }
    return false;
}

// Checks and sets a string value; `name` is how the source calls it (key, variable or flag).
core::result<void> set_string(config& c, const key_spec& k, std::string v, std::string_view name) {
    if (!k.allow_empty && v.empty()) {
        return core::make_error(fmt::format("{}: must not be empty", name));
    }
    if (!k.allowed.empty() && !is_allowed(k.allowed, v)) {
        return core::make_error(fmt::format("{}: '{}' is not one of {}", name, v, k.allowed));
    }
    // The value is not quoted: strings with a minimum length are secrets.
    if (!v.empty() && std::cmp_less(v.size(), k.min)) {
        return core::make_error(fmt::format("{}: shorter than {} bytes", name, k.min));
    }
    k.set_string(c, std::move(v));
    return {};
}

core::result<void> set_integer(config& c, const key_spec& k, std::int64_t v,
                               std::string_view name) {
    if (v < k.min || v > k.max) {
        return core::make_error(
            fmt::format("{}: {} is out of range {}..{}", name, v, k.min, k.max));
    }
    k.set_int(c, v);
    return {};
}

// Environment variables and flags are text: the same checks, after parsing integers.
core::result<void> set_from_text(config& c, const key_spec& k, const std::string& text,
                                 std::string_view name) {
    if (k.type == value_type::string) {
        return set_string(c, k, text, name);
    }
    if (k.type == value_type::boolean) {
        if (text != "true" && text != "false") {
            return core::make_error(
                fmt::format("{}: expected true or false, got '{}'", name, text));
        }
        k.set_bool(c, text == "true");
        return {};
    }
    std::int64_t v = 0;
    const auto* end = text.data() + text.size();
    const auto [p, ec] = std::from_chars(text.data(), end, v);
    if (text.empty() || ec != std::errc() || p != end) {
        return core::make_error(fmt::format("{}: expected an integer, got '{}'", name, text));
    }
    return set_integer(c, k, v, name);
}

std::string_view type_name(const toml::node& n) {
    switch (n.type()) {
    case toml::node_type::table:
        return "table";
    case toml::node_type::array:
        return "array";
    case toml::node_type::string:
        return "string";
    case toml::node_type::integer:
        return "integer";
    case toml::node_type::floating_point:
        return "float";
    case toml::node_type::boolean:
        return "boolean";
    case toml::node_type::date:
    case toml::node_type::time:
    case toml::node_type::date_time:
        return "date/time";
    default:
        return "nothing";
    }
}

const key_spec* find_flag(std::string_view flag) {
    for (const auto& k : keys) {
        if (k.flag == flag) {
            return &k;
        }
    }
    return nullptr;
}

} // namespace

env_lookup process_env() {
    return [](const std::string& name) -> std::optional<std::string> {
        // getenv is only unsafe against concurrent setenv, which livehouse never calls.
        const char* v = std::getenv(name.c_str()); // NOLINT(concurrency-mt-unsafe)
        if (v == nullptr) {
            return std::nullopt;
        }
        return std::string(v);
    };
}

core::result<void> apply_toml(config& c, std::string_view text, std::string_view source) {
    toml::table root;
    try {
        root = toml::parse(text, source);
    } catch (const toml::parse_error& e) {
        const auto& where = e.source().begin;
        return core::make_error(
            fmt::format("config: {}:{}:{}: {}", source, where.line, where.column, e.description()));
    }
    for (auto&& [section_key, section_node] : root) {
        const std::string_view section = section_key.str();
        const bool known = std::any_of(keys.begin(), keys.end(),
                                       [&](const key_spec& k) { return k.section == section; });
        if (!known) {
            return core::make_error(fmt::format("config: unknown section [{}]", section));
        }
        const auto* table = section_node.as_table();
        if (table == nullptr) {
            return core::make_error(fmt::format("config: {}: expected a table, got {}", section,
                                                type_name(section_node)));
        }
        for (auto&& [key_key, node] : *table) {
            const std::string_view key = key_key.str();
            const auto* spec = static_cast<const key_spec*>(nullptr);
            for (const auto& k : keys) {
                if (k.section == section && k.key == key) {
                    spec = &k;
                }
            }
            const auto name = fmt::format("{}.{}", section, key);
            if (spec == nullptr) {
                return core::make_error(fmt::format("config: unknown key {}", name));
            }
            core::result<void> r;
            if (spec->type == value_type::integer) {
                const auto* v = node.as_integer();
                if (v == nullptr) {
                    return core::make_error(fmt::format("config: {}: expected an integer, got {}",
                                                        name, type_name(node)));
                }
                r = set_integer(c, *spec, v->get(), name);
            } else if (spec->type == value_type::boolean) {
                const auto* v = node.as_boolean();
                if (v == nullptr) {
                    return core::make_error(fmt::format("config: {}: expected a boolean, got {}",
                                                        name, type_name(node)));
                }
                spec->set_bool(c, v->get());
            } else if (spec->type == value_type::string_list) {
                const auto* arr = node.as_array();
                if (arr == nullptr) {
                    return core::make_error(fmt::format(
                        "config: {}: expected an array of strings, got {}", name, type_name(node)));
                }
                std::vector<std::string> list;
                for (const auto& item : *arr) {
                    const auto* v = item.as_string();
                    if (v == nullptr || v->get().empty() ||
                        std::cmp_greater(v->get().size(), spec->max)) {
                        return core::make_error(
                            fmt::format("config: {}: every item must be a string of 1..{} bytes",
                                        name, spec->max));
                    }
                    list.push_back(v->get());
                }
                spec->set_list(c, std::move(list));
            } else {
                const auto* v = node.as_string();
                if (v == nullptr) {
                    return core::make_error(fmt::format("config: {}: expected a string, got {}",
                                                        name, type_name(node)));
                }
                r = set_string(c, *spec, v->get(), name);
            }
            if (!r) {
                return r.err().wrap("config");
            }
        }
    }
    return {};
}

core::result<void> apply_toml_file(config& c, const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return core::make_error(fmt::format("config: cannot read {}", path));
    }
    std::ostringstream text;
    text << in.rdbuf();
    return apply_toml(c, text.str(), path);
}

core::result<void> apply_env(config& c, const env_lookup& env) {
    for (const auto& k : keys) {
        if (k.env.empty()) {
            continue;
        }
        const std::string name(k.env);
        const auto v = env(name);
        // Set but empty counts as unset: "LIVEHOUSE_HTTP_PORT= livehouse serve" is a common
        // way to clear a variable in a shell.
        if (!v || v->empty()) {
            continue;
        }
        if (auto r = set_from_text(c, k, *v, name); !r) {
            return r;
        }
    }
    return {};
}

core::result<void> apply_flags(config& c, const cli_overrides& flags) {
    const std::pair<std::string_view, const std::optional<std::string>*> given[] = {
        {"--host", &flags.host},           {"--bind", &flags.bind},
        {"--rtmp-port", &flags.rtmp_port}, {"--http-port", &flags.http_port},
        {"--data-dir", &flags.data_dir},   {"--threads", &flags.threads},
        {"--log-level", &flags.log_level}, {"--redis", &flags.redis},
        {"--postgres", &flags.postgres},   {"--role", &flags.role},
        {"--upstream", &flags.upstream},
    };
    for (const auto& [flag, value] : given) {
        if (!value->has_value()) {
            continue;
        }
        const auto* spec = find_flag(flag);
        if (auto r = set_from_text(c, *spec, **value, flag); !r) {
            return r;
        }
    }
    return {};
}

std::string default_web_dir() {
#ifdef LIVEHOUSE_SOURCE_WEB_DIR
    std::error_code ec;
    if (std::filesystem::is_directory(LIVEHOUSE_SOURCE_WEB_DIR, ec)) {
        return LIVEHOUSE_SOURCE_WEB_DIR;
    }
#endif
    return "./web";
}

core::result<config> load_config(const cli_overrides& flags, const env_lookup& env) {
    config c;
    if (flags.config_file) {
        if (auto r = apply_toml_file(c, *flags.config_file); !r) {
            return r.err();
        }
    }
    if (auto r = apply_env(c, env); !r) {
        return r.err();
    }
    if (auto r = apply_flags(c, flags); !r) {
        return r.err();
    }
    if (c.server.web_dir.empty()) {
        c.server.web_dir = default_web_dir();
    }
    return c;
}

} // namespace livehouse::server
