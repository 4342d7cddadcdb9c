// run_main: the CLI11 command line and the `serve` command.
#include "server/run_main.hpp"

#include "server/app.hpp"
#include "server/config_loader.hpp"
#include "server/logging.hpp"
#include "stress/stress_command.hpp"
#include "stress/worker.hpp"

#include <CLI/CLI.hpp>
#include <csignal>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>

namespace livehouse::server {

namespace {

// Every viewer connection and every live segment (a sealed memory file, core/blob.hpp) holds a
// descriptor; Debian's default soft limit of 1024 would cap a node at a few hundred viewers.
// Like nginx's worker_rlimit_nofile, take everything the hard limit allows.
void raise_descriptor_limit() {
    rlimit lim{};
    if (::getrlimit(RLIMIT_NOFILE, &lim) != 0 || lim.rlim_cur == lim.rlim_max) {
        return;
    }
    const auto soft = lim.rlim_cur;
    lim.rlim_cur = lim.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &lim) != 0) {
        spdlog::warn("could not raise the descriptor limit above {}", soft);
        return;
    }
    spdlog::debug("descriptor limit raised from {} to {}", soft, lim.rlim_max);
}

int serve(const cli_overrides& flags, const std::string& ready_file) {
    auto cfg = load_config(flags, process_env());
    if (!cfg) {
        fmt::print(stderr, "livehouse: {}\n", cfg.err().message);
        return 1;
    }
    if (auto r = setup_logging(cfg->log); !r) {
        fmt::print(stderr, "livehouse: {}\n", r.err().message);
        return 1;
    }
    raise_descriptor_limit();
    const bool json_logs = cfg->log.format == "json";
    auto a = app::start(std::move(*cfg), ready_file);
    if (!a) {
        // Plain stderr whatever the log level; JSON log consumers also get it as a log line.
        if (json_logs) {
            spdlog::error("start-up failed: {}", a.err().message);
        }
        fmt::print(stderr, "livehouse: {}\n", a.err().message);
        return 1;
    }
    return (*a)->run();
}

} // namespace

