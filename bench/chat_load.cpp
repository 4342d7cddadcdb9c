// livehouse_chat_load: chat fan-out load on one room. N anonymous readers join
// ws://HOST:PORT/ws/broadcasts/{id}, a few senders with user tokens post --rate messages/s whose
// text carries the send time, and every reader measures each delivery's latency. Reports the
// delivery rate, latency percentiles, the server's memory per idle connection and its CPU per
// million deliveries (bench/chat_bench.sh drives it; `--self-test` checks it against a small
// broadcast server of its own).
//
// Why not Boost.Beast's websocket::stream, nor Asio: the client shares a 2-core machine with
// the server it loads, holding up to 50,000 connections, so what each connection and each
// received message costs the client is taken from the server. A receiver is one fd and a
// 64-byte struct in a vector (no Asio descriptor state, no per-connection buffer: each thread
// reads every connection into one shared buffer and keeps only an unfinished frame's bytes);
// one epoll loop per thread, level-triggered, one read per readiness.
//
// Receive path, no allocation per message: a plain server frame (FIN, text, unmasked, minimal
// length: what encode_frame makes) is handled in place in the read buffer; only the JSON prefix
// ({"type":"...") and the "t=<ns>" at the start of the text are looked at. Every other frame
// (control frames, fragments, anything odd) goes whole through codec::websocket::frame_reader
// in role::client, created on demand and dropped when the connection is back to plain frames,
// so RFC 6455's rules are checked by the codec. Frames larger than a carry limit (the join's
// history message) are classified from their first bytes and the rest skipped. Not checked on
// the plain path: UTF-8 (§8.1) — the load client trusts the server's encoder there.
//
// Connections per process are bounded by RLIMIT_NOFILE (raised to its hard limit), so the
// readers are spread over --processes worker processes (0: as few as the limit allows), each
// with --threads loops; the parent runs the senders and collects the workers' counters and
// latency histograms over a socketpair. Send times are CLOCK_MONOTONIC, one clock for every
// process on the machine.
//
// Source addresses: one (source address, destination) pair runs out of ephemeral ports near
// 28k (net.ipv4.ip_local_port_range), so connection i binds 127.0.0.(1 + i % --source-ips)
// before connecting, with IP_BIND_ADDRESS_NO_PORT so that the port is picked per 4-tuple.
//
// Several nodes (a room larger than one process may hold): --reader-ports spreads the readers
// over nodes that share the room through Redis, round-robin; the senders post to --port; and
// --server-pid, repeated, sums the nodes' memory and CPU.
#include "codec/jwt/hs256.hpp"
#include "codec/websocket/frame.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <arpa/inet.h>
#include <array>
#include <atomic>
#include <bit>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <fmt/format.h>
#include <fstream>
#include <memory>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nlohmann/json.hpp>
#include <optional>
#include <poll.h>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <unordered_map>
#include <vector>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24 // linux/in.h; older libc headers lack it
#endif

namespace livehouse::bench {
namespace {

namespace ws = codec::websocket;

std::int64_t mono_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

double seconds_between(std::int64_t a, std::int64_t b) {
    return static_cast<double>(b - a) / 1e9;
}

struct options {
    std::string host = "127.0.0.1";
    std::uint16_t port = 0;
    std::string broadcast;
    std::size_t connections = 1000;
    double ramp_per_second = 5000;
    unsigned source_ips = 8;
    unsigned threads = 1;
    unsigned processes = 0;
    /// Server processes, for memory and CPU (summed): one per node of a multi-node room.
    std::vector<int> server_pids;
    /// Where readers connect, round-robin (several nodes sharing a room through Redis); empty:
    /// `port`. Senders always use `port`.
    std::vector<std::uint16_t> reader_ports;
    double rate = 100;
    double duration_s = 20;
    unsigned senders = 4;
    std::vector<std::string> tokens;
    std::size_t text_bytes = 0;
    double settle_s = 2;
    double connect_timeout_s = 120;
    double drain_s = 15;
    bool self_test = false;
    bool quiet = false;
};

// ---- latency histogram ---------------------------------------------------------------------

/// Log-linear buckets over microseconds: exact below 128 µs, then 64 sub-buckets per power of
/// two (relative error <= 1/64), like HdrHistogram with two significant digits. Fixed size,
/// so adding a value never allocates.
class histogram {
  public:
    static constexpr std::size_t linear = 128;
    static constexpr std::size_t sub = 64;
    static constexpr std::size_t size = linear + (64 - 7) * sub;

    void add(std::uint64_t us) {
        ++counts_[index(us)];
        ++total_;
        max_ = std::max(max_, us);
    }
    void merge(const histogram& o) {
        for (std::size_t i = 0; i < size; ++i) {
            counts_[i] += o.counts_[i];
        }
        total_ += o.total_;
        max_ = std::max(max_, o.max_);
    }
    [[nodiscard]] std::uint64_t total() const { return total_; }
    [[nodiscard]] std::uint64_t max() const { return max_; }
    /// The bucket's upper bound holding the q-quantile (capped at the largest value seen).
    [[nodiscard]] std::uint64_t quantile(double q) const {
        if (total_ == 0) {
            return 0;
        }
        const auto rank = std::max<std::uint64_t>(
            1, static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(total_))));
        std::uint64_t seen = 0;
        for (std::size_t i = 0; i < size; ++i) {
            seen += counts_[i];
            if (seen >= rank) {
                return std::min(upper(i), max_);
            }
        }
        return max_;
    }
    /// "index:count,..." for the non-empty buckets, then ";max".
    [[nodiscard]] std::string serialize() const {
        std::string out;
        for (std::size_t i = 0; i < size; ++i) {
            if (counts_[i] != 0) {
                out += fmt::format("{}:{},", i, counts_[i]);
            }
        }
        out += fmt::format(";{}", max_);
        return out;
    }
    bool parse(std::string_view s) {
        const auto semi = s.rfind(';');
        if (semi == std::string_view::npos) {
            return false;
        }
        std::uint64_t m = 0;
        if (!parse_u64(s.substr(semi + 1), m)) {
            return false;
        }
        max_ = std::max(max_, m);
        s = s.substr(0, semi);
        while (!s.empty()) {
            const auto comma = s.find(',');
            const auto item = s.substr(0, comma);
            s = comma == std::string_view::npos ? std::string_view{} : s.substr(comma + 1);
            const auto colon = item.find(':');
            std::uint64_t i = 0;
            std::uint64_t c = 0;
            if (colon == std::string_view::npos || !parse_u64(item.substr(0, colon), i) ||
                !parse_u64(item.substr(colon + 1), c) || i >= size) {
                return false;
            }
            counts_[i] += c;
            total_ += c;
        }
        return true;
    }

    static bool parse_u64(std::string_view s, std::uint64_t& v) {
        const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        return ec == std::errc{} && p == s.data() + s.size();
    }

  private:
    static std::size_t index(std::uint64_t v) {
        if (v < linear) {
            return static_cast<std::size_t>(v);
        }
        const auto e = static_cast<unsigned>(std::bit_width(v)) - 1; // >= 7
        const unsigned shift = e - 6;
        return linear + (e - 7) * sub + static_cast<std::size_t>((v >> shift) - sub);
    }
    static std::uint64_t upper(std::size_t i) {
        if (i < linear) {
            return i;
        }
        const auto k = i - linear;
        const auto e = static_cast<unsigned>(k / sub) + 7;
        const std::uint64_t m = (k % sub) + sub;
        return ((m + 1) << (e - 6)) - 1;
    }

    std::vector<std::uint64_t> counts_ = std::vector<std::uint64_t>(size, 0);
    std::uint64_t total_ = 0;
    std::uint64_t max_ = 0;
};

// ---- counters shared by a worker's threads and reported to the parent ------------------------

/// What one receive loop counted. Written by its thread only; copied into `published` (atomics)
/// every 50 ms for the worker's reporter, and read whole after the thread is joined.
struct receiver_counts {
    std::uint64_t connected = 0;  ///< 101 received and checked
    std::uint64_t failed = 0;     ///< never got to the history message
    std::uint64_t history = 0;    ///< history message received
    std::uint64_t closed = 0;     ///< closed after the history (by the server or the network)
    std::uint64_t deliveries = 0; ///< chat messages carrying a send time
    std::uint64_t other = 0;      ///< other server messages (status, delete, untimed message)
    std::uint64_t skipped_notices = 0;
    std::uint64_t skipped_messages = 0; ///< sum of their counts
    std::uint64_t errors = 0;           ///< {"type":"error"} received
    std::uint64_t protocol_errors = 0;  ///< frames the codec refused, bad handshakes
    std::uint64_t pings = 0;
    std::uint64_t slow_frames = 0; ///< frames that went through frame_reader
    std::int64_t first_delivery_ns = 0;
    std::int64_t last_delivery_ns = 0;
};

struct published_counts {
    std::atomic<std::uint64_t> connected{0};
    std::atomic<std::uint64_t> failed{0};
    std::atomic<std::uint64_t> history{0};
    std::atomic<std::uint64_t> closed{0};
    std::atomic<std::uint64_t> deliveries{0};

    void publish(const receiver_counts& c) {
        connected.store(c.connected, std::memory_order_relaxed);
        failed.store(c.failed, std::memory_order_relaxed);
        history.store(c.history, std::memory_order_relaxed);
        closed.store(c.closed, std::memory_order_relaxed);
        deliveries.store(c.deliveries, std::memory_order_relaxed);
    }
};

