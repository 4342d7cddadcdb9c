// load_run (see load_run.hpp).
#include "stress/load_run.hpp"

#include "codec/http/response_reader.hpp"
#include "stress/chat_client.hpp"
#include "stress/endpoints.hpp"
#include "stress/hls_viewer.hpp"
#include "stress/love_tapper.hpp"
#include "stress/recorder.hpp"

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <charconv>
#include <chrono>
#include <fmt/format.h>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>
#include <unordered_map>

namespace livehouse::stress {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr auto drain_limit = std::chrono::seconds(10);
constexpr std::uint64_t body_limit = 64 * 1024 * 1024;
constexpr std::size_t read_bytes = 16 * 1024; ///< per connection

} // namespace

void step_stats::merge(const step_stats& o) {
    latency.merge(o.latency);
    requests += o.requests;
    failed += o.failed;
    for (const auto& [k, v] : o.statuses) {
        statuses[k] += v;
    }
    for (const auto& [k, v] : o.errors) {
        errors[k] += v;
    }
}

void second_stats::merge(const second_stats& o) {
    requests += o.requests;
    failed += o.failed;
    dropped += o.dropped;
    latency.merge(o.latency);
}

void viewer_stats::merge(const viewer_stats& o) {
    joined += o.joined;
    started += o.started;
    stalls += o.stalls;
    segments += o.segments;
    bytes += o.bytes;
    startup.merge(o.startup);
    stall_time.merge(o.stall_time);
}

void chat_stats::merge(const chat_stats& o) {
    clients += o.clients;
    joined += o.joined;
    late_joins += o.late_joins;
    sent += o.sent;
    acked += o.acked;
    received += o.received;
    delivered += o.delivered;
    skipped += o.skipped;
    disconnects += o.disconnects;
    malformed += o.malformed;
    for (const auto& [k, v] : o.errors) {
        errors[k] += v;
    }
    delivery.merge(o.delivery);
}

void run_stats::merge(const run_stats& o) {
    viewers.merge(o.viewers);
    love.merge(o.love);
    chat.merge(o.chat);
    for (const auto& [name, s] : o.steps) {
        steps[name].merge(s);
    }
    iterations += o.iterations;
    dropped += o.dropped;
    if (seconds.size() < o.seconds.size()) {
        seconds.resize(o.seconds.size());
    }
    for (std::size_t i = 0; i < o.seconds.size(); ++i) {
        seconds[i].merge(o.seconds[i]);
    }
    elapsed_s = std::max(elapsed_s, o.elapsed_s);
}

step_stats run_stats::total() const {
    step_stats t;
    for (const auto& [name, s] : steps) {
        t.merge(s);
    }
    return t;
}

namespace {

/// One event loop's part of the run: slot `slot` of `slots` (every loop of every share).
class loop_runner {
  public:
    /// `phases`: one track's phases, run one after the other from `start`.
    loop_runner(const scenario& sc, std::vector<phase> phases, std::size_t slot, std::size_t slots,
                clock_type::time_point start, clock_type::time_point run_start,
                const endpoints& targets, live_counters* live)
        : sc_(sc), phases_(std::move(phases)), slot_(slot), slots_(slots), start_(start),
          run_start_(run_start), targets_(targets), live_(live), timer_(ioc_), sweep_(ioc_) {
        for (const auto& ph : phases_) {
            const std::vector<step>* f = nullptr;
            if (const auto it = sc_.flows.find(ph.flow); it != sc_.flows.end()) {
                f = &it->second;
            }
            flows_.push_back(f);
            flow_stats_.emplace_back(f == nullptr ? 0 : f->size(), nullptr);
            flow_dynamic_.push_back(
                f != nullptr &&
                std::any_of(f->begin(), f->end(), [](const step& x) { return x.dynamic; }));
        }
    }

    void run() {
        asio::post(ioc_, [this] { begin_phase(0); });
        sweep();
        ioc_.run();
        stats_.elapsed_s = std::chrono::duration<double>(clock_type::now() - run_start_).count();
    }