int run_main(int argc, char** argv) {
    // A write to a closed pipe (stderr piped to a pager that quit, a stress worker's
    // coordinator gone) must not kill the process; sockets already use MSG_NOSIGNAL.
    std::signal(SIGPIPE, SIG_IGN); // NOLINT(cert-err33-c)
    CLI::App cli{"livehouse: a self-hostable live-streaming server (RTMP in, HLS out)",
                 "livehouse"};
    cli.set_version_flag("--version", "livehouse " LIVEHOUSE_VERSION);
    cli.require_subcommand(1);

    auto* serve_cmd = cli.add_subcommand("serve", "Run the server (every role in one process)");
    std::string config_file, host, bind, rtmp_port, http_port, data_dir, threads, log_level,
        ready_file, redis, postgres, role, upstream;
    auto* o_config = serve_cmd->add_option("--config", config_file, "TOML configuration file");
    auto* o_host = serve_cmd->add_option("--host", host, "Host name put into URLs [server.host]");
    auto* o_bind = serve_cmd->add_option("--bind", bind, "Address to listen on [server.bind]");
    auto* o_rtmp = serve_cmd->add_option("--rtmp-port", rtmp_port, "RTMP port, 0: any [rtmp.port]");
    auto* o_http = serve_cmd->add_option("--http-port", http_port, "HTTP port, 0: any [http.port]");
    auto* o_data =
        serve_cmd->add_option("--data-dir", data_dir, "State directory [server.data_dir]");
    auto* o_threads =
        serve_cmd->add_option("--threads", threads, "Event-loop threads, 0: one per core");
    auto* o_log = serve_cmd->add_option("--log-level", log_level,
                                        "trace|debug|info|warn|error|critical|off [log.level]");
    auto* o_redis = serve_cmd->add_option(
        "--redis", redis,
        "Share state through Redis: host:port, or a cluster's seed nodes host:port,host:port "
        "[state.redis]");
    auto* o_postgres = serve_cmd->add_option(
        "--postgres", postgres, "Keep records in PostgreSQL: a libpq conninfo [state.postgres]");
    auto* o_role = serve_cmd->add_option(
        "--role", role, "all: every role; edge: a cache in front of --upstream [server.role]");
    auto* o_upstream = serve_cmd->add_option(
        "--upstream", upstream,
        "The edge role's upstream, http://host:port (the origin or another edge) "
        "[edge.upstream]");
    serve_cmd->add_option("--ready-file", ready_file,
                          "Once listening, write {\"http_port\",\"rtmp_port\",\"pid\"} here");

    auto* stress_cmd = cli.add_subcommand(
        "stress",
        "Run a load-test scenario (scenarios/*.toml) and judge it: exit 0 PASSED, 1 FAILED");
    stress::stress_command_options stress_opts;
    stress_cmd->add_option("scenario", stress_opts.scenario_file,
                           "Scenario file (TOML); not with --worker");
    stress_cmd->add_option("--set", stress_opts.sets,
                           "Override a load variable: name=value (repeatable), e.g. "
                           "--set target=http://host:8080 --set duration=30s");
    stress_cmd->add_option("--threads", stress_opts.threads, "Event loops generating the load")
        ->check(CLI::Range(1, 256));
    stress_cmd->add_option("--json", stress_opts.json_out, "Write the JSON report here");
    stress_cmd->add_option("--html", stress_opts.html_out,
                           "Write a self-contained HTML report (charts) here");
    stress_cmd->add_flag("--quiet", stress_opts.quiet, "No progress line");
    bool no_scrape = false;
    stress_cmd->add_flag("--no-server-metrics", no_scrape,
                         "Do not scrape the target's /metrics during the run");
    stress_cmd->add_option("--webhook", stress_opts.webhook,
                           "POST the verdict here as {\"text\": ...} (Slack-compatible), http://");
    stress_cmd
        ->add_option("--workers", stress_opts.workers,
                     "Run the load on these `livehouse stress --worker`s, HOST:PORT,... "
                     "(--threads is then per worker); statistics merged exactly")
        ->delimiter(',');
    bool stress_worker = false;
    stress::worker_options worker_opts;
    stress_cmd->add_flag("--worker", stress_worker,
                         "Be a load generator a coordinator (--workers) drives");
    stress_cmd
        ->add_option("--listen", worker_opts.listen,
                     "--worker: where to wait for jobs, IP:PORT (port 0: any; printed)")
        ->capture_default_str();
    stress_cmd->add_option("--token", stress_opts.token,
                           "A shared secret workers require of their coordinator's jobs");

    try {
        cli.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int code = cli.exit(e); // prints help, version or the usage error
        return code == 0 ? 0 : 2;
    }

    if (stress_cmd->parsed()) {
        if (stress_worker) {
            if (!stress_opts.scenario_file.empty() || !stress_opts.workers.empty()) {
                fmt::print(stderr, "livehouse stress --worker: takes no scenario and no "
                                   "--workers (the coordinator sends the job)\n");
                return 2;
            }
            worker_opts.token = stress_opts.token;
            return stress::run_stress_worker(worker_opts);
        }
        if (stress_opts.scenario_file.empty()) {
            fmt::print(stderr, "livehouse stress: a scenario file is required (or --worker)\n");
            return 2;
        }
        stress_opts.scrape = !no_scrape;
        return stress::run_stress_command(stress_opts);
    }

    cli_overrides flags;
    const auto take = [](CLI::Option* o, std::string& v, std::optional<std::string>& out) {
        if (o->count() > 0) {
            out = v;
        }
    };
    take(o_config, config_file, flags.config_file);
    take(o_host, host, flags.host);
    take(o_bind, bind, flags.bind);
    take(o_rtmp, rtmp_port, flags.rtmp_port);
    take(o_http, http_port, flags.http_port);
    take(o_data, data_dir, flags.data_dir);
    take(o_threads, threads, flags.threads);
    take(o_log, log_level, flags.log_level);
    take(o_redis, redis, flags.redis);
    take(o_postgres, postgres, flags.postgres);
    take(o_role, role, flags.role);
    take(o_upstream, upstream, flags.upstream);
    return serve(flags, ready_file);
}

} // namespace livehouse::server
