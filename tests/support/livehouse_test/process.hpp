// Test support: child processes (servers the tests start themselves) and free loopback ports.
#pragma once

#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <netinet/in.h>
#include <stdexcept>
#include <string>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace livehouse::test {

/// A port on 127.0.0.1 that was free a moment ago (bound to 0, read back, closed). With
/// `plus` > 0, port + plus must be free too (Redis Cluster's bus port is port + 10000).
inline std::uint16_t free_port(std::uint16_t plus = 0) {
    for (int attempt = 0; attempt < 100; ++attempt) {
        const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
            ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
            ::close(fd);
            throw std::runtime_error("free_port: cannot bind");
        }
        ::close(fd);
        const auto port = ntohs(a.sin_port);
        if (plus == 0) {
            return port;
        }
        if (port + plus > 65535) {
            continue;
        }
        const int fd2 = ::socket(AF_INET, SOCK_STREAM, 0);
        a.sin_port = htons(static_cast<std::uint16_t>(port + plus));
        const bool ok = ::bind(fd2, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
        ::close(fd2);
        if (ok) {
            return port;
        }
    }
    throw std::runtime_error("free_port: no free pair of ports");
}

/// Whether something accepts TCP connections on 127.0.0.1:port.
inline bool port_open(std::uint16_t port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    return ok;
}

/// A child process running `argv` (PATH searched), stdout/stderr to `log_path` when given.
/// Killed (SIGKILL) if the test process dies first (PR_SET_PDEATHSIG), so a crashed test
/// leaves no server behind. Not copyable; the destructor kills and reaps it.
class child_process {
  public:
    child_process() = default;
    explicit child_process(const std::vector<std::string>& argv, const std::string& log_path = {}) {
        std::vector<char*> args;
        for (const auto& a : argv) {
            args.push_back(const_cast<char*>(a.c_str()));
        }
        args.push_back(nullptr);
        pid_ = ::fork();
        if (pid_ < 0) {
            throw std::runtime_error("fork: " + std::string(std::strerror(errno)));
        }
        if (pid_ == 0) {
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (!log_path.empty()) {
                if (FILE* f = std::freopen(log_path.c_str(), "a", stdout)) {
                    ::dup2(::fileno(f), 2);
                }
            }
            ::execvp(args[0], args.data());
            ::_exit(127);
        }
    }
    ~child_process() { kill(SIGKILL); }
    child_process(child_process&& o) noexcept : pid_(o.pid_) { o.pid_ = -1; }
    child_process& operator=(child_process&& o) noexcept {
        if (this != &o) {
            kill(SIGKILL);
            pid_ = o.pid_;
            o.pid_ = -1;
        }
        return *this;
    }
    child_process(const child_process&) = delete;
    child_process& operator=(const child_process&) = delete;

    /// Sends `sig` and reaps the process (SIGKILL after 10 s if it has not exited).
    void kill(int sig = SIGTERM) {
        if (pid_ <= 0) {
            return;
        }
        ::kill(pid_, sig);
        for (int i = 0; i < 1000; ++i) {
            if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
                pid_ = -1;
                return;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        pid_ = -1;
    }

    /// Whether it is still running.
    [[nodiscard]] bool running() { return pid_ > 0 && ::waitpid(pid_, nullptr, WNOHANG) == 0; }
    [[nodiscard]] pid_t pid() const { return pid_; }

  private:
    pid_t pid_ = -1;
};

/// Runs a command to completion; returns its exit status (-1 if it could not run) and appends
/// its stdout to `out` when given.
inline int run_command(const std::string& cmd, std::string* out = nullptr) {
    FILE* p = ::popen(cmd.c_str(), "r");
    if (p == nullptr) {
        return -1;
    }
    char buf[4096];
    std::size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) {
        if (out != nullptr) {
            out->append(buf, n);
        }
    }
    const int status = ::pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

} // namespace livehouse::test