    run_stats& stats() { return stats_; }

  private:
    struct vu {
        explicit vu(asio::io_context& ioc) : sock(ioc.get_executor()), think(ioc) {}
        // The loop's own executor type, not any_io_executor: every asynchronous operation
        // copies the executor, and copying the type-erased one showed as ~6 % of a run. A plain
        // socket, not Beast's basic_stream: its per-operation timer (a timer queue insert and
        // removal per request) and shared state were a tenth of the generator's own time; the
        // loop's sweep() enforces the request timeout instead.
        asio::basic_stream_socket<tcp, asio::io_context::executor_type> sock;
        /// When the operation in flight (connect, or a request: write + read) began; unset
        /// when none is. timed_out: sweep() closed the socket under it.
        std::optional<clock_type::time_point> busy_since;
        bool timed_out = false;
        std::string wire;                     ///< a dynamic step's request bytes
        const std::string* sending = nullptr; ///< the bytes being written (wire or a cached one)
        bool head = false;
        codec::http::response_reader reader{{.max_head_bytes = 64 * 1024,
                                             .max_body_bytes = body_limit,
                                             .max_capture_bytes = 16 << 20}};
        std::unique_ptr<char[]> rbuf = std::make_unique_for_overwrite<char[]>(read_bytes);
        bool leftover = false; ///< bytes after the response: the connection is not reused
        asio::steady_timer think;
        bool connected = false;
        const std::vector<step>* flow = nullptr;
        std::size_t at = 0;              ///< the step of the flow running
        clock_type::time_point intended; ///< when the current step was meant to start
        std::size_t phase = 0;
        bool looping = false;         ///< closed model: run the flow again until the phase ends
        std::uint64_t id = 0;         ///< ${__vu}
        std::uint64_t iterations = 0; ///< ${__iter} of the next iteration
        std::map<std::string, std::string> vars; ///< extracted this iteration, and builtins
        std::size_t phase_flow = 0; ///< index into flows_ / flow_stats_ (the phase's flow)
    };
    // VUs are owned by the loop (made_) and handed to handlers as plain pointers: a reference
    // count per asynchronous operation was the next cost. A VU has at most one operation in
    // flight, is reused (spare_) only from its own completion or while idle, and lives as long
    // as the loop: no handler runs after run() returns.
    using vu_ptr = vu*;

    vu_ptr make_vu() {
        if (!spare_.empty()) {
            auto* v = spare_.back();
            spare_.pop_back();
            return v;
        }
        made_.push_back(std::make_unique<vu>(ioc_));
        return made_.back().get();
    }

    /// A VU whose connection is closed and that no phase needs now: kept for reuse.
    void retire(vu_ptr v) {
        v->connected = false;
        v->looping = false;
        v->id = 0;
        v->iterations = 0;
        v->busy_since.reset();
        v->timed_out = false;
        spare_.push_back(v);
    }

    /// Once a second: any connect or request in flight for longer than its step's timeout
    /// (10 s unless the step says) is ended: its handler sees the socket closed and counts a
    /// "timeout". So a request times out within [timeout, timeout + 1 s).
    void sweep() {
        sweep_.expires_after(std::chrono::seconds(1));
        sweep_.async_wait([this](error_code ec) {
            if (ec) {
                return;
            }
            const auto now = clock_type::now();
            for (auto& v : made_) {
                if (v->busy_since && v->flow != nullptr &&
                    now - *v->busy_since >= (*v->flow)[v->at].timeout) {
                    v->timed_out = true;
                    v->busy_since.reset();
                    error_code ignored;
                    v->sock.close(ignored);
                }
            }
            sweep();
        });
    }

    /// The error kind of a failed operation.
    static const char* kind_of(const vu_ptr& v, error_code ec, const char* otherwise) {
        return v->timed_out || ec == asio::error::timed_out ? "timeout" : otherwise;
    }

