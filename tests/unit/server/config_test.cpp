// Configuration: defaults < TOML file < environment < flags, and errors that name the key.
#include "server/config_loader.hpp"

#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <map>
#include <random>

namespace livehouse::server {
namespace {

env_lookup env_of(std::map<std::string, std::string> vars) {
    return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
        auto it = vars.find(name);
        if (it == vars.end()) {
            return std::nullopt;
        }
        return it->second;
    };
}

class temp_file {
  public:
    explicit temp_file(const std::string& text) {
        std::random_device rd;
        path_ = (std::filesystem::temp_directory_path() /
                 ("livehouse-config-" + std::to_string(rd()) + ".toml"))
                    .string();
        std::ofstream(path_) << text;
    }
    ~temp_file() { std::filesystem::remove(path_); }
    temp_file(const temp_file&) = delete;
    temp_file& operator=(const temp_file&) = delete;
    [[nodiscard]] const std::string& path() const { return path_; }

  private:
    std::string path_;
};

std::string error_of(std::string_view toml) {
    config c;
    auto r = apply_toml(c, toml, "test.toml");
    return r ? std::string("(no error)") : r.err().message;
}

TEST(config, defaults) {
    auto c = load_config({}, env_of({}));
    ASSERT_TRUE(c) << c.err().message;
    EXPECT_EQ(c->server.host, "localhost");
    EXPECT_EQ(c->server.bind, "0.0.0.0");
    EXPECT_EQ(c->server.threads, 0);
    EXPECT_EQ(c->server.data_dir, "./data");
    EXPECT_FALSE(c->server.web_dir.empty()); // resolved to a default
    EXPECT_EQ(c->rtmp.port, 1935);
    EXPECT_EQ(c->rtmp.chunk_size, 4096);
    EXPECT_EQ(c->rtmp.max_message_bytes, 8388608);
    EXPECT_EQ(c->rtmp.max_chunk_size, 16777216);
    EXPECT_EQ(c->rtmp.timeout_s, 10);
    EXPECT_EQ(c->http.port, 8080);
    EXPECT_EQ(c->http.max_body_bytes, 1048576);
    EXPECT_EQ(c->http.max_header_bytes, 16384);
    EXPECT_EQ(c->http.timeout_s, 30);
    EXPECT_EQ(c->hls.segment_target_ms, 2000);
    EXPECT_EQ(c->hls.window_segments, 6);
    EXPECT_EQ(c->hls.grace_period_s, 30);
    EXPECT_EQ(c->admin.token, "");
    EXPECT_EQ(c->auth.token_secret, "");
    EXPECT_EQ(c->auth.token_ttl_seconds, 86400);
    EXPECT_TRUE(c->auth.allow_guests);
    EXPECT_EQ(c->log.level, "info");
    EXPECT_EQ(c->log.format, "text");
}

TEST(config, file_sets_every_section) {
    config c;
    auto r = apply_toml(c, R"(
[server]
host = "live.example.org"
bind = "127.0.0.1"
threads = 3
data_dir = "/var/lib/livehouse"
web_dir = "/srv/web"
[rtmp]
port = 1936
chunk_size = 60000
max_message_bytes = 1048576
max_chunk_size = 65536
timeout_s = 5
[http]
port = 8081
max_body_bytes = 2048
max_header_bytes = 4096
timeout_s = 7
idle_timeout_s = 9
[hls]
segment_target_ms = 4000
window_segments = 5
grace_period_s = 60
[admin]
token = "secret"
[auth]
token_secret = "0123456789abcdef0123456789abcdef"
token_ttl_seconds = 3600
allow_guests = false
[log]
level = "debug"
format = "json"
)",
                        "test.toml");
    ASSERT_TRUE(r) << r.err().message;
    EXPECT_EQ(c.server.host, "live.example.org");
    EXPECT_EQ(c.server.bind, "127.0.0.1");
    EXPECT_EQ(c.server.threads, 3);
    EXPECT_EQ(c.server.data_dir, "/var/lib/livehouse");
    EXPECT_EQ(c.server.web_dir, "/srv/web");
    EXPECT_EQ(c.rtmp.port, 1936);
    EXPECT_EQ(c.rtmp.chunk_size, 60000);
    EXPECT_EQ(c.rtmp.max_message_bytes, 1048576);
    EXPECT_EQ(c.rtmp.max_chunk_size, 65536);
    EXPECT_EQ(c.rtmp.timeout_s, 5);
    EXPECT_EQ(c.http.port, 8081);
    EXPECT_EQ(c.http.max_body_bytes, 2048);
    EXPECT_EQ(c.http.max_header_bytes, 4096);
    EXPECT_EQ(c.http.timeout_s, 7);
    EXPECT_EQ(c.http.idle_timeout_s, 9);
    EXPECT_EQ(c.hls.segment_target_ms, 4000);
    EXPECT_EQ(c.hls.window_segments, 5);
    EXPECT_EQ(c.hls.grace_period_s, 60);
    EXPECT_EQ(c.admin.token, "secret");
    EXPECT_EQ(c.auth.token_secret, "0123456789abcdef0123456789abcdef");
    EXPECT_EQ(c.auth.token_ttl_seconds, 3600);
    EXPECT_FALSE(c.auth.allow_guests);
    EXPECT_EQ(c.log.level, "debug");
    EXPECT_EQ(c.log.format, "json");
}