// ---- small helpers -------------------------------------------------------------------------

constexpr std::string_view type_open = R"({"type":")";

/// Standard base64 (RFC 4648 §4) of 16 bytes: the Sec-WebSocket-Key form (RFC 6455 §4.1).
std::string websocket_key(std::uint64_t seed, std::uint64_t index) {
    std::string raw(16, '\0');
    std::memcpy(raw.data(), &seed, 8);
    std::memcpy(raw.data() + 8, &index, 8);
    std::string k = codec::jwt::base64url_encode(raw); // 22 characters, no padding
    for (auto& c : k) {
        c = c == '-' ? '+' : (c == '_' ? '/' : c);
    }
    return k + "==";
}

std::string upgrade_request(const options& o, std::string_view key, std::string_view query) {
    return fmt::format("GET /ws/broadcasts/{}{} HTTP/1.1\r\nHost: {}:{}\r\nUpgrade: websocket\r\n"
                       "Connection: Upgrade\r\nSec-WebSocket-Key: {}\r\n"
                       "Sec-WebSocket-Version: 13\r\n\r\n",
                       o.broadcast, query, o.host, o.port, key);
}

char lower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

/// The value of header `name` (lower case) in an HTTP head, or "".
std::string_view header_value(std::string_view head, std::string_view name) {
    std::size_t pos = head.find("\r\n");
    while (pos != std::string_view::npos && pos + 2 < head.size()) {
        const auto start = pos + 2;
        const auto end = head.find("\r\n", start);
        const auto line =
            head.substr(start, end == std::string_view::npos ? head.size() - start : end - start);
        if (line.size() > name.size() && line[name.size()] == ':') {
            bool same = true;
            for (std::size_t i = 0; i < name.size() && same; ++i) {
                same = lower(line[i]) == name[i];
            }
            if (same) {
                auto v = line.substr(name.size() + 1);
                while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) {
                    v.remove_prefix(1);
                }
                while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) {
                    v.remove_suffix(1);
                }
                return v;
            }
        }
        pos = end;
    }
    return {};
}

/// Checks a 101 answer (RFC 6455 §4.1: status 101 and the accept key of our key); "" when good.
std::string check_upgrade_response(std::string_view head, std::string_view key) {
    if (!head.starts_with("HTTP/1.1 101")) {
        const auto eol = head.find("\r\n");
        return fmt::format("upgrade refused: {}", head.substr(0, std::min<std::size_t>(eol, 64)));
    }
    if (header_value(head, "sec-websocket-accept") != ws::accept_key(key)) {
        return "upgrade: wrong Sec-WebSocket-Accept";
    }
    return {};
}

bool parse_digits(std::string_view s, std::int64_t& v) {
    if (s.empty() || s[0] < '0' || s[0] > '9') {
        return false; // from_chars would take a sign
    }
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    return ec == std::errc{} && p != s.data();
}

/// memmem(3): glibc's is far quicker than string_view::find, whose memchr stops at every
/// quote of a JSON text (a third of the client's time at two million messages a second).
std::size_t find_in(std::string_view hay, std::string_view needle) {
    const void* at = ::memmem(hay.data(), hay.size(), needle.data(), needle.size());
    return at == nullptr ? std::string_view::npos
                         : static_cast<std::size_t>(static_cast<const char*>(at) - hay.data());
}

sockaddr_in make_address(const std::string& host, std::uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    inet_pton(AF_INET, host.c_str(), &a.sin_addr);
    return a;
}