    clock_type::time_point phase_start(std::size_t p) const {
        auto t = start_;
        for (std::size_t i = 0; i < p; ++i) {
            t += phases_[i].length;
        }
        return t;
    }

    void begin_phase(std::size_t p) {
        if (p >= phases_.size()) {
            finish();
            return;
        }
        phase_ = p;
        const auto& ph = phases_[p];
        phase_begin_ = phase_start(p);
        phase_end_ = phase_begin_ + ph.length;
        // This loop's share of the connection bound (at least one).
        max_open_ = std::max<std::size_t>(1, (ph.max_vus + slots_ - 1 - slot_) / slots_);
        if (ph.kind == executor::love_tappers || ph.kind == executor::hls_viewers ||
            ph.kind == executor::chat_clients) {
            const auto share = share_of(ph.vus, ph.ramp, phase_begin_, phase_end_, slot_, slots_);
            if (ph.kind == executor::love_tappers) {
                love_tappers_options o;
                o.host_header = host_header_;
                o.broadcast = ph.broadcast;
                o.token_secret = ph.token_secret;
                o.taps_per_second = ph.taps_per_second;
                o.share = share;
                tappers_.push_back(
                    std::make_unique<love_tappers>(ioc_, rec_, targets_, std::move(o)));
                tappers_.back()->start();
            } else if (ph.kind == executor::hls_viewers) {
                hls_viewers_options o;
                o.host_header = host_header_;
                o.playlist = ph.playlist;
                o.share = share;
                viewers_.push_back(
                    std::make_unique<hls_viewers>(ioc_, rec_, targets_, std::move(o)));
                viewers_.back()->start();
            } else {
                chat_clients_options o;
                o.host_header = host_header_;
                o.broadcast = ph.broadcast;
                o.token_secret = ph.token_secret;
                o.send_rate = ph.send_rate;
                o.senders = ph.senders;
                o.message_bytes = ph.message_bytes;
                o.share = share;
                // Everyone is in before the first message (the last join is due at the end of
                // the ramp; a second for it to complete); the last second is for delivery.
                o.send_from = phase_begin_ +
                              std::chrono::duration_cast<clock_type::duration>(ph.ramp) +
                              std::chrono::seconds(1);
                o.send_until = std::max(o.send_from, phase_end_ - std::chrono::seconds(1));
                chatters_.push_back(
                    std::make_unique<chat_clients>(ioc_, rec_, targets_, std::move(o)));
                chatters_.back()->start();
            }
            timer_.expires_at(phase_end_);
            timer_.async_wait([this, p](error_code) { begin_phase(p + 1); });
            return;
        }
        if (ph.kind == executor::constant_vus || ph.kind == executor::ramping_vus) {
            running_ = 0;
            excess_ = 0;
            adjust_vus(p);
            timer_.expires_at(phase_end_);
            timer_.async_wait([this, p](error_code) { begin_phase(p + 1); });
            return;
        }
        // Open model: this loop starts every slots_-th arrival, offset by its index, so the
        // loops together follow the rate exactly.
        next_arrival_ = phase_begin_;
        arrival_index_ = 0;
        skip_to_mine();
        schedule_arrivals();
    }