TEST(config, precedence_defaults_file_env_flags) {
    temp_file file("[http]\nport = 1111\n[rtmp]\nport = 2222\n[server]\nthreads = 4\n"
                   "host = \"from-file\"\n");
    cli_overrides flags;
    flags.config_file = file.path();

    // File over defaults.
    auto c = load_config(flags, env_of({}));
    ASSERT_TRUE(c) << c.err().message;
    EXPECT_EQ(c->http.port, 1111);
    EXPECT_EQ(c->rtmp.port, 2222);
    EXPECT_EQ(c->server.threads, 4);
    EXPECT_EQ(c->server.data_dir, "./data"); // untouched default

    // Environment over the file.
    auto env = env_of({{"LIVEHOUSE_HTTP_PORT", "3333"},
                       {"LIVEHOUSE_HOST", "from-env"},
                       {"LIVEHOUSE_DATA_DIR", "/tmp/env-data"},
                       {"LIVEHOUSE_ADMIN_TOKEN", "env-token"},
                       {"LIVEHOUSE_LOG_LEVEL", "warn"},
                       {"LIVEHOUSE_BIND", "127.0.0.2"},
                       {"LIVEHOUSE_THREADS", ""}}); // empty: ignored
    c = load_config(flags, env);
    ASSERT_TRUE(c) << c.err().message;
    EXPECT_EQ(c->http.port, 3333);
    EXPECT_EQ(c->rtmp.port, 2222);
    EXPECT_EQ(c->server.host, "from-env");
    EXPECT_EQ(c->server.data_dir, "/tmp/env-data");
    EXPECT_EQ(c->server.bind, "127.0.0.2");
    EXPECT_EQ(c->server.threads, 4);
    EXPECT_EQ(c->admin.token, "env-token");
    EXPECT_EQ(c->log.level, "warn");

    // Flags over everything.
    flags.http_port = "0";
    flags.rtmp_port = "0";
    flags.host = "from-flag";
    flags.threads = "1";
    flags.log_level = "error";
    flags.data_dir = "/tmp/flag-data";
    flags.bind = "::1";
    c = load_config(flags, env);
    ASSERT_TRUE(c) << c.err().message;
    EXPECT_EQ(c->http.port, 0);
    EXPECT_EQ(c->rtmp.port, 0);
    EXPECT_EQ(c->server.host, "from-flag");
    EXPECT_EQ(c->server.threads, 1);
    EXPECT_EQ(c->log.level, "error");
    EXPECT_EQ(c->server.data_dir, "/tmp/flag-data");
    EXPECT_EQ(c->server.bind, "::1");
}