bool send_all_blocking(int fd, std::string_view data) {
    while (!data.empty()) {
        const auto n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return false;
        }
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

/// utime + stime of a process in clock ticks (fields 14 and 15 of /proc/<pid>/stat, counted
/// after the parenthesized name, which may contain spaces); -1 when unreadable.
std::int64_t cpu_ticks(int pid) {
    std::ifstream f(pid == 0 ? std::string("/proc/self/stat") : fmt::format("/proc/{}/stat", pid));
    std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    const auto close = s.rfind(')');
    if (close == std::string::npos) {
        return -1;
    }
    std::istringstream in(s.substr(close + 2));
    std::string field;
    std::int64_t utime = 0;
    std::int64_t stime = 0;
    for (int i = 3; i <= 15 && in >> field; ++i) {
        if (i == 14) {
            utime = std::atoll(field.c_str());
        } else if (i == 15) {
            stime = std::atoll(field.c_str());
        }
    }
    return utime + stime;
}

/// "<field>: N kB" from a /proc file, in KiB; -1 when absent.
std::int64_t proc_kib(const std::string& path, std::string_view field) {
    std::ifstream f(path);
    std::string line;
    while (std::getline(f, line)) {
        if (line.starts_with(field) && line.size() > field.size() && line[field.size()] == ':') {
            return std::atoll(line.c_str() + field.size() + 1);
        }
    }
    return -1;
}

struct memory_sample {
    std::int64_t rss_kib = -1;
    std::int64_t pss_kib = -1;
};

memory_sample server_memory(int pid) {
    if (pid <= 0) {
        return {};
    }
    return {proc_kib(fmt::format("/proc/{}/status", pid), "VmRSS"),
            proc_kib(fmt::format("/proc/{}/smaps_rollup", pid), "Pss")};
}

/// The sum over every server process (-1 if one cannot be read).
memory_sample server_memory(const std::vector<int>& pids) {
    if (pids.empty()) {
        return {};
    }
    memory_sample sum{0, 0};
    for (const int pid : pids) {
        const auto m = server_memory(pid);
        sum.rss_kib = m.rss_kib < 0 || sum.rss_kib < 0 ? -1 : sum.rss_kib + m.rss_kib;
        sum.pss_kib = m.pss_kib < 0 || sum.pss_kib < 0 ? -1 : sum.pss_kib + m.pss_kib;
    }
    return sum;
}

// ---- receivers: one epoll loop per thread ----------------------------------------------------

enum class phase : std::uint8_t { idle, connecting, upgrading, open, done };

struct connection {
    int fd = -1;
    phase ph = phase::idle;
    bool history = false;
    bool fragmented = false; ///< a fragmented message is in progress (its frames go slow)
    std::uint32_t skip = 0;  ///< payload bytes of a large frame still to discard
    std::string carry;       ///< an unfinished frame (or HTTP head) waiting for more bytes
    std::unique_ptr<ws::frame_reader> slow; ///< only while non-plain frames are being read
};

/// A plain frame larger than this is classified from its first bytes and skipped (the join's
/// history); a chat message (<= 500 characters, escaped) is far smaller.
constexpr std::size_t carry_limit = 8 * 1024;
/// Largest frame given whole to frame_reader.
constexpr std::size_t slow_frame_limit = 64 * 1024;
constexpr std::size_t read_size = 64 * 1024;
/// Bytes of a large plain frame needed to classify it.
constexpr std::size_t classify_bytes = 32;
constexpr std::size_t max_http_head = 8 * 1024;

class receiver_loop {
  public:
    receiver_loop(const options& o, std::uint64_t first_index, std::size_t count, double rate,
                  std::uint64_t seed, published_counts& pub, const std::atomic<bool>& stop)
        : o_(o), first_(first_index), rate_(rate), seed_(seed), pub_(pub), stop_(stop),
          conns_(count), buf_(read_size + slow_frame_limit + 16) {}
    receiver_loop(const receiver_loop&) = delete;
    receiver_loop& operator=(const receiver_loop&) = delete;
    ~receiver_loop() {
        for (auto& c : conns_) {
            if (c.fd >= 0) {
                ::close(c.fd);
            }
        }
        if (ep_ >= 0) {
            ::close(ep_);
        }
    }

    void run() {
        ep_ = epoll_create1(EPOLL_CLOEXEC);
        const auto start = mono_ns();
        auto last_publish = start;
        std::array<epoll_event, 512> events{};
        while (!stop_.load(std::memory_order_relaxed)) {
            auto now = mono_ns();
            if (opened_ < conns_.size()) {
                const auto due = std::min<std::size_t>(
                    conns_.size(),
                    static_cast<std::size_t>(seconds_between(start, now) * rate_) + 1);
                while (opened_ < due) {
                    open(opened_++);
                }
            }
            const int n = epoll_wait(ep_, events.data(), static_cast<int>(events.size()),
                                     opened_ < conns_.size() ? 1 : 50);
            now = mono_ns();
            for (int i = 0; i < n; ++i) {
                on_event(conns_[events[static_cast<std::size_t>(i)].data.u64],
                         events[static_cast<std::size_t>(i)].events, now);
            }
            if (now - last_publish > 50'000'000) {
                pub_.publish(c_);
                last_publish = now;
            }
        }
        pub_.publish(c_);
    }

    [[nodiscard]] const receiver_counts& counts() const { return c_; }
    [[nodiscard]] const histogram& latency() const { return hist_; }
    [[nodiscard]] const std::string& first_problem() const { return first_problem_; }

  private:
    void problem(std::string what) {
        if (first_problem_.empty()) {
            first_problem_ = std::move(what);
        }
    }

    void open(std::size_t i) {
        auto& c = conns_[i];
        const auto global = first_ + i;
        c.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (c.fd < 0) {
            problem(fmt::format("socket: {}", std::strerror(errno)));
            c.ph = phase::done;
            ++c_.failed;
            return;
        }
        const int one = 1;
        setsockopt(c.fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
        setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (o_.source_ips > 0) {
            sockaddr_in src{};
            src.sin_family = AF_INET;
            src.sin_addr.s_addr =
                htonl(0x7F000001U + static_cast<std::uint32_t>(global % o_.source_ips));
            if (::bind(c.fd, reinterpret_cast<sockaddr*>(&src), sizeof src) != 0) {
                fail(c, fmt::format("bind: {}", std::strerror(errno)));
                return;
            }
        }
        const auto dst = make_address(
            o_.host,
            o_.reader_ports.empty() ? o_.port : o_.reader_ports[global % o_.reader_ports.size()]);
        if (::connect(c.fd, reinterpret_cast<const sockaddr*>(&dst), sizeof dst) != 0 &&
            errno != EINPROGRESS) {
            fail(c, fmt::format("connect: {}", std::strerror(errno)));
            return;
        }
        c.ph = phase::connecting;
        epoll_event ev{};
        ev.events = EPOLLOUT | EPOLLIN;
        ev.data.u64 = i;
        epoll_ctl(ep_, EPOLL_CTL_ADD, c.fd, &ev);
    }

    void fail(connection& c, std::string why) {
        problem(std::move(why));
        if (c.history) {
            ++c_.closed;
        } else {
            ++c_.failed;
        }
        drop(c);
    }

    void drop(connection& c) {
        if (c.fd >= 0) {
            ::close(c.fd); // also leaves the epoll set
            c.fd = -1;
        }
        c.ph = phase::done;
        c.carry = std::string();
        c.slow.reset();
    }

    void on_event(connection& c, std::uint32_t events, std::int64_t now) {
        if (c.ph == phase::connecting) {
            int err = 0;
            socklen_t len = sizeof err;
            getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
            if (err != 0) {
                fail(c, fmt::format("connect: {}", std::strerror(err)));
                return;
            }
            if ((events & EPOLLOUT) == 0) {
                return;
            }
            const auto index = static_cast<std::uint64_t>(&c - conns_.data()) + first_;
            const auto req = upgrade_request(o_, websocket_key(seed_, index), "");
            // A fresh socket's send buffer takes the whole request at once.
            if (::send(c.fd, req.data(), req.size(), MSG_NOSIGNAL) !=
                static_cast<ssize_t>(req.size())) {
                fail(c, "upgrade request: short write");
                return;
            }
            c.ph = phase::upgrading;
            epoll_event ev{};
            ev.events = EPOLLIN;
            ev.data.u64 = static_cast<std::uint64_t>(&c - conns_.data());
            epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev);
            return;
        }
        if (c.ph == phase::upgrading || c.ph == phase::open) {
            on_readable(c, now);
        }
    }

    void on_readable(connection& c, std::int64_t now) {
        char* buf = buf_.data();
        std::size_t have = c.carry.size();
        if (have != 0) {
            std::memcpy(buf, c.carry.data(), have);
            c.carry.clear();
        }
        const auto n = ::recv(c.fd, buf + have, read_size, 0);
        if (n <= 0) {
            if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
                c.carry.assign(buf, have);
                return;
            }
            fail(c, n == 0 ? std::string("closed by the server")
                           : fmt::format("recv: {}", std::strerror(errno)));
            return;
        }
        have += static_cast<std::size_t>(n);
        std::size_t pos = 0;
        if (c.ph == phase::upgrading) {
            const std::string_view all(buf, have);
            const auto end = all.find("\r\n\r\n");
            if (end == std::string_view::npos) {
                if (have > max_http_head) {
                    ++c_.protocol_errors;
                    fail(c, "upgrade: response head too long");
                } else {
                    c.carry.assign(buf, have);
                }
                return;
            }
            const auto index = static_cast<std::uint64_t>(&c - conns_.data()) + first_;
            auto why = check_upgrade_response(all.substr(0, end + 2), websocket_key(seed_, index));
            if (!why.empty()) {
                ++c_.protocol_errors;
                fail(c, std::move(why));
                return;
            }
            ++c_.connected;
            c.ph = phase::open;
            pos = end + 4;
        }
        pos += frames(c, buf + pos, have - pos, now);
        if (c.ph == phase::open && pos < have) {
            c.carry.assign(buf + pos, have - pos);
        }
    }

    /// Handles the frames at the front of [p, p + len); returns the bytes consumed (the rest is
    /// an unfinished frame).
    std::size_t frames(connection& c, const char* p, std::size_t len, std::int64_t now) {
        std::size_t pos = 0;
        while (pos < len && c.ph == phase::open) {
            if (c.skip != 0) {
                const auto take = std::min<std::size_t>(c.skip, len - pos);
                c.skip -= static_cast<std::uint32_t>(take);
                pos += take;
                continue;
            }
            const auto* u = reinterpret_cast<const std::uint8_t*>(p + pos);
            const std::size_t avail = len - pos;
            if (avail < 2) {
                return pos;
            }
            std::size_t head = 2;
            std::uint64_t size = u[1] & 0x7FU;
            bool minimal = true;
            if (size == 126) {
                if (avail < 4) {
                    return pos;
                }
                size = (std::uint64_t{u[2]} << 8U) | u[3];
                head = 4;
                minimal = size >= 126;
            } else if (size == 127) {
                if (avail < 10) {
                    return pos;
                }
                size = 0;
                for (int i = 2; i < 10; ++i) {
                    size = (size << 8U) | u[i];
                }
                head = 10;
                minimal = size > 0xFFFF && (size >> 63U) == 0;
            }
            if ((u[1] & 0x80U) != 0) {
                head += 4; // masked: refused by frame_reader below (§5.1)
            }
            const bool plain = u[0] == 0x81 && (u[1] & 0x80U) == 0 && minimal && !c.fragmented;
            if (plain) {
                if (avail - head >= size) {
                    text(c, {p + pos + head, static_cast<std::size_t>(size)}, now);
                    pos += head + static_cast<std::size_t>(size);
                    continue;
                }
                if (size <= carry_limit || avail - head < classify_bytes) {
                    return pos; // wait for the rest
                }
                text(c, {p + pos + head, avail - head}, now);
                c.skip = static_cast<std::uint32_t>(size - (avail - head));
                return len;
            }
            if (size > slow_frame_limit) {
                ++c_.protocol_errors;
                fail(c, fmt::format("frame of {} bytes (byte 0 {:#x}) over the client's limit",
                                    size, u[0]));
                return len;
            }
            if (avail < head + size) {
                return pos;
            }
            slow_frame(c, {p + pos, head + static_cast<std::size_t>(size)}, now);
            pos += head + static_cast<std::size_t>(size);
        }
        return c.ph == phase::open ? pos : len;
    }

    /// One whole frame that is not plain, through the codec.
    void slow_frame(connection& c, std::string_view frame, std::int64_t now) {
        ++c_.slow_frames;
        const auto b0 = static_cast<std::uint8_t>(frame[0]);
        const auto op = b0 & 0x0FU;
        if ((op == 1 || op == 2) && (b0 & 0x80U) == 0) {
            c.fragmented = true;
        } else if (op == 0 && (b0 & 0x80U) != 0) {
            c.fragmented = false;
        }
        if (!c.slow) {
            c.slow = std::make_unique<ws::frame_reader>(
                ws::role::client,
                ws::frame_limits{.max_message_bytes = 1024 * 1024, .max_fragments = 1024});
        }
        const auto r = c.slow->feed(core::as_bytes(frame));
        if (r.state == core::parse_state::error) {
            ++c_.protocol_errors;
            send_frame(
                c, ws::encode_close(c.slow->error_close_code(), "", ws::role::client, mask_key()));
            fail(c, fmt::format("frame refused: {}", r.error));
            return;
        }
        while (auto e = c.slow->next()) {
            switch (e->op) {
            case ws::opcode::text:
                text(c, e->payload, now);
                break;
            case ws::opcode::ping:
                ++c_.pings;
                send_frame(c, ws::encode_frame(ws::opcode::pong, e->payload, ws::role::client,
                                               mask_key()));
                break;
            case ws::opcode::close:
                // §5.5.1: answer with a close frame, then the server closes the TCP connection.
                send_frame(c, ws::encode_close(e->code == ws::close_code::no_status
                                                   ? ws::close_code::normal
                                                   : e->code,
                                               "", ws::role::client, mask_key()));
                fail(c, fmt::format("closed by the server: {} {}", e->code, e->payload));
                return;
            case ws::opcode::binary:
                ++c_.other;
                break;
            default:
                break;
            }
        }
        if (!c.fragmented && c.slow->queued() == 0) {
            c.slow.reset(); // back to plain frames: an idle connection holds no reader
        }
    }

    std::uint32_t mask_key() { return static_cast<std::uint32_t>(rng_()); }

    void send_frame(connection& c, const std::string& f) {
        if (::send(c.fd, f.data(), f.size(), MSG_NOSIGNAL | MSG_DONTWAIT) !=
            static_cast<ssize_t>(f.size())) {
            problem("control frame: short write");
        }
    }

    /// A server text message (whole, or the first bytes of a large one).
    void text(connection& c, std::string_view m, std::int64_t now) {
        if (!m.starts_with(type_open)) {
            ++c_.other;
            return;
        }
        m.remove_prefix(type_open.size());
        if (m.starts_with("message\"")) {
            constexpr std::string_view marker = R"("text":"t=)";
            const auto at = find_in(m, marker);
            std::int64_t sent = 0;
            if (at == std::string_view::npos || !parse_digits(m.substr(at + marker.size()), sent)) {
                ++c_.other;
                return;
            }
            ++c_.deliveries;
            hist_.add(static_cast<std::uint64_t>(std::max<std::int64_t>(0, now - sent) / 1000));
            if (c_.first_delivery_ns == 0) {
                c_.first_delivery_ns = now;
            }
            c_.last_delivery_ns = now;
        } else if (m.starts_with("history\"")) {
            if (!c.history) {
                c.history = true;
                ++c_.history;
            }
        } else if (m.starts_with("skipped\"")) {
            ++c_.skipped_notices;
            constexpr std::string_view count = R"("count":)";
            const auto at = m.find(count);
            std::int64_t n = 0;
            if (at != std::string_view::npos && parse_digits(m.substr(at + count.size()), n)) {
                c_.skipped_messages += static_cast<std::uint64_t>(n);
            }
        } else if (m.starts_with("error\"")) {
            ++c_.errors;
            problem(fmt::format("server error message: {}", m.substr(0, 120)));
        } else {
            ++c_.other;
        }
    }

    const options& o_;
    std::uint64_t first_;
    double rate_;
    std::uint64_t seed_;
    published_counts& pub_;
    const std::atomic<bool>& stop_;
    std::vector<connection> conns_;
    std::size_t opened_ = 0;
    std::vector<char> buf_;
    int ep_ = -1;
    receiver_counts c_;
    histogram hist_;
    std::string first_problem_;
    std::minstd_rand rng_{std::random_device{}()};
};