    /// Closed models: brings this loop's VUs of phase p to its share of the VUs the phase wants
    /// now — all of them for constant-vus; for ramping-vus, start_vus + (vus - start_vus) × the
    /// fraction of the phase elapsed, re-checked every 100 ms. A VU over the count stops at the
    /// end of its iteration (an iteration is never cut short).
    void adjust_vus(std::size_t p) {
        if (p != phase_ || stopping_) {
            return;
        }
        const auto& ph = phases_[p];
        const auto now = clock_type::now();
        double f = 1;
        if (ph.kind == executor::ramping_vus && ph.length.count() > 0) {
            f = std::clamp(std::chrono::duration<double>(now - phase_begin_).count() /
                               std::chrono::duration<double>(ph.length).count(),
                           0.0, 1.0);
        }
        const double from = static_cast<double>(ph.start_vus);
        const auto total =
            static_cast<std::size_t>(std::llround(from + (static_cast<double>(ph.vus) - from) * f));
        const std::size_t want = total / slots_ + (slot_ < total % slots_ ? 1 : 0);
        const std::size_t effective = running_ - excess_;
        if (effective < want) {
            std::size_t more = want - effective;
            const auto keep = std::min(excess_, more); // those about to stop go on instead
            excess_ -= keep;
            more -= keep;
            for (std::size_t i = 0; i < more; ++i) {
                auto* v = make_vu();
                ++open_;
                ++running_;
                count_open(1);
                v->looping = true;
                start_iteration(v, now, p);
            }
        } else {
            excess_ += effective - want;
        }
        if (ph.kind == executor::ramping_vus && now < phase_end_) {
            vus_timer_.expires_after(std::chrono::milliseconds(100));
            vus_timer_.async_wait([this, p](error_code ec) {
                if (!ec) {
                    adjust_vus(p);
                }
            });
        }
    }

    /// A looping VU of the current phase may go on (false: it is over the count, or the phase
    /// is over); its count is updated when it does not.
    bool keep_looping(const vu_ptr& v, clock_type::time_point now) {
        if (v->phase != phase_) {
            return false;
        }
        if (now < phase_end_ && excess_ == 0) {
            return true;
        }
        if (excess_ > 0 && now < phase_end_) {
            --excess_;
        }
        --running_;
        return false;
    }

    /// Advances next_arrival_ by one arrival of the whole run (all loops).
    void advance_arrival() {
        const auto& ph = phases_[phase_];
        const auto t = std::chrono::duration_cast<duration>(next_arrival_ - phase_begin_);
        // A rate that starts at 0 (a spike, a ramp from 0) would never get going: the first
        // step is taken at the rate a millisecond in.
        const double r = std::max(ph.rate_at(t), ph.rate_at(t + std::chrono::milliseconds(1)));
        const double gap_s = r > 0 ? 1.0 / r : 1.0;
        next_arrival_ +=
            std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(gap_s));
        ++arrival_index_;
    }

    void skip_to_mine() {
        while (arrival_index_ % slots_ != slot_) {
            advance_arrival();
        }
    }

    void schedule_arrivals() {
        const auto now = clock_type::now();
        // Every arrival due by now starts now (a late timer must not lose arrivals).
        while (next_arrival_ <= now && next_arrival_ < phase_end_) {
            launch(next_arrival_);
            for (std::size_t i = 0; i < slots_; ++i) {
                advance_arrival();
            }
        }
        if (next_arrival_ >= phase_end_) {
            const auto p = phase_;
            timer_.expires_at(phase_end_);
            timer_.async_wait([this, p](error_code) { begin_phase(p + 1); });
            return;
        }
        timer_.expires_at(next_arrival_);
        timer_.async_wait([this](error_code ec) {
            if (!ec) {
                schedule_arrivals();
            }
        });
    }

    void launch(clock_type::time_point intended) {
        vu_ptr v = nullptr;
        if (!idle_.empty()) {
            v = idle_.back();
            idle_.pop_back();
        } else if (open_ < max_open_) {
            v = make_vu();
            ++open_;
            count_open(1);
        } else {
            rec_.dropped(intended);
            return;
        }
        start_iteration(v, intended, phase_);
    }

    void start_iteration(const vu_ptr& v, clock_type::time_point intended, std::size_t p) {
        if (v->id == 0) {
            v->id = slot_ + 1 + slots_ * vus_made_++; // unique across loops, from 1
        }
        // The builtins only matter to steps with ${...} in them.
        if (flow_dynamic_[p]) {
            v->vars.clear();
            v->vars["__vu"] = fmt::format("{}", v->id);
            v->vars["__iter"] = fmt::format("{}", v->iterations);
        }
        ++v->iterations;
        v->phase = p;
        v->phase_flow = p;
        v->flow = flows_[p];
        v->at = 0;
        v->intended = intended;
        run_step(v);
    }