TEST(config, unknown_keys_and_sections_are_named) {
    EXPECT_EQ(error_of("[hls]\nsegment_targt_ms = 2000\n"),
              "config: unknown key hls.segment_targt_ms");
    EXPECT_EQ(error_of("[hsl]\nsegment_target_ms = 2000\n"), "config: unknown section [hsl]");
    EXPECT_EQ(error_of("port = 1\n"), "config: unknown section [port]");
    EXPECT_EQ(error_of("[http.extra]\nx = 1\n"), "config: unknown key http.extra");
}

TEST(config, wrong_types_are_named) {
    EXPECT_EQ(error_of("[http]\nport = \"8080\"\n"),
              "config: http.port: expected an integer, got string");
    EXPECT_EQ(error_of("[http]\nport = 80.5\n"),
              "config: http.port: expected an integer, got float");
    EXPECT_EQ(error_of("[server]\nhost = 1\n"),
              "config: server.host: expected a string, got integer");
    EXPECT_EQ(error_of("http = 5\n"), "config: http: expected a table, got integer");
}

TEST(config, ranges_and_choices_are_checked) {
    EXPECT_EQ(error_of("[http]\nport = 70000\n"),
              "config: http.port: 70000 is out of range 0..65535");
    EXPECT_EQ(error_of("[hls]\nwindow_segments = 2\n"),
              "config: hls.window_segments: 2 is out of range 3..1000");
    EXPECT_EQ(error_of("[log]\nlevel = \"loud\"\n"),
              "config: log.level: 'loud' is not one of trace,debug,info,warn,error,critical,off");
    EXPECT_EQ(error_of("[log]\nformat = \"xml\"\n"),
              "config: log.format: 'xml' is not one of text,json");
    EXPECT_EQ(error_of("[server]\ndata_dir = \"\"\n"),
              "config: server.data_dir: must not be empty");
}

TEST(config, auth_keys_are_checked) {
    // RFC 7518 §3.2: 32 bytes at least; the message does not repeat the (secret) value.
    EXPECT_EQ(error_of("[auth]\ntoken_secret = \"too-short-secret\"\n"),
              "config: auth.token_secret: shorter than 32 bytes");
    EXPECT_EQ(error_of("[auth]\ntoken_secret = \"\"\n"), "(no error)"); // "": generated
    EXPECT_EQ(error_of("[auth]\nallow_guests = \"yes\"\n"),
              "config: auth.allow_guests: expected a boolean, got string");
    EXPECT_EQ(error_of("[auth]\nallow_guests = 1\n"),
              "config: auth.allow_guests: expected a boolean, got integer");
    EXPECT_EQ(error_of("[auth]\ntoken_ttl_seconds = 59\n"),
              "config: auth.token_ttl_seconds: 59 is out of range 60..31536000");
    EXPECT_EQ(error_of("[auth]\ntoken_ttl_seconds = \"1h\"\n"),
              "config: auth.token_ttl_seconds: expected an integer, got string");
    EXPECT_EQ(error_of("[auth]\ntoken = \"x\"\n"), "config: unknown key auth.token");
}

TEST(config, auth_secret_from_the_environment) {
    const std::string secret(40, 's');
    auto c = load_config({}, env_of({{"LIVEHOUSE_AUTH_TOKEN_SECRET", secret}}));
    ASSERT_TRUE(c) << c.err().message;
    EXPECT_EQ(c->auth.token_secret, secret);

    // The environment overrides the file.
    temp_file file("[auth]\ntoken_secret = \"" + std::string(32, 'f') + "\"\n");
    cli_overrides flags;
    flags.config_file = file.path();
    c = load_config(flags, env_of({{"LIVEHOUSE_AUTH_TOKEN_SECRET", secret}}));
    ASSERT_TRUE(c) << c.err().message;
    EXPECT_EQ(c->auth.token_secret, secret);

    c = load_config({}, env_of({{"LIVEHOUSE_AUTH_TOKEN_SECRET", "short"}}));
    ASSERT_FALSE(c);
    EXPECT_EQ(c.err().message, "LIVEHOUSE_AUTH_TOKEN_SECRET: shorter than 32 bytes");
}

