// A private PostgreSQL 15 server for tests: its own cluster in a fresh temporary directory
// (initdb), listening on a free loopback TCP port (and a unix socket inside that directory),
// trust authentication, fsync on. Tests start, stop, crash and restart it at will; nothing of
// the machine's own PostgreSQL is touched.
//
// initdb and postgres refuse to run as root, and the tests run as root here and in CI: as root,
// the server runs as the `postgres` system user (Debian's postgresql package creates it) through
// `runuser -u postgres --`, owning the directory.
//
// Errors (a missing binary, a server that does not come up) throw std::runtime_error with the
// tail of the server's log: this is test set-up, where a throw fails the test with the reason.
#pragma once

#include <arpa/inet.h>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <netinet/in.h>
#include <pwd.h>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <sys/socket.h>
#include <system_error>
#include <unistd.h>

namespace livehouse::test {

class postgres_server {
  public:
    /// Where Debian's postgresql-15 package puts the server binaries.
    static constexpr std::string_view bin_dir = "/usr/lib/postgresql/15/bin";

    /// Creates the cluster (initdb) in a fresh temporary directory; does not start it.
    postgres_server() {
        std::string tmpl =
            (std::filesystem::temp_directory_path() / "livehouse-pg-XXXXXX").string();
        if (::mkdtemp(tmpl.data()) == nullptr) {
            throw std::system_error(errno, std::generic_category(), "mkdtemp " + tmpl);
        }
        dir_ = tmpl;
        if (::geteuid() == 0) {
            const passwd* pw = ::getpwnam("postgres");
            if (pw == nullptr) {
                throw std::runtime_error("postgres_server: running as root and there is no "
                                         "`postgres` user to run the server as");
            }
            if (::chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
                throw std::system_error(errno, std::generic_category(), "chown " + dir_.string());
            }
            as_user_ = "runuser -u postgres -- ";
        }
        // --no-sync: initdb's own files need no fsync for a test (the server keeps fsync on).
        run(tool("initdb") + " -D " + data() + " -U postgres -A trust -E UTF8 --locale=C" +
                " --no-sync --no-instructions",
            "initdb");

        // A test process that dies without running destructors (a crash, a sanitizer abort, a
        // ctest timeout) must not leave a server behind: a watchdog shell stops it and removes
        // the directory once this process is gone.
        const auto watchdog = std::string("(cd /; while kill -0 ")
                                  .append(std::to_string(::getpid()))
                                  .append(" 2>/dev/null; do sleep 1; done; ")
                                  .append(tool("pg_ctl"))
                                  .append(" -D " + data() + " -m immediate -w stop; rm -rf ")
                                  .append(dir_.string())
                                  .append(") </dev/null >/dev/null 2>&1 &");
        (void)std::system(watchdog.c_str());
    }

    ~postgres_server() {
        if (running_) {
            (void)std::system(("cd " + dir_.string() + " && " + tool("pg_ctl") + " -D " + data() +
                               " -m immediate -w stop >/dev/null 2>&1")
                                  .c_str());
        }
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }
    postgres_server(const postgres_server&) = delete;
    postgres_server& operator=(const postgres_server&) = delete;

    /// Starts the server and waits until it accepts connections. The first start picks a free
    /// port; later ones reuse it, so a conninfo stays valid across stop()/start().
    void start() {
        if (port_ == 0) {
            port_ = free_port();
        }
        const std::string options =
            std::string("-p ").append(std::to_string(port_)) +
            " -c listen_addresses=127.0.0.1 -c unix_socket_directories=" + dir_.string() +
            " -c fsync=on -c max_connections=200";
        run(tool("pg_ctl") + " -D " + data() + " -l " + (dir_ / "server.log").string() +
                " -w -t 60 -o '" + options + "' start",
            "pg_ctl start");
        running_ = true;
        // pg_ctl -w waits for the postmaster to say "ready"; pg_isready checks it from outside.
        run(std::string(bin_dir) + "/pg_isready -q -t 30 -h 127.0.0.1 -p " + std::to_string(port_),
            "pg_isready");
    }

    /// Fast shutdown: sessions are ended, everything committed is kept.
    void stop() { shut_down("fast"); }
    /// Immediate shutdown: like a crash (no checkpoint); the next start recovers from the WAL.
    void kill() { shut_down("immediate"); }
    void restart() {
        stop();
        start();
    }

    [[nodiscard]] int port() const { return port_; }
    [[nodiscard]] bool running() const { return running_; }
    [[nodiscard]] const std::filesystem::path& dir() const { return dir_; }

    /// libpq key=value conninfo for `dbname` over loopback TCP.
    [[nodiscard]] std::string conninfo(std::string_view dbname = "postgres") const {
        return std::string("host=127.0.0.1 port=").append(std::to_string(port_)) +
               " user=postgres dbname=" + std::string(dbname);
    }

  private:
    [[nodiscard]] std::string data() const { return (dir_ / "data").string(); }
    [[nodiscard]] std::string tool(std::string_view name) const {
        return as_user_ + std::string(bin_dir) + "/" + std::string(name);
    }

    void shut_down(const char* mode) {
        if (!running_) {
            return;
        }
        run(tool("pg_ctl") + " -D " + data() + " -m " + mode + " -w -t 60 stop", "pg_ctl stop");
        running_ = false;
    }

    /// Runs `cmd` (a shell command line of paths from mkdtemp and fixed words: nothing to
    /// quote), its output appended to <dir>/commands.log; throws with the logs' tails if it fails.
    void run(const std::string& cmd, const char* what) const {
        const auto log = (dir_ / "commands.log").string();
        // From inside the directory: the postgres user may not enter the test's own cwd.
        if (std::system(("cd " + dir_.string() + " && " + cmd + " >>" + log + " 2>&1").c_str()) !=
            0) {
            throw std::runtime_error(std::string("postgres_server: ") + what + " failed: " + cmd +
                                     "\n--- commands.log ---\n" + tail(log) +
                                     "\n--- server.log ---\n" +
                                     tail((dir_ / "server.log").string()));
        }
    }

    static std::string tail(const std::string& path) {
        std::ifstream in(path);
        std::stringstream ss;
        ss << in.rdbuf();
        const auto s = ss.str();
        return s.size() > 3000 ? s.substr(s.size() - 3000) : s;
    }

    /// A loopback port nobody listens on now (bind port 0, read it back, close).
    static int free_port() {
        const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0) {
            throw std::system_error(errno, std::generic_category(), "socket");
        }
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr.sin_port = 0;
        socklen_t len = sizeof addr;
        auto* sa = reinterpret_cast<sockaddr*>(&addr);
        if (::bind(fd, sa, sizeof addr) != 0 || ::getsockname(fd, sa, &len) != 0) {
            const int err = errno;
            ::close(fd);
            throw std::system_error(err, std::generic_category(), "bind 127.0.0.1:0");
        }
        ::close(fd);
        return ntohs(addr.sin_port);
    }

    std::filesystem::path dir_;
    std::string as_user_; ///< "runuser -u postgres -- " when running as root
    int port_ = 0;
    bool running_ = false;
};

/// One server for the whole test process, started on first use and stopped at exit. For tests
/// that only need a database (each makes its own: CREATE DATABASE); tests that stop or crash
/// the server start their own postgres_server.
inline postgres_server& shared_postgres() {
    static const std::unique_ptr<postgres_server> server = [] {
        auto s = std::make_unique<postgres_server>();
        s->start();
        return s;
    }();
    return *server;
}

} // namespace livehouse::test