    void run_step(const vu_ptr& v) {
        if (!v->connected) {
            v->busy_since = clock_type::now();
            v->timed_out = false;
            error_code open_error;
            targets_.open(v->sock, v->id - 1, open_error);
            if (open_error) {
                fail(v, "connect");
                return;
            }
            v->sock.async_connect(targets_.of(v->id - 1), [this, v](error_code ec) {
                v->busy_since.reset();
                if (ec) {
                    fail(v, kind_of(v, ec, "connect"));
                    return;
                }
                v->connected = true;
                error_code ignored;
                v->sock.set_option(tcp::no_delay(true), ignored);
                run_step(v);
            });
            return;
        }
        const auto& s = (*v->flow)[v->at];
        v->head = s.method == "HEAD";
        if (s.dynamic) {
            // Values from earlier steps of this iteration: one that is missing fails the step
            // without sending it (the flow cannot go on).
            auto path = expand(s.path, v->vars);
            auto body = expand(s.body, v->vars);
            if (!path || !body) {
                give_up_step(v, "extract");
                return;
            }
            std::vector<std::pair<std::string, std::string>> headers;
            for (const auto& [name, value] : s.headers) {
                auto h = expand(value, v->vars);
                if (!h) {
                    give_up_step(v, "extract");
                    return;
                }
                headers.emplace_back(name, std::move(*h));
            }
            v->wire = serialize(s.method, *path, headers, *body);
            v->sending = &v->wire;
        } else {
            // A step without variables is the same bytes every time: serialized once.
            auto it = wire_cache_.find(&s);
            if (it == wire_cache_.end()) {
                it = wire_cache_.emplace(&s, serialize(s.method, s.path, s.headers, s.body)).first;
            }
            v->sending = &it->second;
        }
        v->busy_since = clock_type::now();
        asio::async_write(v->sock, asio::buffer(*v->sending),
                          [this, v](error_code ec, std::size_t) {
                              if (ec) {
                                  fail(v, kind_of(v, ec, "write"));
                                  return;
                              }
                              const auto& st = (*v->flow)[v->at];
                              v->reader.reset(v->head, !st.extract.empty());
                              v->leftover = false;
                              read_response(v);
                          });
    }

    /// Reads until the response is complete (codec/http/response_reader: the fields are looked
    /// at, not kept — a general parser's heap element per field was the largest cost here).
    void read_response(const vu_ptr& v) {
        // No deadline per read: busy_since, set before the write, covers the whole exchange
        // (sweep() ends it after the request timeout).
        v->sock.async_read_some(asio::buffer(v->rbuf.get(), read_bytes),
                                [this, v](error_code ec, std::size_t n) {
                                    if (ec == asio::error::eof) {
                                        v->reader.finish_at_eof();
                                        if (v->reader.done()) {
                                            on_response(v);
                                        } else {
                                            fail(v, "read");
                                        }
                                        return;
                                    }
                                    if (ec) {
                                        fail(v, kind_of(v, ec, "read"));
                                        return;
                                    }
                                    const auto used = v->reader.feed({v->rbuf.get(), n});
                                    if (v->reader.failed()) {
                                        fail(v, "protocol");
                                        return;
                                    }
                                    if (v->reader.done()) {
                                        v->leftover = used < n;
                                        on_response(v);
                                        return;
                                    }
                                    read_response(v);
                                });
    }