TEST(config, syntax_errors_carry_the_position) {
    const auto e = error_of("[http]\nport = = 1\n");
    EXPECT_EQ(e.rfind("config: test.toml:2:", 0), 0U) << e;
}

TEST(config, bad_environment_and_flags_are_named) {
    auto c = load_config({}, env_of({{"LIVEHOUSE_HTTP_PORT", "eighty"}}));
    ASSERT_FALSE(c);
    EXPECT_EQ(c.err().message, "LIVEHOUSE_HTTP_PORT: expected an integer, got 'eighty'");

    c = load_config({}, env_of({{"LIVEHOUSE_RTMP_PORT", "-1"}}));
    ASSERT_FALSE(c);
    EXPECT_EQ(c.err().message, "LIVEHOUSE_RTMP_PORT: -1 is out of range 0..65535");

    cli_overrides flags;
    flags.threads = "2x";
    c = load_config(flags, env_of({}));
    ASSERT_FALSE(c);
    EXPECT_EQ(c.err().message, "--threads: expected an integer, got '2x'");

    flags = {};
    flags.log_level = "chatty";
    c = load_config(flags, env_of({}));
    ASSERT_FALSE(c);
    EXPECT_NE(c.err().message.find("--log-level: 'chatty'"), std::string::npos);
}

TEST(config, missing_file_is_named) {
    cli_overrides flags;
    flags.config_file = "/nonexistent/livehouse.toml";
    auto c = load_config(flags, env_of({}));
    ASSERT_FALSE(c);
    EXPECT_EQ(c.err().message, "config: cannot read /nonexistent/livehouse.toml");
}

TEST(config, example_file_in_the_repository_loads_and_matches_defaults) {
    cli_overrides flags;
    flags.config_file = std::string(LIVEHOUSE_TEST_DATA) + "/../../config/livehouse.example.toml";
    auto c = load_config(flags, env_of({}));
    ASSERT_TRUE(c) << c.err().message;
    auto d = load_config({}, env_of({}));
    ASSERT_TRUE(d);
    EXPECT_EQ(c->http.port, d->http.port);
    EXPECT_EQ(c->rtmp.port, d->rtmp.port);
    EXPECT_EQ(c->hls.segment_target_ms, d->hls.segment_target_ms);
    EXPECT_EQ(c->log.format, d->log.format);
    EXPECT_EQ(c->auth.token_secret, d->auth.token_secret);
    EXPECT_EQ(c->auth.token_ttl_seconds, d->auth.token_ttl_seconds);
    EXPECT_EQ(c->auth.allow_guests, d->auth.allow_guests);
    EXPECT_EQ(c->chat.shard_size, d->chat.shard_size);
    EXPECT_EQ(c->chat.history, d->chat.history);
    EXPECT_EQ(c->chat.max_log, d->chat.max_log);
    EXPECT_EQ(c->chat.max_resume, d->chat.max_resume);
    EXPECT_EQ(c->chat.max_text_chars, d->chat.max_text_chars);
    EXPECT_EQ(c->chat.max_message_bytes, d->chat.max_message_bytes);
    EXPECT_EQ(c->chat.user_messages_per_minute, d->chat.user_messages_per_minute);
    EXPECT_EQ(c->chat.user_burst, d->chat.user_burst);
    EXPECT_EQ(c->chat.deliver_per_second, d->chat.deliver_per_second);
    EXPECT_EQ(c->chat.banned_words, d->chat.banned_words);
    EXPECT_EQ(c->chat.send_soft_limit_bytes, d->chat.send_soft_limit_bytes);
    EXPECT_EQ(c->chat.send_soft_limit_ms, d->chat.send_soft_limit_ms);
    EXPECT_EQ(c->chat.send_hard_limit_bytes, d->chat.send_hard_limit_bytes);
    EXPECT_EQ(c->chat.accept_unknown_broadcasts, d->chat.accept_unknown_broadcasts);
    EXPECT_EQ(c->server.role, d->server.role);
    EXPECT_EQ(c->edge.upstream, d->edge.upstream);
    EXPECT_EQ(c->edge.cache_bytes, d->edge.cache_bytes);
    EXPECT_EQ(c->edge.max_object_bytes, d->edge.max_object_bytes);
    EXPECT_EQ(c->edge.upstream_connections, d->edge.upstream_connections);
    EXPECT_EQ(c->edge.upstream_timeout_ms, d->edge.upstream_timeout_ms);
    EXPECT_EQ(c->edge.connect_timeout_ms, d->edge.connect_timeout_ms);
    EXPECT_EQ(c->edge.negative_ttl_s, d->edge.negative_ttl_s);
    EXPECT_EQ(c->edge.stale_if_error_s, d->edge.stale_if_error_s);
}