// ---- worker process ------------------------------------------------------------------------

struct slice {
    std::uint64_t first = 0;
    std::size_t count = 0;
};

std::string status_line(const std::vector<std::unique_ptr<published_counts>>& pubs) {
    std::uint64_t v[5] = {};
    for (const auto& p : pubs) {
        v[0] += p->connected.load(std::memory_order_relaxed);
        v[1] += p->failed.load(std::memory_order_relaxed);
        v[2] += p->history.load(std::memory_order_relaxed);
        v[3] += p->closed.load(std::memory_order_relaxed);
        v[4] += p->deliveries.load(std::memory_order_relaxed);
    }
    return fmt::format("S {} {} {} {} {}\n", v[0], v[1], v[2], v[3], v[4]);
}

/// A worker process: --threads receive loops over its slice; reports "S ..." status lines every
/// 100 ms on `ctl` and, on "stop", one final "F ..." line with every counter and the histogram.
int worker_main(const options& o, slice s, double rate, std::uint64_t seed, int ctl) {
    std::atomic<bool> stop{false};
    const unsigned threads = std::max(1U, o.threads);
    std::vector<std::unique_ptr<published_counts>> pubs;
    std::vector<std::unique_ptr<receiver_loop>> loops;
    std::uint64_t first = s.first;
    for (unsigned t = 0; t < threads; ++t) {
        const auto count = s.count / threads + (t < s.count % threads ? 1 : 0);
        pubs.push_back(std::make_unique<published_counts>());
        loops.push_back(std::make_unique<receiver_loop>(o, first, count, rate / threads, seed,
                                                        *pubs.back(), stop));
        first += count;
    }
    std::vector<std::thread> running;
    running.reserve(loops.size());
    for (auto& l : loops) {
        running.emplace_back([&l] { l->run(); });
    }
    std::string in;
    for (;;) {
        pollfd p{ctl, POLLIN, 0};
        const int r = ::poll(&p, 1, 100);
        if (r > 0) {
            char tmp[256];
            const auto n = ::read(ctl, tmp, sizeof tmp);
            if (n <= 0) {
                break; // the parent is gone
            }
            in.append(tmp, static_cast<std::size_t>(n));
            if (in.find("stop\n") != std::string::npos) {
                break;
            }
        }
        const auto line = status_line(pubs);
        if (!send_all_blocking(ctl, line)) {
            break;
        }
    }
    stop.store(true);
    for (auto& t : running) {
        t.join();
    }
    receiver_counts sum;
    histogram h;
    std::string problem;
    for (const auto& l : loops) {
        const auto& c = l->counts();
        sum.connected += c.connected;
        sum.failed += c.failed;
        sum.history += c.history;
        sum.closed += c.closed;
        sum.deliveries += c.deliveries;
        sum.other += c.other;
        sum.skipped_notices += c.skipped_notices;
        sum.skipped_messages += c.skipped_messages;
        sum.errors += c.errors;
        sum.protocol_errors += c.protocol_errors;
        sum.pings += c.pings;
        sum.slow_frames += c.slow_frames;
        if (c.first_delivery_ns != 0 &&
            (sum.first_delivery_ns == 0 || c.first_delivery_ns < sum.first_delivery_ns)) {
            sum.first_delivery_ns = c.first_delivery_ns;
        }
        sum.last_delivery_ns = std::max(sum.last_delivery_ns, c.last_delivery_ns);
        h.merge(l->latency());
        if (problem.empty()) {
            problem = l->first_problem();
        }
    }
    for (auto& ch : problem) {
        ch = (ch == '\n' || ch == '\r' || ch == ' ') ? '_' : ch;
    }
    const auto line =
        fmt::format("F {} {} {} {} {} {} {} {} {} {} {} {} {} {} {} {}\n", sum.connected,
                    sum.failed, sum.history, sum.closed, sum.deliveries, sum.other,
                    sum.skipped_notices, sum.skipped_messages, sum.errors, sum.protocol_errors,
                    sum.pings, sum.slow_frames, sum.first_delivery_ns, sum.last_delivery_ns,
                    h.serialize(), problem.empty() ? "-" : problem);
    send_all_blocking(ctl, line);
    loops.clear(); // closes the connections
    return 0;
}

struct worker {
    int pid = -1;
    int ctl = -1;
    std::string in;
    std::uint64_t status[5] = {};
    bool final_seen = false;
    receiver_counts final;
    histogram hist;
    std::string problem;
};

bool parse_final(std::string_view line, worker& w) {
    std::istringstream in{std::string(line)};
    std::string tag;
    std::string hist;
    auto& f = w.final;
    in >> tag >> f.connected >> f.failed >> f.history >> f.closed >> f.deliveries >> f.other >>
        f.skipped_notices >> f.skipped_messages >> f.errors >> f.protocol_errors >> f.pings >>
        f.slow_frames >> f.first_delivery_ns >> f.last_delivery_ns >> hist >> w.problem;
    return in && tag == "F" && w.hist.parse(hist);
}

/// Reads what the workers wrote (status lines, final lines) for up to `timeout_ms`.
void pump_workers(std::vector<worker>& ws, int timeout_ms) {
    std::vector<pollfd> fds;
    for (const auto& w : ws) {
        fds.push_back({w.ctl, POLLIN, 0});
    }
    if (::poll(fds.data(), fds.size(), timeout_ms) <= 0) {
        return;
    }
    for (std::size_t i = 0; i < ws.size(); ++i) {
        if ((fds[i].revents & (POLLIN | POLLHUP)) == 0) {
            continue;
        }
        char tmp[65536];
        const auto n = ::read(ws[i].ctl, tmp, sizeof tmp);
        if (n <= 0) {
            continue;
        }
        auto& w = ws[i];
        w.in.append(tmp, static_cast<std::size_t>(n));
        std::size_t eol = 0;
        while ((eol = w.in.find('\n')) != std::string::npos) {
            const std::string line = w.in.substr(0, eol);
            w.in.erase(0, eol + 1);
            if (line.starts_with("S ")) {
                std::istringstream in(line.substr(2));
                in >> w.status[0] >> w.status[1] >> w.status[2] >> w.status[3] >> w.status[4];
            } else if (line.starts_with("F ")) {
                w.final_seen = parse_final(line, w);
            }
        }
    }
}

std::uint64_t total_status(const std::vector<worker>& ws, int field) {
    std::uint64_t t = 0;
    for (const auto& w : ws) {
        t += w.status[field];
    }
    return t;
}

// ---- senders (in the parent) -----------------------------------------------------------------

/// Blocking HTTP/1.1 request with Connection: close; the whole response, or "" on failure.
std::string http_request(const options& o, std::string_view method, std::string_view path,
                         std::string_view body) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return {};
    }
    const auto a = make_address(o.host, o.port);
    std::string out;
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0) {
        const auto req =
            fmt::format("{} {} HTTP/1.1\r\nHost: {}:{}\r\nConnection: close\r\n"
                        "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{}",
                        method, path, o.host, o.port, body.size(), body);
        if (send_all_blocking(fd, req)) {
            char tmp[4096];
            ssize_t n = 0;
            while ((n = ::recv(fd, tmp, sizeof tmp, 0)) > 0) {
                out.append(tmp, static_cast<std::size_t>(n));
            }
        }
    }
    ::close(fd);
    return out;
}

/// POST /api/v1/auth/guest -> the token, or an error message prefixed with "!".
std::string guest_token(const options& o, const std::string& name) {
    const auto resp =
        http_request(o, "POST", "/api/v1/auth/guest", nlohmann::json{{"name", name}}.dump());
    const auto body_at = resp.find("\r\n\r\n");
    if (!resp.starts_with("HTTP/1.1 201") || body_at == std::string::npos) {
        return "!" + resp.substr(0, resp.find("\r\n"));
    }
    const auto j = nlohmann::json::parse(resp.substr(body_at + 4), nullptr, false);
    if (j.is_discarded() || !j.contains("token") || !j["token"].is_string()) {
        return "!no token in the answer";
    }
    return j["token"].get<std::string>();
}

