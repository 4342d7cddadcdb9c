// event_runner (see event_runner.hpp).
#include "stress/event_runner.hpp"

#include <algorithm>
#include <spawn.h>
#include <sys/wait.h>

extern char** environ;

namespace livehouse::stress {

namespace {

/// /bin/sh -c command; the exit code, or -1 (not started, or ended by a signal).
int run_shell(const std::string& command) {
    const char* argv[] = {"/bin/sh", "-c", command.c_str(), nullptr};
    pid_t pid = 0;
    // posix_spawn's argv is char* const[] for historical reasons; it does not write to it.
    if (::posix_spawn(&pid, "/bin/sh", nullptr, nullptr, const_cast<char* const*>(argv), environ) !=
        0) {
        return -1;
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            return -1;
        }
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

} // namespace

event_runner::event_runner(std::vector<event> events, std::chrono::steady_clock::time_point start)
    : events_(std::move(events)), start_(start) {
    std::stable_sort(events_.begin(), events_.end(),
                     [](const event& a, const event& b) { return a.at < b.at; });
    if (!events_.empty()) {
        thread_ = std::thread([this] { loop(); });
    }
}

event_runner::~event_runner() {
    finish();
}

std::vector<event_result> event_runner::finish() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) {
        thread_.join();
    }
    std::lock_guard lock(mutex_);
    return results_;
}

void event_runner::loop() {
    using clock_type = std::chrono::steady_clock;
    for (const auto& e : events_) {
        {
            std::unique_lock lock(mutex_);
            if (cv_.wait_until(lock, start_ + e.at, [this] { return stopping_; })) {
                return;
            }
        }
        const auto began = clock_type::now();
        const int code = run_shell(e.command);
        const auto ended = clock_type::now();
        event_result r;
        r.name = e.name;
        r.command = e.command;
        r.at_s = std::chrono::duration<double>(e.at).count();
        r.ran_at_s = std::chrono::duration<double>(began - start_).count();
        r.took_s = std::chrono::duration<double>(ended - began).count();
        r.exit_code = code;
        std::lock_guard lock(mutex_);
        results_.push_back(std::move(r));
    }
}

} // namespace livehouse::stress