TEST(config, edge_role_from_file_env_and_flags) {
    temp_file file("[server]\nrole = \"edge\"\n[edge]\nupstream = \"http://origin:8080\"\n"
                   "cache_bytes = 1048576\nnegative_ttl_s = 2\nstale_if_error_s = 30\n");
    cli_overrides flags;
    flags.config_file = file.path();
    auto c = load_config(flags, env_of({}));
    ASSERT_TRUE(c) << c.err().message;
    EXPECT_EQ(c->server.role, "edge");
    EXPECT_EQ(c->edge.upstream, "http://origin:8080");
    EXPECT_EQ(c->edge.cache_bytes, 1048576);
    EXPECT_EQ(c->edge.negative_ttl_s, 2);
    EXPECT_EQ(c->edge.stale_if_error_s, 30);

    c = load_config(flags, env_of({{"LIVEHOUSE_EDGE_UPSTREAM", "http://region:8081"}}));
    ASSERT_TRUE(c) << c.err().message;
    EXPECT_EQ(c->edge.upstream, "http://region:8081");

    flags.role = "all";
    flags.upstream = "http://pop:8082";
    c = load_config(flags, env_of({{"LIVEHOUSE_ROLE", "edge"}}));
    ASSERT_TRUE(c) << c.err().message;
    EXPECT_EQ(c->server.role, "all") << "the flag wins over the environment";
    EXPECT_EQ(c->edge.upstream, "http://pop:8082");

    cli_overrides bad;
    bad.role = "cdn";
    auto r = load_config(bad, env_of({}));
    ASSERT_FALSE(r);
    EXPECT_NE(r.err().message.find("--role"), std::string::npos) << r.err().message;
    temp_file tiny("[edge]\ncache_bytes = 10\n");
    cli_overrides small;
    small.config_file = tiny.path();
    auto t = load_config(small, env_of({}));
    ASSERT_FALSE(t);
    EXPECT_NE(t.err().message.find("edge.cache_bytes"), std::string::npos) << t.err().message;
}

TEST(config, chat_section_with_a_list_of_banned_words) {
    config c;
    auto r = apply_toml(c,
                        "[chat]\nbanned_words = [\"spam\", \"Scam\"]\nuser_burst = 9\n"
                        "accept_unknown_broadcasts = true\n",
                        "t.toml");
    ASSERT_TRUE(r) << r.err().message;
    EXPECT_EQ(c.chat.banned_words, (std::vector<std::string>{"spam", "Scam"}));
    EXPECT_EQ(c.chat.user_burst, 9);
    EXPECT_TRUE(c.chat.accept_unknown_broadcasts);
    config d;
    auto not_list = apply_toml(d, "[chat]\nbanned_words = \"spam\"\n", "t.toml");
    ASSERT_FALSE(not_list);
    EXPECT_EQ(not_list.err().message,
              "config: chat.banned_words: expected an array of strings, got string");
    auto empty_item = apply_toml(d, "[chat]\nbanned_words = [\"\"]\n", "t.toml");
    ASSERT_FALSE(empty_item);
    EXPECT_NE(empty_item.err().message.find("every item must be a string"), std::string::npos);
    auto range = apply_toml(d, "[chat]\nshard_size = 0\n", "t.toml");
    ASSERT_FALSE(range);
    EXPECT_EQ(range.err().message, "config: chat.shard_size: 0 is out of range 1..1000000");
}

} // namespace
} // namespace livehouse::server