struct sender {
    int fd = -1;
    ws::frame_reader reader{ws::role::client, ws::frame_limits{.max_message_bytes = 4 * 1024 * 1024,
                                                               .max_fragments = 1024}};
    std::string in;
    bool history = false;
};

struct sender_counts {
    std::uint64_t sent = 0;
    std::uint64_t acked = 0;
    std::uint64_t errors = 0;
    std::uint64_t blocked = 0; ///< a send that did not fit the socket buffer at once
    std::uint64_t received = 0;
    std::string first_error;
};

class sender_set {
  public:
    sender_set(const options& o, sender_counts& c) : o_(o), c_(c) {}
    sender_set(const sender_set&) = delete;
    sender_set& operator=(const sender_set&) = delete;
    ~sender_set() {
        for (auto& s : senders_) {
            if (s->fd >= 0) {
                ::close(s->fd);
            }
        }
    }

    /// Connects one sender with `token`, through the upgrade, until its history arrives.
    std::string add(const std::string& token) {
        auto s = std::make_unique<sender>();
        s->fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        const auto a = make_address(o_.host, o_.port);
        if (s->fd < 0 || ::connect(s->fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) {
            return fmt::format("sender connect: {}", std::strerror(errno));
        }
        const int one = 1;
        setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        const auto key = websocket_key(rng_(), senders_.size());
        if (!send_all_blocking(s->fd, upgrade_request(o_, key, "?token=" + token))) {
            return "sender: upgrade request not sent";
        }
        std::string head;
        char tmp[4096];
        while (head.find("\r\n\r\n") == std::string::npos && head.size() < max_http_head) {
            const auto n = ::recv(s->fd, tmp, sizeof tmp, 0);
            if (n <= 0) {
                return "sender: connection closed during the upgrade";
            }
            head.append(tmp, static_cast<std::size_t>(n));
        }
        const auto end = head.find("\r\n\r\n");
        if (end == std::string::npos) {
            return "sender: upgrade response too long";
        }
        if (auto why = check_upgrade_response(std::string_view(head).substr(0, end + 2), key);
            !why.empty()) {
            return "sender: " + why;
        }
        s->in = head.substr(end + 4);
        fcntl(s->fd, F_SETFL, fcntl(s->fd, F_GETFL) | O_NONBLOCK);
        senders_.push_back(std::move(s));
        auto& added = *senders_.back();
        process(added); // the history may have come with the 101
        const auto deadline = mono_ns() + 10'000'000'000;
        while (!added.history && mono_ns() < deadline) {
            poll_once(20);
            if (added.fd < 0) {
                return "sender: closed before its history";
            }
        }
        return added.history ? std::string() : std::string("sender: no history within 10 s");
    }

    /// Sends message `k` from sender k % count.
    void send_message(std::uint64_t k) {
        auto& s = *senders_[k % senders_.size()];
        if (s.fd < 0) {
            ++c_.errors;
            return;
        }
        std::string text = fmt::format("t={} k={} chat load", mono_ns(), k);
        if (text.size() < o_.text_bytes) {
            text.append(o_.text_bytes - text.size(), 'x');
        }
        const auto msg = fmt::format(R"({{"type":"send","text":"{}","ref":"{}"}})", text, k);
        const auto frame = ws::encode_frame(ws::opcode::text, msg, ws::role::client,
                                            static_cast<std::uint32_t>(rng_()));
        const auto n = ::send(s.fd, frame.data(), frame.size(), MSG_NOSIGNAL);
        if (n != static_cast<ssize_t>(frame.size())) {
            ++c_.blocked;
            // Rare (the socket buffer holds thousands of these): finish it blocking.
            const auto done = n > 0 ? static_cast<std::size_t>(n) : 0;
            fcntl(s.fd, F_SETFL, fcntl(s.fd, F_GETFL) & ~O_NONBLOCK);
            send_all_blocking(s.fd, std::string_view(frame).substr(done));
            fcntl(s.fd, F_SETFL, fcntl(s.fd, F_GETFL) | O_NONBLOCK);
        }
        ++c_.sent;
    }

    /// Reads what the senders received for up to `timeout_ms` (acks, errors, the room's
    /// messages, which must be drained so that the server does not drop the sender).
    void poll_once(int timeout_ms) {
        std::vector<pollfd> fds;
        for (const auto& s : senders_) {
            fds.push_back({s->fd, POLLIN, 0});
        }
        if (fds.empty()) {
            return;
        }
        if (::poll(fds.data(), fds.size(), timeout_ms) <= 0) {
            return;
        }
        for (std::size_t i = 0; i < senders_.size(); ++i) {
            if (fds[i].revents != 0) {
                read(*senders_[i]);
            }
        }
    }

    [[nodiscard]] std::size_t size() const { return senders_.size(); }

  private:
    void read(sender& s) {
        char tmp[65536];
        for (;;) {
            const auto n = ::recv(s.fd, tmp, sizeof tmp, 0);
            if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
                break;
            }
            if (n <= 0) {
                error("sender: connection closed");
                ::close(s.fd);
                s.fd = -1;
                return;
            }
            s.in.append(tmp, static_cast<std::size_t>(n));
        }
        process(s);
    }

    /// Decodes what `s.in` holds.
    void process(sender& s) {
        const auto r = s.reader.feed(core::as_bytes(s.in));
        if (r.state == core::parse_state::error) {
            error("sender: " + r.error);
            ::close(s.fd);
            s.fd = -1;
            return;
        }
        s.in.erase(0, r.consumed);
        while (auto e = s.reader.next()) {
            if (e->op == ws::opcode::ping) {
                send_all_blocking(s.fd,
                                  ws::encode_frame(ws::opcode::pong, e->payload, ws::role::client,
                                                   static_cast<std::uint32_t>(rng_())));
                continue;
            }
            if (e->op != ws::opcode::text) {
                continue;
            }
            std::string_view m = e->payload;
            if (m.starts_with(R"({"type":"ack")")) {
                ++c_.acked;
            } else if (m.starts_with(R"({"type":"history")")) {
                s.history = true;
            } else if (m.starts_with(R"({"type":"error")")) {
                ++c_.errors;
                error(std::string(m.substr(0, 160)));
            } else {
                ++c_.received;
            }
        }
    }

    void error(std::string what) {
        if (c_.first_error.empty()) {
            c_.first_error = std::move(what);
        }
    }

    const options& o_;
    sender_counts& c_;
    std::vector<std::unique_ptr<sender>> senders_;
    std::mt19937_64 rng_{std::random_device{}()};
};

// ---- the run -------------------------------------------------------------------------------

int raise_nofile() {
    rlimit r{};
    getrlimit(RLIMIT_NOFILE, &r);
    r.rlim_cur = r.rlim_max;
    setrlimit(RLIMIT_NOFILE, &r);
    getrlimit(RLIMIT_NOFILE, &r);
    return static_cast<int>(std::min<rlim_t>(r.rlim_cur, 1 << 30));
}

struct report {
    std::size_t connections = 0;
    unsigned processes = 0;
    unsigned threads = 0;
    receiver_counts r;
    histogram latency;
    sender_counts s;
    std::string problem;
    double connect_s = 0;
    double send_s = 0;
    double window_s = 0;
    double deliveries_per_s = 0;
    std::uint64_t expected = 0;
    memory_sample mem_before;
    memory_sample mem_idle;
    memory_sample mem_after;
    double server_cpu_connect_s = -1;
    double server_cpu_s = -1;
    double client_cpu_s = -1;
};

/// "-" for a figure that could not be read (NaN or the -1 of a CPU time).
std::string fmt_or_dash(double v, int digits) {
    return std::isnan(v) || v == -1 ? std::string("-") : fmt::format("{:.{}f}", v, digits);
}