    /// The request's bytes (RFC 9112 §3, §6.2): request line, Host, the step's headers (any
    /// with CR or LF dropped: a scenario must not smuggle a second request), Content-Length.
    std::string serialize(const std::string& method, const std::string& target,
                          const std::vector<std::pair<std::string, std::string>>& headers,
                          const std::string& body) const {
        std::string out;
        out.reserve(64 + target.size() + host_header_.size() + body.size());
        out.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: ");
        out.append(host_header_).append("\r\n");
        for (const auto& [name, value] : headers) {
            if (name.find_first_of("\r\n:") != std::string::npos ||
                value.find_first_of("\r\n") != std::string::npos) {
                continue;
            }
            out.append(name).append(": ").append(value).append("\r\n");
        }
        if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
            out.append("Content-Length: ").append(fmt::format("{}", body.size())).append("\r\n");
        }
        out.append("\r\n").append(body);
        return out;
    }

    void on_response(const vu_ptr& v) {
        v->busy_since.reset();
        const auto now = clock_type::now();
        const auto& s = (*v->flow)[v->at];
        const int status = v->reader.status();
        const bool ok = s.expect_status == 0 ? status < 400 : status == s.expect_status;
        const bool extracted = !ok || s.extract.empty() || extract(s, v->reader.body(), v->vars);
        rec_.request(step_stats_of(v), v->intended, now, status,
                     !ok          ? "status"
                     : !extracted ? "extract"
                                  : "");
        const bool keep = v->reader.keep_alive() && !v->leftover;
        if (!keep) {
            close(v);
            v->connected = false;
            ++open_;
            count_open(1); // the same VU reconnects for its next step
        }
        if (ok && !extracted) {
            // Later steps need what was not there: this iteration ends, the VU goes on.
            ++stats_.iterations;
            end_iteration(v);
            return;
        }
        next_step(v, now);
    }

    /// Takes each of s.extract's JSON paths from `body` into `vars`; false if one is missing.
    static bool extract(const step& s, const std::string& body,
                        std::map<std::string, std::string>& vars) {
        const auto doc = nlohmann::json::parse(body, nullptr, false);
        if (doc.is_discarded()) {
            return false;
        }
        for (const auto& [name, path] : s.extract) {
            const auto* node = json_at(doc, path);
            if (node == nullptr || node->is_null()) {
                return false;
            }
            vars[name] = node->is_string() ? node->get<std::string>() : node->dump();
        }
        return true;
    }

    /// "$", "$.a.b", "$.items[0].id": the node, or null.
    static const nlohmann::json* json_at(const nlohmann::json& doc, std::string_view path) {
        if (!path.starts_with('$')) {
            return nullptr;
        }
        const nlohmann::json* at = &doc;
        std::size_t i = 1;
        while (i < path.size()) {
            if (path[i] == '.') {
                const auto end = std::min(path.find_first_of(".[", i + 1), path.size());
                const std::string key(path.substr(i + 1, end - i - 1));
                if (!at->is_object() || !at->contains(key)) {
                    return nullptr;
                }
                at = &(*at)[key];
                i = end;
            } else if (path[i] == '[') {
                const auto close = path.find(']', i);
                if (close == std::string_view::npos) {
                    return nullptr;
                }
                std::size_t n = 0;
                const auto digits = path.substr(i + 1, close - i - 1);
                const auto [p, ec] =
                    std::from_chars(digits.data(), digits.data() + digits.size(), n);
                if (ec != std::errc{} || p != digits.data() + digits.size() || !at->is_array() ||
                    n >= at->size()) {
                    return nullptr;
                }
                at = &(*at)[n];
                i = close + 1;
            } else {
                return nullptr;
            }
        }
        return at;
    }

    /// The current step cannot be sent (a value it needs is missing): counted as failed, and
    /// the iteration ends; the connection stays.
    void give_up_step(const vu_ptr& v, const char* kind) {
        const auto now = clock_type::now();
        rec_.request(step_stats_of(v), v->intended, now, 0, kind);
        ++stats_.iterations;
        end_iteration(v);
    }

    void next_step(const vu_ptr& v, clock_type::time_point now) {
        const auto& s = (*v->flow)[v->at];
        ++v->at;
        if (v->at >= v->flow->size()) {
            ++stats_.iterations;
            end_iteration(v);
            return;
        }
        if (s.think.count() > 0) {
            v->think.expires_after(s.think);
            v->think.async_wait([this, v](error_code) {
                v->intended = clock_type::now();
                run_step(v);
            });
            return;
        }
        v->intended = now;
        run_step(v);
    }

    void end_iteration(const vu_ptr& v) {
        const auto now = clock_type::now();
        if (v->looping) {
            if (keep_looping(v, now)) {
                start_iteration(v, now, v->phase);
                return;
            }
            close(v);
            retire(v);
            maybe_done();
            return;
        }
        if (stopping_) {
            close(v);
            retire(v);
            maybe_done();
            return;
        }
        idle_.push_back(v);
        maybe_done();
    }

    /// The statistics of the VU's current step (looked up once per step and loop).
    step_stats& step_stats_of(const vu_ptr& v) {
        auto*& slot = flow_stats_[v->phase_flow][v->at];
        if (slot == nullptr) {
            slot = &stats_.steps[(*v->flow)[v->at].name];
        }
        return *slot;
    }

    void fail(const vu_ptr& v, const char* kind) {
        v->busy_since.reset();
        rec_.request(step_stats_of(v), v->intended, clock_type::now(), 0, kind);
        close(v);
        v->connected = false;
        // The iteration is over (its next steps depended on this one); the VU slot is free.
        ++stats_.iterations;
        if (v->looping && keep_looping(v, clock_type::now())) {
            ++open_;
            count_open(1);
            start_iteration(v, clock_type::now(), v->phase);
            return;
        }
        retire(v);
        maybe_done();
    }

    void close(const vu_ptr& v) {
        if (v->connected || v->sock.is_open()) {
            error_code ignored;
            v->sock.shutdown(tcp::socket::shutdown_both, ignored);
            v->sock.close(ignored);
        }
        if (open_ > 0) {
            --open_;
            count_open(-1);
        }
    }

    void count_open(std::int64_t d) { rec_.connections(d); }

    /// After the last phase: in-flight iterations finish (at most drain_limit), then stop.
    void finish() {
        stopping_ = true;
        for (auto* v : idle_) {
            close(v);
            retire(v);
        }
        idle_.clear();
        timer_.expires_after(drain_limit);
        timer_.async_wait([this](error_code ec) {
            if (!ec) {
                ioc_.stop(); // what is still in flight after the limit is abandoned
            }
        });
        maybe_done();
    }

    void maybe_done() {
        if (!stopping_) {
            return;
        }
        for (auto* v : idle_) {
            close(v);
            retire(v);
        }
        idle_.clear();
        if (open_ == 0) {
            timer_.cancel();
            sweep_.cancel();
            vus_timer_.cancel();
        }
    }

    const scenario& sc_;
    const std::vector<phase> phases_;
    const std::size_t slot_;
    const std::size_t slots_;
    const clock_type::time_point start_;     ///< this track's start
    const clock_type::time_point run_start_; ///< the run's (seconds in the timeline count from it)
    const endpoints& targets_;               ///< outlives the loop
    live_counters* live_;
    const std::string& host_header_ = sc_.target_authority;
    asio::io_context ioc_{1};
    asio::steady_timer timer_;
    run_stats stats_;
    recorder rec_{stats_, run_start_, live_};
    std::vector<std::unique_ptr<hls_viewers>> viewers_;
    std::unordered_map<const step*, std::string> wire_cache_;
    std::vector<std::unique_ptr<love_tappers>> tappers_;
    std::vector<std::unique_ptr<chat_clients>> chatters_;
    std::vector<std::unique_ptr<vu>> made_; ///< every VU of this loop (declared after ioc_)
    std::vector<vu_ptr> spare_;             ///< made, closed, free for reuse
    std::vector<vu_ptr> idle_;              ///< connected, waiting for an arrival
    asio::steady_timer sweep_;
    asio::steady_timer vus_timer_{ioc_};          ///< ramping-vus: the 100 ms re-count
    std::size_t running_ = 0;                     ///< closed models: this phase's looping VUs
    std::size_t excess_ = 0;                      ///< of those, how many stop after their iteration
    std::vector<const std::vector<step>*> flows_; ///< per phase: its flow
    std::vector<bool> flow_dynamic_;              ///< per phase: a step of it has ${...}
    std::vector<std::vector<step_stats*>> flow_stats_; ///< per phase and step
    std::size_t open_ = 0;
    std::size_t max_open_ = 1;
    std::size_t phase_ = 0;
    clock_type::time_point phase_begin_;
    clock_type::time_point phase_end_;
    clock_type::time_point next_arrival_;
    std::uint64_t arrival_index_ = 0;
    std::uint64_t vus_made_ = 0;
    bool stopping_ = false;
};

} // namespace

