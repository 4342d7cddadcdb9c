// Reads the configuration: defaults < TOML file < LIVEHOUSE_* environment < command-line flags.
// Fails fast, naming the key: "config: unknown key hls.segment_targt_ms",
// "config: http.port: expected an integer, got string", "LIVEHOUSE_HTTP_PORT: 70000 is out of
// range 0..65535". Every key is checked against the one table in config_loader.cpp, which the
// TOML reader, the environment and the flags share.
#pragma once

#include "core/result.hpp"
#include "server/config.hpp"

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace livehouse::server {

/// Values given on the command line (`livehouse serve ...`); unset ones change nothing.
struct cli_overrides {
    std::optional<std::string> config_file;
    std::optional<std::string> host;
    std::optional<std::string> bind;
    std::optional<std::string> rtmp_port;
    std::optional<std::string> http_port;
    std::optional<std::string> data_dir;
    std::optional<std::string> threads;
    std::optional<std::string> log_level;
    std::optional<std::string> redis;
    std::optional<std::string> postgres;
    std::optional<std::string> role;
    std::optional<std::string> upstream;
};

/// Looks an environment variable up (a seam: tests pass a map).
using env_lookup = std::function<std::optional<std::string>(const std::string& name)>;

/// The real process environment.
env_lookup process_env();

/// Applies a TOML document. `source` names it in errors (the file path).
core::result<void> apply_toml(config& c, std::string_view text, std::string_view source);
/// Reads and applies a TOML file. Errors: unreadable file, TOML syntax (with line:column),
/// unknown section/key, wrong type, out of range.
core::result<void> apply_toml_file(config& c, const std::string& path);
/// Applies LIVEHOUSE_HOST, _BIND, _RTMP_PORT, _HTTP_PORT, _DATA_DIR, _THREADS, _LOG_LEVEL,
/// _ADMIN_TOKEN, _AUTH_TOKEN_SECRET, _REDIS, _POSTGRES, _STATE_PHASE (set and non-empty ones
/// only).
core::result<void> apply_env(config& c, const env_lookup& env);
/// Applies the command-line values.
core::result<void> apply_flags(config& c, const cli_overrides& flags);

/// The directory web_dir defaults to: the source tree's web/ when this binary was built from a
/// tree that has one, else "./web".
std::string default_web_dir();

/// Everything in order: defaults, flags.config_file (if any), environment, flags; then fills
/// derived defaults (web_dir).
core::result<config> load_config(const cli_overrides& flags, const env_lookup& env);

} // namespace livehouse::server