void print_report(const options& o, const report& rep) {
    const double per_conn_rss =
        rep.r.history > 0 && rep.mem_idle.rss_kib >= 0
            ? static_cast<double>(rep.mem_idle.rss_kib - rep.mem_before.rss_kib) * 1024.0 /
                  static_cast<double>(rep.r.history)
            : std::nan("");
    const double per_conn_pss =
        rep.r.history > 0 && rep.mem_idle.pss_kib >= 0
            ? static_cast<double>(rep.mem_idle.pss_kib - rep.mem_before.pss_kib) * 1024.0 /
                  static_cast<double>(rep.r.history)
            : std::nan("");
    const double deliveries_m = static_cast<double>(rep.r.deliveries) / 1e6;
    const double srv_per_m =
        rep.server_cpu_s >= 0 && deliveries_m > 0 ? rep.server_cpu_s / deliveries_m : -1;
    const double cli_per_m =
        rep.client_cpu_s >= 0 && deliveries_m > 0 ? rep.client_cpu_s / deliveries_m : -1;
    const auto ms = [&](double q) { return static_cast<double>(rep.latency.quantile(q)) / 1000.0; };
    const auto missing = rep.expected > rep.r.deliveries ? rep.expected - rep.r.deliveries : 0;

    fmt::print(stderr,
               "chat_load: {} connections ({} processes x {} threads): {} opened, {} failed, {} "
               "with history in {:.1f} s, {} closed later\n",
               rep.connections, rep.processes, rep.threads, rep.r.connected, rep.r.failed,
               rep.r.history, rep.connect_s, rep.r.closed);
    fmt::print(stderr,
               "chat_load: server memory per idle connection: RSS {} B, PSS {} B (the kernel's "
               "socket memory is not in these)\n",
               fmt_or_dash(per_conn_rss, 0), fmt_or_dash(per_conn_pss, 0));
    fmt::print(stderr,
               "chat_load: {} senders sent {} messages ({} acked, {} errors) in {:.1f} s; {} "
               "deliveries of {} expected ({} missing) over {:.2f} s = {:.0f} deliveries/s\n",
               o.senders, rep.s.sent, rep.s.acked, rep.s.errors, rep.send_s, rep.r.deliveries,
               rep.expected, missing, rep.window_s, rep.deliveries_per_s);
    fmt::print(stderr,
               "chat_load: latency ms p50 {:.2f} p90 {:.2f} p99 {:.2f} p99.9 {:.2f} max "
               "{:.2f}\n",
               ms(0.50), ms(0.90), ms(0.99), ms(0.999),
               static_cast<double>(rep.latency.max()) / 1000.0);
    fmt::print(stderr,
               "chat_load: CPU s per million deliveries: server {} client {}; skipped notices {} "
               "({} messages), error messages {}, protocol errors {}, pings {}\n",
               fmt_or_dash(srv_per_m, 3), fmt_or_dash(cli_per_m, 3), rep.r.skipped_notices,
               rep.r.skipped_messages, rep.r.errors, rep.r.protocol_errors, rep.r.pings);
    if (!rep.problem.empty()) {
        fmt::print(stderr, "chat_load: first problem: {}\n", rep.problem);
    }
    if (!rep.s.first_error.empty()) {
        fmt::print(stderr, "chat_load: first sender problem: {}\n", rep.s.first_error);
    }
    fmt::print(
        "RESULT bench=chat connections={} opened={} failed={} history={} closed={} processes={} "
        "threads={} connect_s={:.2f} rate={} duration_s={} senders={} sent={} acked={} "
        "sender_errors={} deliveries={} expected={} missing={} window_s={:.3f} "
        "deliveries_per_s={:.0f} p50_ms={:.2f} p90_ms={:.2f} p99_ms={:.2f} p999_ms={:.2f} "
        "max_ms={:.2f} rss_before_kib={} rss_idle_kib={} rss_after_kib={} rss_per_conn_b={} "
        "pss_per_conn_b={} server_cpu_connect_s={} server_cpu_s={} "
        "server_cpu_s_per_m={} client_cpu_s={} client_cpu_s_per_m={} skipped_notices={} "
        "skipped_messages={} error_messages={} protocol_errors={} pings={} slow_frames={}\n",
        rep.connections, rep.r.connected, rep.r.failed, rep.r.history, rep.r.closed, rep.processes,
        rep.threads, rep.connect_s, o.rate, o.duration_s, o.senders, rep.s.sent, rep.s.acked,
        rep.s.errors, rep.r.deliveries, rep.expected, missing, rep.window_s, rep.deliveries_per_s,
        ms(0.50), ms(0.90), ms(0.99), ms(0.999), static_cast<double>(rep.latency.max()) / 1000.0,
        rep.mem_before.rss_kib, rep.mem_idle.rss_kib, rep.mem_after.rss_kib,
        fmt_or_dash(per_conn_rss, 0), fmt_or_dash(per_conn_pss, 0),
        fmt_or_dash(rep.server_cpu_connect_s, 2), fmt_or_dash(rep.server_cpu_s, 2),
        fmt_or_dash(srv_per_m, 3), fmt_or_dash(rep.client_cpu_s, 2), fmt_or_dash(cli_per_m, 3),
        rep.r.skipped_notices, rep.r.skipped_messages, rep.r.errors, rep.r.protocol_errors,
        rep.r.pings, rep.r.slow_frames);
    std::fflush(stdout);
}