run_stats run_scenario(const scenario& sc, const run_options& options) {
    // Resolved once, before the clock starts: the run measures the server, not the resolver.
    asio::io_context resolve_ctx;
    tcp::resolver resolver(resolve_ctx);
    run_stats out;
    std::vector<tcp::endpoint> addresses;
    const auto resolve = [&](const std::string& host, std::uint16_t port) {
        error_code ec;
        auto results = resolver.resolve(host, fmt::format("{}", port), ec);
        if (ec || results.empty()) {
            out.steps["resolve"].errors["resolve"] = 1;
            out.steps["resolve"].failed = 1;
            out.steps["resolve"].requests = 1;
            return false;
        }
        addresses.push_back(results.begin()->endpoint());
        return true;
    };
    if (sc.connect_to.empty()) {
        if (!resolve(sc.target_host, sc.target_port)) {
            return out;
        }
    }
    for (const auto& hp : sc.connect_to) {
        if (!resolve(hp.host, hp.port)) {
            return out;
        }
    }
    const endpoints target(std::move(addresses), sc.local_ips);
    const std::size_t n = std::max<std::size_t>(1, options.threads);
    const auto start = options.start.value_or(clock_type::now() + std::chrono::milliseconds(20));
    // Tracks: a phase with `start` begins a track that runs beside the others from that offset;
    // a phase without follows the one before it in its track. Each track has its own loops.
    std::vector<std::pair<duration, std::vector<phase>>> tracks;
    for (const auto& ph : sc.phases) {
        if (tracks.empty() || ph.start) {
            tracks.emplace_back(ph.start.value_or(duration{0}), std::vector<phase>{});
        }
        tracks.back().second.push_back(ph);
    }
    const std::size_t shares = std::max<std::size_t>(1, options.share_count);
    std::vector<std::unique_ptr<loop_runner>> workers;
    for (const auto& [offset, phases] : tracks) {
        for (std::size_t i = 0; i < n; ++i) {
            workers.push_back(std::make_unique<loop_runner>(
                sc, phases, options.share_index * n + i, shares * n,
                start + std::chrono::duration_cast<clock_type::duration>(offset), start, target,
                options.live));
        }
    }
    std::vector<std::thread> threads;
    std::atomic<std::size_t> running{workers.size()};
    for (auto& w : workers) {
        threads.emplace_back([&w, &running] {
            w->run();
            running.fetch_sub(1);
        });
    }
    auto tick = start + std::chrono::seconds(1);
    while (running.load() > 0) {
        std::this_thread::sleep_until(
            std::min(tick, clock_type::now() + std::chrono::milliseconds(50)));
        if (clock_type::now() >= tick) {
            if (options.on_second) {
                options.on_second(std::chrono::duration<double>(clock_type::now() - start).count());
            }
            tick += std::chrono::seconds(1);
        }
    }
    for (auto& t : threads) {
        t.join();
    }
    for (auto& w : workers) {
        out.merge(w->stats());
    }
    return out;
}

} // namespace livehouse::stress
