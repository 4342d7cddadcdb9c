// Test support: private Redis servers — one instance, or a 3-master Redis Cluster — started on
// free loopback ports in temporary directories (redis-server from Debian's package), with
// append-only files fsynced on every write so a restart keeps what was acknowledged.
#pragma once

#include "livehouse_test/process.hpp"
#include "livehouse_test/temp_dir.hpp"

#include <fmt/format.h>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace livehouse::test {

class redis_server {
  public:
    /// Starts at once; `cluster` adds --cluster-enabled (the node then waits for slots).
    explicit redis_server(bool cluster = false)
        : cluster_(cluster), port_(free_port(cluster ? 10000 : 0)) {
        start();
    }
    ~redis_server() { stop(); }
    redis_server(const redis_server&) = delete;
    redis_server& operator=(const redis_server&) = delete;

    void start() {
        std::vector<std::string> argv{"redis-server",
                                      "--port",
                                      std::to_string(port_),
                                      "--bind",
                                      "127.0.0.1",
                                      "--dir",
                                      dir_.str(),
                                      "--save",
                                      "",
                                      "--appendonly",
                                      "yes",
                                      "--appendfsync",
                                      "always",
                                      "--protected-mode",
                                      "no"};
        if (cluster_) {
            argv.insert(argv.end(), {"--cluster-enabled", "yes", "--cluster-config-file",
                                     "nodes.conf", "--cluster-node-timeout", "2000"});
        }
        process_ = child_process(argv, (dir_.path() / "redis.log").string());
        for (int i = 0; i < 500; ++i) {
            if (port_open(port_)) {
                return;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        throw std::runtime_error("redis-server did not start: " + log_tail());
    }
    /// Stops it the way a crash would (SIGKILL): what was fsynced stays.
    void kill() { process_.kill(SIGKILL); }
    void stop() { process_.kill(SIGTERM); }
    void restart() {
        kill();
        start();
    }

    [[nodiscard]] std::uint16_t port() const { return port_; }
    [[nodiscard]] pid_t pid() const { return process_.pid(); }
    [[nodiscard]] std::string address() const { return fmt::format("127.0.0.1:{}", port_); }
    /// Runs redis-cli against this server; returns its output.
    std::string cli(const std::string& args) const {
        std::string out;
        run_command(fmt::format("redis-cli -p {} {} 2>&1", port_, args), &out);
        return out;
    }

  private:
    std::string log_tail() const {
        std::ifstream f(dir_.path() / "redis.log");
        std::stringstream ss;
        ss << f.rdbuf();
        auto s = ss.str();
        return s.size() > 2000 ? s.substr(s.size() - 2000) : s;
    }

    bool cluster_;
    temp_dir dir_;
    std::uint16_t port_;
    child_process process_;
};

/// Three masters, no replicas, all 16384 slots assigned (redis-cli --cluster create).
class redis_cluster {
  public:
    redis_cluster() {
        std::string hosts;
        for (int i = 0; i < 3; ++i) {
            nodes_.push_back(std::make_unique<redis_server>(true));
            hosts += nodes_.back()->address() + " ";
        }
        std::string out;
        if (run_command("redis-cli --cluster create " + hosts +
                            "--cluster-replicas 0 --cluster-yes 2>&1",
                        &out) != 0) {
            throw std::runtime_error("redis-cli --cluster create failed: " + out);
        }
        for (int i = 0; i < 1000; ++i) {
            bool ok = true;
            for (const auto& n : nodes_) {
                ok = ok && n->cli("cluster info").find("cluster_state:ok") != std::string::npos;
            }
            if (ok) {
                return;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        throw std::runtime_error("redis cluster did not reach cluster_state:ok");
    }

    /// "127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3", as for --redis.
    [[nodiscard]] std::string seeds() const {
        std::string s;
        for (const auto& n : nodes_) {
            s.append(s.empty() ? "" : ",").append(n->address());
        }
        return s;
    }
    [[nodiscard]] redis_server& node(std::size_t i) { return *nodes_.at(i); }

  private:
    std::vector<std::unique_ptr<redis_server>> nodes_;
};

/// One server and one cluster per test process, started on first use, stopped at exit.
inline redis_server& shared_redis() {
    static redis_server s;
    return s;
}
inline redis_cluster& shared_redis_cluster() {
    static redis_cluster c;
    return c;
}

} // namespace livehouse::test