/// The whole run; fills `rep`. Returns 0 clean, 3 completed with problems, 2 could not run.
int run(const options& o, report& rep) {
    const int nofile = raise_nofile();
    // Each process keeps a few descriptors for itself (epoll, the control socket, stdio).
    const auto per_process = static_cast<std::size_t>(std::max(1, nofile - 32));
    unsigned procs = o.processes;
    if (procs == 0) {
        procs = static_cast<unsigned>((o.connections + per_process - 1) / per_process);
        procs = std::max(1U, procs);
    }
    if ((o.connections + procs - 1) / procs > per_process) {
        fmt::print(stderr, "chat_load: {} connections in {} processes exceed RLIMIT_NOFILE {}\n",
                   o.connections, procs, nofile);
        return 2;
    }
    rep.connections = o.connections;
    rep.processes = procs;
    rep.threads = std::max(1U, o.threads);
    const double clk = static_cast<double>(sysconf(_SC_CLK_TCK));
    const auto ticks = [&](int pid) { return static_cast<double>(cpu_ticks(pid)) / clk; };
    const auto server_ticks = [&] {
        if (o.server_pids.empty()) {
            return -1.0;
        }
        double t = 0;
        for (const int pid : o.server_pids) {
            t += ticks(pid);
        }
        return t;
    };

    // Tokens first (before forking: a refusal stops the run before any load).
    std::vector<std::string> tokens = o.tokens;
    for (unsigned i = static_cast<unsigned>(tokens.size()); i < o.senders; ++i) {
        auto t = guest_token(o, fmt::format("load{}", i));
        if (t.starts_with("!")) {
            fmt::print(stderr, "chat_load: POST /api/v1/auth/guest: {}\n", t.substr(1));
            return 2;
        }
        tokens.push_back(std::move(t));
    }

    rep.mem_before = server_memory(o.server_pids);
    const double srv_cpu0 = server_ticks();

    const std::uint64_t seed = std::random_device{}() * 0x9E3779B97F4A7C15ULL + 1;
    std::vector<worker> workers(procs);
    std::uint64_t first = 0;
    const auto t_start = mono_ns();
    for (unsigned i = 0; i < procs; ++i) {
        const auto count = o.connections / procs + (i < o.connections % procs ? 1 : 0);
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
            fmt::print(stderr, "chat_load: socketpair: {}\n", std::strerror(errno));
            return 2;
        }
        std::fflush(stdout);
        std::fflush(stderr);
        const int pid = fork();
        if (pid == 0) {
            ::close(sv[0]);
            for (unsigned j = 0; j < i; ++j) {
                ::close(workers[j].ctl);
            }
            std::_Exit(worker_main(o, {first, count}, o.ramp_per_second / procs, seed, sv[1]));
        }
        ::close(sv[1]);
        workers[i].pid = pid;
        workers[i].ctl = sv[0];
        first += count;
    }

    // Phase 1: every reader joined (history received) or failed.
    const auto deadline = t_start + static_cast<std::int64_t>(o.connect_timeout_s * 1e9);
    auto last_print = t_start;
    while (mono_ns() < deadline) {
        pump_workers(workers, 100);
        const auto history = total_status(workers, 2);
        const auto failed = total_status(workers, 1);
        const auto now = mono_ns();
        if (!o.quiet && now - last_print > 1'000'000'000) {
            fmt::print(stderr, "chat_load: {:.0f} s: {} upgraded, {} with history, {} failed\n",
                       seconds_between(t_start, now), total_status(workers, 0), history, failed);
            last_print = now;
        }
        if (history + failed >= o.connections) {
            break;
        }
    }
    rep.connect_s = seconds_between(t_start, mono_ns());
    rep.server_cpu_connect_s = srv_cpu0 >= 0 ? server_ticks() - srv_cpu0 : -1;
    // Idle memory, once allocations settled (freed join-time buffers, the history sends).
    const auto settle_until = mono_ns() + static_cast<std::int64_t>(o.settle_s * 1e9);
    while (mono_ns() < settle_until) {
        pump_workers(workers, 100);
    }
    rep.mem_idle = server_memory(o.server_pids);
    const std::uint64_t readers = total_status(workers, 2);

    // Phase 2: the senders.
    sender_set senders(o, rep.s);
    for (const auto& t : tokens) {
        if (auto why = senders.add(t); !why.empty()) {
            fmt::print(stderr, "chat_load: {}\n", why);
            rep.problem = why;
            break;
        }
    }
    const auto client_cpu = [&] {
        double t = ticks(0);
        for (const auto& w : workers) {
            t += ticks(w.pid);
        }
        return t;
    };
    const double srv_cpu1 = server_ticks();
    const double cli_cpu1 = client_cpu();
    const auto t_send = mono_ns();
    const auto messages = static_cast<std::uint64_t>(std::llround(o.rate * o.duration_s));
    if (senders.size() == tokens.size() && senders.size() > 0) {
        for (std::uint64_t k = 0; k < messages; ++k) {
            const auto due =
                t_send + static_cast<std::int64_t>(static_cast<double>(k) * 1e9 / o.rate);
            for (auto now = mono_ns(); now < due; now = mono_ns()) {
                const auto wait_ms =
                    static_cast<int>(std::min<std::int64_t>((due - now + 999'999) / 1'000'000, 10));
                senders.poll_once(wait_ms);
                pump_workers(workers, 0);
            }
            senders.send_message(k);
        }
    }
    const auto t_sent = mono_ns();
    rep.send_s = seconds_between(t_send, t_sent);

    // Phase 3: drain — until every acknowledged message reached every reader, or nothing new
    // arrived for 3 s, or --drain-s passed.
    const auto drain_until = t_sent + static_cast<std::int64_t>(o.drain_s * 1e9);
    auto last_progress = mono_ns();
    std::uint64_t last_deliveries = total_status(workers, 4);
    while (mono_ns() < drain_until) {
        senders.poll_once(20);
        pump_workers(workers, 20);
        const auto d = total_status(workers, 4);
        const auto live = readers - std::min(readers, total_status(workers, 3));
        if (rep.s.acked + rep.s.errors >= rep.s.sent && d >= rep.s.acked * live) {
            break;
        }
        if (d != last_deliveries) {
            last_deliveries = d;
            last_progress = mono_ns();
        } else if (mono_ns() - last_progress > 3'000'000'000) {
            break;
        }
    }
    rep.server_cpu_s = srv_cpu1 >= 0 ? server_ticks() - srv_cpu1 : -1;
    rep.client_cpu_s = client_cpu() - cli_cpu1;
    rep.mem_after = server_memory(o.server_pids);

    // Finals.
    for (auto& w : workers) {
        send_all_blocking(w.ctl, "stop\n");
    }
    const auto final_deadline = mono_ns() + 30'000'000'000;
    while (mono_ns() < final_deadline &&
           !std::all_of(workers.begin(), workers.end(),
                        [](const worker& w) { return w.final_seen; })) {
        pump_workers(workers, 100);
    }
    bool all_final = true;
    for (auto& w : workers) {
        all_final = all_final && w.final_seen;
        const auto& f = w.final;
        rep.r.connected += f.connected;
        rep.r.failed += f.failed;
        rep.r.history += f.history;
        rep.r.closed += f.closed;
        rep.r.deliveries += f.deliveries;
        rep.r.other += f.other;
        rep.r.skipped_notices += f.skipped_notices;
        rep.r.skipped_messages += f.skipped_messages;
        rep.r.errors += f.errors;
        rep.r.protocol_errors += f.protocol_errors;
        rep.r.pings += f.pings;
        rep.r.slow_frames += f.slow_frames;
        if (f.first_delivery_ns != 0 &&
            (rep.r.first_delivery_ns == 0 || f.first_delivery_ns < rep.r.first_delivery_ns)) {
            rep.r.first_delivery_ns = f.first_delivery_ns;
        }
        rep.r.last_delivery_ns = std::max(rep.r.last_delivery_ns, f.last_delivery_ns);
        rep.latency.merge(w.hist);
        if (rep.problem.empty() && w.problem != "-") {
            rep.problem = w.problem;
        }
        ::close(w.ctl);
        int st = 0;
        waitpid(w.pid, &st, 0);
    }
    if (!all_final) {
        rep.problem = "a worker sent no final report";
    }
    // Readers that joined, minus those closed since: each should have every acknowledged
    // message (a reader that left early is reported as closed, and its shortfall as missing).
    rep.expected = rep.s.acked * rep.r.history;
    rep.window_s =
        rep.r.last_delivery_ns > t_send ? seconds_between(t_send, rep.r.last_delivery_ns) : 0;
    rep.deliveries_per_s =
        rep.window_s > 0 ? static_cast<double>(rep.r.deliveries) / rep.window_s : 0;
    print_report(o, rep);
    const bool clean = all_final && rep.r.failed == 0 && rep.r.history == o.connections &&
                       rep.r.closed == 0 && rep.r.errors == 0 && rep.r.protocol_errors == 0 &&
                       rep.r.skipped_notices == 0 && rep.s.errors == 0 && rep.s.acked == messages &&
                       rep.r.deliveries == rep.expected;
    return clean ? 0 : 3;
}

// ---- self-test: a small broadcast server of our own ------------------------------------------

/// A single-threaded stand-in for livehouse's chat route, enough to exercise every path of the
/// client: guest tokens, the upgrade, a large history (skipped on the plain path), messages
/// fanned out to every connection, and, every 5th message, a ping and the message split in two
/// fragments (the frame_reader path).
class self_test_server {
  public:
    explicit self_test_server(int listen_fd) : lfd_(listen_fd) {}

    [[noreturn]] void run() {
        ep_ = epoll_create1(EPOLL_CLOEXEC);
        add(lfd_, EPOLLIN);
        std::array<epoll_event, 256> events{};
        for (;;) {
            const int n = epoll_wait(ep_, events.data(), static_cast<int>(events.size()), 1000);
            for (int i = 0; i < n; ++i) {
                const int fd = events[static_cast<std::size_t>(i)].data.fd;
                if (fd == lfd_) {
                    accept_all();
                    continue;
                }
                const auto it = peers_.find(fd);
                if (it == peers_.end()) {
                    continue;
                }
                if ((events[static_cast<std::size_t>(i)].events & EPOLLOUT) != 0) {
                    flush(*it->second);
                }
                if (peers_.contains(fd) &&
                    (events[static_cast<std::size_t>(i)].events & (EPOLLIN | EPOLLHUP)) != 0) {
                    readable(*it->second);
                }
            }
        }
    }

  private:
    struct peer {
        int fd = -1;
        bool ws = false;
        bool user = false;
        std::string in;
        std::string out;
        ws::frame_reader reader{ws::role::server};
    };

    void add(int fd, std::uint32_t events) {
        epoll_event ev{};
        ev.events = events;
        ev.data.fd = fd;
        epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev);
    }

    void accept_all() {
        for (;;) {
            const int fd = accept4(lfd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd < 0) {
                return;
            }
            const int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            auto p = std::make_unique<peer>();
            p->fd = fd;
            add(fd, EPOLLIN);
            peers_.emplace(fd, std::move(p));
        }
    }

    void close_peer(peer& p) {
        const int fd = p.fd;
        ::close(fd);
        peers_.erase(fd);
    }

    void readable(peer& p) {
        char tmp[65536];
        const auto n = ::recv(p.fd, tmp, sizeof tmp, 0);
        if (n <= 0) {
            if (n < 0 && errno == EAGAIN) {
                return;
            }
            close_peer(p);
            return;
        }
        p.in.append(tmp, static_cast<std::size_t>(n));
        if (!p.ws) {
            http(p);
            return;
        }
        frames(p);
    }

    void http(peer& p) {
        const auto end = p.in.find("\r\n\r\n");
        if (end == std::string::npos) {
            return;
        }
        const std::string_view head = std::string_view(p.in).substr(0, end + 2);
        if (head.starts_with("POST /api/v1/auth/guest ")) {
            const auto length =
                std::atoi(std::string(header_value(head, "content-length")).c_str());
            if (p.in.size() < end + 4 + static_cast<std::size_t>(length)) {
                return;
            }
            const auto body = fmt::format(
                R"({{"token":"tok-{}","user":{{"id":"g-{}","name":"load"}},"expires_at":"x"}})",
                tokens_, tokens_);
            ++tokens_;
            queue(p, fmt::format("HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
                                 "Content-Length: {}\r\nConnection: close\r\n\r\n{}",
                                 body.size(), body));
            ::shutdown(p.fd, SHUT_WR);
            return;
        }
        const std::string_view path_prefix = "GET /ws/broadcasts/selftest";
        if (!head.starts_with(path_prefix) || header_value(head, "sec-websocket-key").empty()) {
            queue(p, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            ::shutdown(p.fd, SHUT_WR);
            return;
        }
        p.user = head.substr(path_prefix.size()).starts_with("?token=tok-");
        const auto accept = ws::accept_key(header_value(head, "sec-websocket-key"));
        p.in.erase(0, end + 4);
        p.ws = true;
        queue(p, fmt::format("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                             "Connection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n\r\n",
                             accept));
        // A history of old timed messages, larger than the client's carry limit: counted as
        // deliveries, they would show up as an excess and a huge latency.
        std::string h = R"({"type":"history","messages":[)";
        for (int i = 0; i < 120; ++i) {
            h += fmt::format(R"({}{{"type":"message","offset":{},"id":"m{}","user":{{"id":"g-0",)"
                             R"("name":"old"}},"text":"t=5 k={} an old message padded to a )"
                             R"(realistic length","time":0,"position":0.000}})",
                             i == 0 ? "" : ",", i, i, i);
        }
        h += R"(],"next_offset":120,"resumed":false})";
        queue(p, ws::encode_frame(ws::opcode::text, h));
        frames(p);
    }

    void frames(peer& p) {
        const auto r = p.reader.feed(core::as_bytes(p.in));
        if (r.state == core::parse_state::error) {
            close_peer(p);
            return;
        }
        p.in.erase(0, r.consumed);
        const int fd = p.fd;
        while (auto e = p.reader.next()) {
            if (e->op == ws::opcode::close) {
                queue(p, ws::encode_close(ws::close_code::normal, ""));
                close_peer(p);
                return;
            }
            if (e->op != ws::opcode::text) {
                continue;
            }
            const auto j = nlohmann::json::parse(e->payload, nullptr, false);
            if (j.is_discarded() || !j.is_object() || j.value("type", "") != "send" ||
                !j.contains("text") || !j["text"].is_string()) {
                queue(p,
                      ws::encode_frame(ws::opcode::text,
                                       R"({"type":"error","code":"bad_message","message":"x"})"));
                continue;
            }
            if (!p.user) {
                queue(p,
                      ws::encode_frame(ws::opcode::text,
                                       R"({"type":"error","code":"auth_required","message":"x"})"));
                continue;
            }
            const auto ref = j.value("ref", "");
            const auto offset = offset_++;
            const auto msg = fmt::format(
                R"({{"type":"message","offset":{},"id":"m{}","user":{{"id":"g-1","name":"load"}},)"
                R"("text":{},"time":0,"position":0.000}})",
                offset, offset, nlohmann::json(j["text"]).dump());
            std::string wire;
            if (offset % 5 == 4) {
                // §5.5: a control frame may come between the fragments of a message.
                const auto half = msg.size() / 2;
                wire = fragment(0x01, std::string_view(msg).substr(0, half));
                wire += ws::encode_frame(ws::opcode::ping, "");
                wire += fragment(0x80, std::string_view(msg).substr(half));
            } else {
                wire = ws::encode_frame(ws::opcode::text, msg);
            }
            std::vector<int> fds;
            for (const auto& [peer_fd, q] : peers_) {
                if (q->ws) {
                    fds.push_back(peer_fd);
                }
            }
            for (const int f : fds) {
                if (const auto it = peers_.find(f); it != peers_.end()) {
                    queue(*it->second, wire);
                }
            }
            if (const auto it = peers_.find(fd); it != peers_.end()) {
                queue(*it->second, ws::encode_frame(ws::opcode::text,
                                                    fmt::format(R"({{"type":"ack","offset":{},)"
                                                                R"("ref":"{}"}})",
                                                                offset, ref)));
            } else {
                return;
            }
        }
    }

    /// An unmasked frame with FIN/opcode byte `b0` (payload <= 65535 bytes).
    static std::string fragment(std::uint8_t b0, std::string_view payload) {
        std::string f(1, static_cast<char>(b0));
        if (payload.size() < 126) {
            f += static_cast<char>(payload.size());
        } else {
            f += static_cast<char>(126);
            f += static_cast<char>(payload.size() >> 8U);
            f += static_cast<char>(payload.size() & 0xFFU);
        }
        f += payload;
        return f;
    }

    void queue(peer& p, std::string_view bytes) {
        const bool idle = p.out.empty();
        p.out += bytes;
        if (idle) {
            flush(p);
        }
    }

    void flush(peer& p) {
        while (!p.out.empty()) {
            const auto n = ::send(p.fd, p.out.data(), p.out.size(), MSG_NOSIGNAL);
            if (n < 0) {
                if (errno == EAGAIN) {
                    epoll_event ev{};
                    ev.events = EPOLLIN | EPOLLOUT;
                    ev.data.fd = p.fd;
                    epoll_ctl(ep_, EPOLL_CTL_MOD, p.fd, &ev);
                }
                return;
            }
            p.out.erase(0, static_cast<std::size_t>(n));
        }
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.fd = p.fd;
        epoll_ctl(ep_, EPOLL_CTL_MOD, p.fd, &ev);
    }

    int lfd_;
    int ep_ = -1;
    std::unordered_map<int, std::unique_ptr<peer>> peers_;
    std::uint64_t offset_ = 0;
    std::uint64_t tokens_ = 0;
};

/// Runs the client against self_test_server (in a child process) and checks exact counts.
int self_test(options o) {
    raise_nofile();
    const int lfd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    auto a = make_address("127.0.0.1", 0);
    socklen_t len = sizeof a;
    if (lfd < 0 || ::bind(lfd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::listen(lfd, 4096) != 0 || getsockname(lfd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
        fmt::print(stderr, "self-test: listen: {}\n", std::strerror(errno));
        return 2;
    }
    std::fflush(stdout);
    std::fflush(stderr);
    const int server = fork();
    if (server == 0) {
        self_test_server(lfd).run();
    }
    ::close(lfd);
    o.host = "127.0.0.1";
    o.port = ntohs(a.sin_port);
    o.broadcast = "selftest";
    o.server_pids = {server};
    report rep;
    const int rc = run(o, rep);
    kill(server, SIGKILL);
    waitpid(server, nullptr, 0);

    int failures = 0;
    const auto check = [&](bool ok, std::string_view what) {
        if (!ok) {
            fmt::print(stderr, "self-test: FAILED: {}\n", what);
            ++failures;
        }
    };
    const auto messages = static_cast<std::uint64_t>(std::llround(o.rate * o.duration_s));
    check(rc == 0, "the run was not clean");
    check(rep.r.history == o.connections, "every reader got its history");
    check(rep.s.acked == messages, "every message was acknowledged");
    check(rep.r.deliveries == messages * o.connections,
          "every message reached every reader exactly once (history entries not counted)");
    check(rep.latency.total() == rep.r.deliveries, "one latency sample per delivery");
    check(rep.latency.quantile(1.0) < 5'000'000, "latencies are those of this run");
    check(rep.r.pings > 0 && rep.r.pings == messages / 5 * o.connections,
          "pings between fragments were answered");
    check(rep.r.slow_frames >= rep.r.pings * 3, "fragments went through frame_reader");
    check(rep.mem_idle.rss_kib > 0, "the server's memory was read");
    check(rep.server_cpu_s >= 0 && rep.client_cpu_s >= 0, "CPU times were read");
    if (failures == 0) {
        fmt::print(stderr, "self-test: ok\n");
    }
    return failures == 0 ? 0 : 1;
}

} // namespace
} // namespace livehouse::bench

int main(int argc, char** argv) {
    livehouse::bench::options o;
    CLI::App cli{"livehouse_chat_load: chat fan-out load on one room (WebSocket readers and "
                 "senders; delivery rate, latency, server memory and CPU)",
                 "livehouse_chat_load"};
    cli.add_option("--host", o.host, "Server address (IPv4)")->capture_default_str();
    cli.add_option("--port", o.port, "Server HTTP port");
    cli.add_option("--broadcast", o.broadcast, "Broadcast id (ws://HOST:PORT/ws/broadcasts/ID)");
    cli.add_option("--connections,-c", o.connections, "Anonymous readers")
        ->check(CLI::Range(std::size_t{1}, std::size_t{1000000}))
        ->capture_default_str();
    cli.add_option("--ramp-per-second", o.ramp_per_second, "New connections per second")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    cli.add_option("--source-ips", o.source_ips,
                   "Spread readers over 127.0.0.1..127.0.0.N (0: no bind)")
        ->check(CLI::Range(0U, 254U))
        ->capture_default_str();
    cli.add_option("--threads", o.threads, "Receive loops per process")
        ->check(CLI::Range(1U, 16U))
        ->capture_default_str();
    cli.add_option("--processes", o.processes,
                   "Reader processes (0: as few as RLIMIT_NOFILE allows)")
        ->check(CLI::Range(0U, 64U))
        ->capture_default_str();
    cli.add_option("--server-pid", o.server_pids,
                   "Server pid, for its memory and CPU (/proc); repeat for several nodes (summed)");
    cli.add_option("--reader-ports", o.reader_ports,
                   "Ports readers connect to, round-robin (nodes sharing the room through Redis; "
                   "default: --port)")
        ->delimiter(',');
    cli.add_option("--rate", o.rate, "Messages per second, all senders together")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    cli.add_option("--duration", o.duration_s, "Seconds of sending")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    cli.add_option("--senders", o.senders, "Sender connections (user tokens)")
        ->check(CLI::Range(1U, 100U))
        ->capture_default_str();
    cli.add_option("--token", o.tokens,
                   "User token for a sender (repeatable; the rest are guest tokens)");
    cli.add_option("--text-bytes", o.text_bytes, "Pad each text to this many bytes")
        ->check(CLI::Range(std::size_t{0}, std::size_t{500}))
        ->capture_default_str();
    cli.add_option("--settle-s", o.settle_s, "Wait after the joins before reading idle memory")
        ->capture_default_str();
    cli.add_option("--connect-timeout-s", o.connect_timeout_s, "Longest join phase")
        ->capture_default_str();
    cli.add_option("--drain-s", o.drain_s, "Longest wait for deliveries after the last send")
        ->capture_default_str();
    cli.add_flag("--quiet", o.quiet, "No progress lines");
    cli.add_flag("--self-test", o.self_test,
                 "Run against a small built-in broadcast server and check exact counts");
    try {
        cli.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int code = cli.exit(e);
        return code == 0 ? 0 : 2;
    }
    std::signal(SIGPIPE, SIG_IGN);
    if (o.self_test) {
        // Small defaults that still cover two processes of two loops and several sources.
        const auto unset = [&](const char* name) { return cli.count(name) == 0; };
        if (unset("--connections")) {
            o.connections = 300;
        }
        if (unset("--processes")) {
            o.processes = 2;
        }
        if (unset("--threads")) {
            o.threads = 2;
        }
        if (unset("--source-ips")) {
            o.source_ips = 4;
        }
        if (unset("--senders")) {
            o.senders = 2;
        }
        if (unset("--rate")) {
            o.rate = 200;
        }
        if (unset("--duration")) {
            o.duration_s = 2;
        }
        if (unset("--settle-s")) {
            o.settle_s = 0.2;
        }
        o.quiet = true;
        return livehouse::bench::self_test(o);
    }
    if (o.port == 0 || o.broadcast.empty()) {
        fmt::print(stderr, "chat_load: --port and --broadcast are required (or --self-test)\n");
        return 2;
    }
    livehouse::bench::report rep;
    return livehouse::bench::run(o, rep);
}
