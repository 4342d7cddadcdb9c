// Redis / Redis Cluster client: routing, redirects, reconnection, sharded pub/sub (client.hpp).
#include "state/redis/client.hpp"

#include "state/redis/slots.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <charconv>
#include <fmt/format.h>
#include <future>
#include <map>
#include <mutex>
#include <spdlog/spdlog.h>
#include <thread>
#include <unordered_map>

namespace livehouse::state::redis {

namespace asio = boost::asio;

namespace {

struct address {
    std::string host;
    std::uint16_t port = 0;
};

std::optional<address> parse_address(std::string_view s) {
    const auto colon = s.rfind(':');
    if (colon == std::string_view::npos || colon == 0) {
        return std::nullopt;
    }
    unsigned port = 0;
    const auto digits = s.substr(colon + 1);
    auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
    if (ec != std::errc() || p != digits.data() + digits.size() || port == 0 || port > 65535) {
        return std::nullopt;
    }
    return address{std::string(s.substr(0, colon)), static_cast<std::uint16_t>(port)};
}

std::string address_string(const address& a) {
    return fmt::format("{}:{}", a.host, a.port);
}

} // namespace

core::result<client_options> parse_redis_urls(std::string_view urls) {
    client_options o;
    std::string_view rest = urls;
    if (rest.starts_with("redis://")) {
        rest.remove_prefix(8);
    }
    if (const auto at = rest.rfind('@'); at != std::string_view::npos) {
        auto auth = rest.substr(0, at);
        rest.remove_prefix(at + 1);
        if (const auto colon = auth.find(':'); colon != std::string_view::npos) {
            auth.remove_prefix(colon + 1); // "user:password": ACL users are not used
        }
        o.connection.password = std::string(auth);
    }
    while (!rest.empty()) {
        const auto comma = rest.find(',');
        auto one = rest.substr(0, comma);
        rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
        if (one.starts_with("redis://")) {
            one.remove_prefix(8);
        }
        if (const auto slash = one.find('/'); slash != std::string_view::npos) {
            one = one.substr(0, slash);
        }
        auto a = parse_address(one);
        if (!a) {
            return core::make_error(
                fmt::format("redis: \"{}\" is not host:port (in --redis)", one));
        }
        o.seeds.push_back(address_string(*a));
    }
    if (o.seeds.empty()) {
        return core::make_error("redis: no host:port given (--redis)");
    }
    return o;
}

// A connection that comes back: its state, the calls waiting while it connects, the backoff.
struct link {
    enum class state : std::uint8_t { down, connecting, up };
    std::shared_ptr<connection> conn;
    state st = state::down;
    std::chrono::milliseconds backoff{0};
    std::unique_ptr<asio::steady_timer> retry;
    std::vector<std::pair<command, std::function<void(reply_result)>>> waiting;
};

struct node {
    address addr;
    std::string name; // "host:port"
    link cmd;
    link sub;
    bool used_for_pubsub = false;
};

struct channel_state {
    node* where = nullptr;
    bool confirmed = false; ///< the server said "ssubscribe" on the current connection
    std::map<std::uint64_t, std::shared_ptr<client::message_handler>> handlers;
    std::vector<std::function<void(core::result<void>)>> waiting_ready;
};

struct client::impl : std::enable_shared_from_this<client::impl> {
    explicit impl(client_options o)
        : options(std::move(o)), strand_(asio::make_strand(io)), work(asio::make_work_guard(io)) {}

    client_options options;
    asio::io_context io;
    strand strand_;
    asio::executor_work_guard<asio::io_context::executor_type> work;
    std::thread thread;

    bool closed = false;
    bool cluster = false;
    /// Links (command and subscriber, every node) up now: read from any thread (the metric).
    std::atomic<std::size_t> links_up{0};
    std::unordered_map<std::string, std::unique_ptr<node>> nodes;
    node* single = nullptr;
    std::array<node*, slot_count> slots{};
    bool refreshing = false;
    std::unordered_map<std::string, channel_state> channels;
    std::unordered_map<std::uint64_t, std::string> subscription_channel;

    struct submission {
        command cmd;
        std::string key;
        std::function<void(reply_result)> done;
    };
    std::mutex submit_mutex;
    std::vector<submission> submitted; ///< guarded by submit_mutex
    bool drain_scheduled = false;      ///< guarded by submit_mutex
    std::vector<submission> draining;  ///< the client thread's; capacity reused

    void drain_submitted() {
        {
            std::lock_guard lock(submit_mutex);
            draining.swap(submitted);
            drain_scheduled = false;
        }
        for (auto& s : draining) {
            send(std::move(s.cmd), s.key, std::move(s.done));
        }
        draining.clear();
    }

    node* get_node(const address& a) {
        auto name = address_string(a);
        auto& n = nodes[name];
        if (!n) {
            n = std::make_unique<node>();
            n->addr = a;
            n->name = std::move(name);
        }
        return n.get();
    }

    // --- links -----------------------------------------------------------------------------

    void bring_up(node* n, bool subscriber) {
        link& l = subscriber ? n->sub : n->cmd;
        if (closed || l.st != link::state::down) {
            return;
        }
        l.st = link::state::connecting;
        auto self = shared_from_this();
        connection::push_handler push;
        if (subscriber) {
            push = [self, n](reply r) { self->on_push(n, std::move(r)); };
        }
        l.conn = connection::create(
            strand_, n->addr.host, n->addr.port, options.connection, std::move(push),
            [self, n, subscriber](const core::error& e) { self->on_link_lost(n, subscriber, e); });
        l.conn->start([self, n, subscriber](core::result<void> r) {
            link& lk = subscriber ? n->sub : n->cmd;
            if (self->closed) {
                return;
            }
            if (!r) {
                spdlog::warn("state: {}", r.err().message);
                lk.st = link::state::down;
                lk.conn.reset();
                auto waiting = std::move(lk.waiting);
                lk.waiting.clear();
                for (auto& [c, done] : waiting) {
                    done(r.err());
                }
                if (subscriber) {
                    self->fail_ready(n, r.err());
                }
                self->schedule_retry(n, subscriber);
                return;
            }
            if (lk.backoff.count() != 0) {
                spdlog::info("state: redis {} reconnected", n->name);
            }
            lk.st = link::state::up;
            ++self->links_up;
            lk.backoff = std::chrono::milliseconds{0};
            auto waiting = std::move(lk.waiting);
            lk.waiting.clear();
            for (auto& [c, done] : waiting) {
                lk.conn->send(c, std::move(done));
            }
            if (subscriber) {
                self->resubscribe(n);
            }
        });
    }

    void on_link_lost(node* n, bool subscriber, const core::error& e) {
        if (closed) {
            return;
        }
        spdlog::warn("state: {}", e.message);
        link& l = subscriber ? n->sub : n->cmd;
        if (l.st == link::state::up) {
            --links_up;
        }
        l.st = link::state::down;
        l.conn.reset();
        if (subscriber) {
            for (auto& [name, ch] : channels) {
                if (ch.where == n) {
                    ch.confirmed = false;
                }
            }
        }
        schedule_retry(n, subscriber);
        if (cluster) {
            refresh_slots(); // a failover may have moved its slots elsewhere
        }
    }

    void schedule_retry(node* n, bool subscriber) {
        link& l = subscriber ? n->sub : n->cmd;
        if (closed) {
            return;
        }
        if (subscriber && !has_channels(n)) {
            return; // nothing to restore on it
        }
        if (n != single && std::find(slots.begin(), slots.end(), n) == slots.end()) {
            return; // not (or no longer) serving anything: a failed seed, a node that left
        }
        l.backoff = l.backoff.count() == 0 ? options.backoff_min
                                           : std::min(l.backoff * 2, options.backoff_max);
        if (!l.retry) {
            l.retry = std::make_unique<asio::steady_timer>(strand_);
        }
        l.retry->expires_after(l.backoff);
        l.retry->async_wait(
            [self = shared_from_this(), n, subscriber](boost::system::error_code ec) {
                if (!ec && !self->closed) {
                    self->bring_up(n, subscriber);
                }
            });
    }

    // --- commands --------------------------------------------------------------------------

    void dispatch(node* n, std::shared_ptr<command> cmd, std::function<void(reply_result)> done,
                  int redirects, bool asking) {
        link& l = n->cmd;
        auto self = shared_from_this();
        auto on_reply = [self, cmd, done = std::move(done), redirects](reply_result r) mutable {
            if (r && r->is_error() && self->cluster) {
                if (self->redirect(r->str, cmd, done, redirects)) {
                    return;
                }
            }
            done(std::move(r));
        };
        switch (l.st) {
        case link::state::up:
            if (asking) {
                l.conn->send({"ASKING"}, [](reply_result) {});
            }
            l.conn->send(*cmd, std::move(on_reply));
            return;
        case link::state::connecting:
            if (asking) {
                l.waiting.emplace_back(command{"ASKING"}, [](reply_result) {});
            }
            l.waiting.emplace_back(*cmd, std::move(on_reply));
            return;
        case link::state::down:
            if (!l.retry || l.backoff.count() == 0) {
                // Never connected (a node learnt from the slot map or a redirect): connect now.
                if (asking) {
                    l.waiting.emplace_back(command{"ASKING"}, [](reply_result) {});
                }
                l.waiting.emplace_back(*cmd, std::move(on_reply));
                bring_up(n, false);
                return;
            }
            on_reply(
                core::make_error(fmt::format("redis {}: not connected (reconnecting)", n->name)));
            return;
        }
    }

    // "-MOVED 3999 127.0.0.1:6381" / "-ASK 3999 127.0.0.1:6381" (cluster spec, "Redirection
    // and resharding"). Returns true when the command was sent again.
    bool redirect(const std::string& err, const std::shared_ptr<command>& cmd,
                  std::function<void(reply_result)>& done, int redirects) {
        const bool moved = err.starts_with("MOVED ");
        const bool ask = err.starts_with("ASK ");
        if (!moved && !ask) {
            return false;
        }
        if (redirects >= options.max_redirects) {
            done(core::make_error(fmt::format("redis: too many redirects ({})", err)));
            return true;
        }
        const auto sp1 = err.find(' ');
        const auto sp2 = err.find(' ', sp1 + 1);
        if (sp2 == std::string::npos) {
            return false;
        }
        unsigned slot = 0;
        auto [p, ec] = std::from_chars(err.data() + sp1 + 1, err.data() + sp2, slot);
        auto a = parse_address(std::string_view(err).substr(sp2 + 1));
        if (ec != std::errc() || slot >= slot_count || !a) {
            return false;
        }
        node* target = get_node(*a);
        if (moved) {
            slots[slot] = target;
            refresh_slots();
        }
        dispatch(target, cmd, std::move(done), redirects + 1, ask);
        return true;
    }

    void send(command c, const std::string& key, std::function<void(reply_result)> done) {
        if (closed) {
            done(core::make_error("redis: client closed"));
            return;
        }
        node* n = cluster ? slots[key_slot(key)] : single;
        if (n == nullptr) {
            refresh_slots();
            done(core::make_error(fmt::format(
                "redis: no node serves slot {} (cluster map refreshing)", key_slot(key))));
            return;
        }
        if (!cluster && n->cmd.st == link::state::up) {
            n->cmd.conn->send(c, std::move(done)); // the common case, without a shared copy
            return;
        }
        dispatch(n, std::make_shared<command>(std::move(c)), std::move(done), 0, false);
    }

    // --- cluster map -----------------------------------------------------------------------

    bool apply_slots(const reply& r) {
        // CLUSTER SLOTS: [[start, end, [ip, port, id], replicas...], ...]
        if (!r.is_array()) {
            return false;
        }
        std::array<node*, slot_count> fresh{};
        for (const auto& range : r.elements) {
            if (!range.is_array() || range.elements.size() < 3 || !range.elements[2].is_array() ||
                range.elements[2].elements.size() < 2) {
                return false;
            }
            const auto& master = range.elements[2].elements;
            const auto lo = range.elements[0].integer;
            const auto hi = range.elements[1].integer;
            if (lo < 0 || hi >= slot_count || lo > hi || !master[0].is_string() ||
                master[1].type != reply::kind::integer || master[1].integer <= 0 ||
                master[1].integer > 65535) {
                return false;
            }
            node* n = get_node({master[0].str, static_cast<std::uint16_t>(master[1].integer)});
            for (auto s = lo; s <= hi; ++s) {
                fresh[static_cast<std::size_t>(s)] = n;
            }
        }
        slots = fresh;
        return true;
    }

    void refresh_slots() {
        if (!cluster || refreshing || closed) {
            return;
        }
        node* from = nullptr;
        for (auto& [name, n] : nodes) {
            if (n->cmd.st == link::state::up) {
                from = n.get();
                break;
            }
        }
        if (from == nullptr) {
            return; // a reconnect will trigger the next try
        }
        refreshing = true;
        from->cmd.conn->send({"CLUSTER", "SLOTS"}, [self = shared_from_this()](reply_result r) {
            self->refreshing = false;
            if (r && !r->is_error() && self->apply_slots(*r)) {
                self->reroute_channels();
            }
        });
    }

    // --- pub/sub ---------------------------------------------------------------------------

    node* channel_node(const std::string& channel) {
        return cluster ? slots[key_slot(channel)] : single;
    }

    bool has_channels(node* n) const {
        for (const auto& [name, ch] : channels) {
            if (ch.where == n) {
                return true;
            }
        }
        return false;
    }

    void fail_ready(node* n, const core::error& e) {
        for (auto& [name, ch] : channels) {
            if (ch.where == n) {
                auto waiting = std::move(ch.waiting_ready);
                ch.waiting_ready.clear();
                for (auto& r : waiting) {
                    r(e.wrap(fmt::format("subscribe {}", name)));
                }
            }
        }
    }

    void ssubscribe(node* n, const std::string& channel) {
        if (n->sub.st == link::state::up) {
            n->sub.conn->send_push({"SSUBSCRIBE", channel});
        } else {
            bring_up(n, true); // resubscribe() sends it once connected
        }
    }

    void resubscribe(node* n) {
        for (auto& [name, ch] : channels) {
            if (ch.where == n) {
                n->sub.conn->send_push({"SSUBSCRIBE", name});
            }
        }
    }

    void reroute_channels() {
        for (auto& [name, ch] : channels) {
            node* owner = channel_node(name);
            if (owner == nullptr || owner == ch.where) {
                continue;
            }
            if (ch.where != nullptr && ch.where->sub.st == link::state::up) {
                ch.where->sub.conn->send_push({"SUNSUBSCRIBE", name});
            }
            ch.where = owner;
            ch.confirmed = false;
            ssubscribe(owner, name);
        }
    }

    void on_push(node* n, reply r) {
        // RESP2 pushes in subscriber mode: ["smessage", channel, payload],
        // ["ssubscribe", channel, count], ["sunsubscribe", channel, count].
        if (!r.is_array() || r.elements.size() < 3 || !r.elements[0].is_string() ||
            !r.elements[1].is_string()) {
            if (r.is_error()) {
                spdlog::warn("state: redis {} subscriber: {}", n->name, r.str);
            }
            return;
        }
        const auto& kind = r.elements[0].str;
        const auto& channel = r.elements[1].str;
        auto it = channels.find(channel);
        if (kind == "smessage" || kind == "message") {
            if (it == channels.end()) {
                return;
            }
            auto payload = core::make_shared_bytes(std::move(r.elements[2].str));
            std::vector<std::shared_ptr<message_handler>> handlers;
            handlers.reserve(it->second.handlers.size());
            for (auto& [id, h] : it->second.handlers) {
                handlers.push_back(h);
            }
            for (auto& h : handlers) {
                (*h)(channel, payload);
            }
        } else if (kind == "ssubscribe") {
            if (it == channels.end() || it->second.where != n) {
                return;
            }
            it->second.confirmed = true;
            auto waiting = std::move(it->second.waiting_ready);
            it->second.waiting_ready.clear();
            for (auto& ready : waiting) {
                ready({});
            }
        } else if (kind == "sunsubscribe") {
            // Sent by the server when the channel's slot moved away: follow it.
            if (it != channels.end() && it->second.where == n && cluster) {
                it->second.confirmed = false;
                it->second.where = nullptr;
                refresh_slots();
                schedule_reroute();
            }
        }
    }

    void schedule_reroute() {
        auto t = std::make_shared<asio::steady_timer>(strand_, std::chrono::milliseconds(100));
        t->async_wait([self = shared_from_this(), t](boost::system::error_code) {
            for (auto& [name, ch] : self->channels) {
                if (ch.where == nullptr) {
                    if (node* owner = self->channel_node(name)) {
                        ch.where = owner;
                        self->ssubscribe(owner, name);
                    }
                }
            }
        });
    }

    void subscribe(std::uint64_t id, std::string channel, std::shared_ptr<message_handler> h,
                   std::function<void(core::result<void>)> ready) {
        if (closed) {
            ready(core::make_error("redis: client closed"));
            return;
        }
        subscription_channel[id] = channel;
        auto [it, fresh] = channels.try_emplace(channel);
        auto& ch = it->second;
        ch.handlers.emplace(id, std::move(h));
        if (!fresh) {
            if (ch.confirmed) {
                ready({});
            } else {
                ch.waiting_ready.push_back(std::move(ready));
            }
            return;
        }
        ch.where = channel_node(channel);
        ch.waiting_ready.push_back(std::move(ready));
        if (ch.where == nullptr) {
            refresh_slots();
            schedule_reroute();
            return;
        }
        ssubscribe(ch.where, channel);
    }

    void unsubscribe(std::uint64_t id) {
        auto s = subscription_channel.find(id);
        if (s == subscription_channel.end()) {
            return;
        }
        auto it = channels.find(s->second);
        subscription_channel.erase(s);
        if (it == channels.end()) {
            return;
        }
        it->second.handlers.erase(id);
        if (it->second.handlers.empty()) {
            node* n = it->second.where;
            if (n != nullptr && n->sub.st == link::state::up) {
                n->sub.conn->send_push({"SUNSUBSCRIBE", it->first});
            }
            channels.erase(it);
        }
    }

    // --- start and stop --------------------------------------------------------------------

    void start(std::size_t seed, std::function<void(core::result<void>)> done,
               std::string last_error = {}) {
        if (seed >= options.seeds.size()) {
            done(core::make_error(
                fmt::format("redis: no seed node could be reached (last: {})", last_error)));
            return;
        }
        auto a = parse_address(options.seeds[seed]);
        if (!a) {
            done(core::make_error(fmt::format("redis: bad seed \"{}\"", options.seeds[seed])));
            return;
        }
        node* n = get_node(*a);
        auto self = shared_from_this();
        n->cmd.waiting.emplace_back(
            command{"CLUSTER", "SLOTS"}, [self, n, seed, done](reply_result r) {
                if (!r) {
                    self->start(seed + 1, done, r.err().message);
                    return;
                }
                if (r->is_error() && r->str.find("cluster support disabled") != std::string::npos) {
                    self->single = n;
                    done({});
                    return;
                }
                if (r->is_error()) {
                    done(core::make_error(fmt::format("redis {}: {}", n->name, r->str)));
                    return;
                }
                self->cluster = true;
                if (!self->apply_slots(*r)) {
                    done(core::make_error(
                        fmt::format("redis {}: unexpected CLUSTER SLOTS reply", n->name)));
                    return;
                }
                done({});
            });
        bring_up(n, false);
    }

    void shutdown() {
        closed = true;
        const auto e = core::make_error("redis: client closed");
        {
            std::lock_guard lock(submit_mutex);
            draining.swap(submitted);
        }
        for (auto& sub : draining) {
            sub.done(e);
        }
        draining.clear();
        for (auto& [name, n] : nodes) {
            for (link* l : {&n->cmd, &n->sub}) {
                if (l->retry) {
                    l->retry->cancel();
                }
                auto waiting = std::move(l->waiting);
                l->waiting.clear();
                for (auto& [c, done] : waiting) {
                    done(e);
                }
                if (l->conn) {
                    l->conn->close(e);
                }
            }
        }
        for (auto& [name, ch] : channels) {
            for (auto& r : ch.waiting_ready) {
                r(e);
            }
        }
        channels.clear();
    }
};

client::client(std::shared_ptr<impl> i) : impl_(std::move(i)) {}

core::result<std::shared_ptr<client>> client::connect(client_options options) {
    if (options.seeds.empty()) {
        return core::make_error("redis: no seed nodes");
    }
    auto i = std::make_shared<impl>(std::move(options));
    i->thread = std::thread([io = &i->io] { io->run(); });
    std::shared_ptr<client> c(new client(i));
    auto p = std::make_shared<std::promise<core::result<void>>>();
    auto f = p->get_future();
    asio::post(i->strand_,
               [i, p] { i->start(0, [p](core::result<void> r) { p->set_value(std::move(r)); }); });
    auto r = f.get(); // bounded: every seed has a connect and a reply timeout
    if (!r) {
        return r.err();
    }
    return c;
}

client::~client() {
    auto p = std::make_shared<std::promise<void>>();
    auto f = p->get_future();
    asio::post(impl_->strand_, [i = impl_, p] {
        i->shutdown();
        p->set_value();
    });
    f.wait();
    // Every socket is closed and every timer cancelled: run() returns once their aborted
    // handlers have run and dropped what they held.
    impl_->work.reset();
    impl_->thread.join();
}

void client::send(command cmd, std::string key, std::function<void(reply_result)> done) {
    // Calls from every thread meet in one queue; the first call into an empty queue posts one
    // drain to the client's thread, which takes everything queued by then. Under load that is
    // one post (and one wake-up) per batch instead of one per call.
    bool schedule = false;
    {
        std::lock_guard lock(impl_->submit_mutex);
        impl_->submitted.push_back({std::move(cmd), std::move(key), std::move(done)});
        schedule = !std::exchange(impl_->drain_scheduled, true);
    }
    if (schedule) {
        asio::post(impl_->strand_, [i = impl_] { i->drain_submitted(); });
    }
}

std::uint64_t client::subscribe(std::string channel, message_handler h,
                                std::function<void(core::result<void>)> ready) {
    static std::atomic<std::uint64_t> ids{1};
    const auto id = ids.fetch_add(1);
    asio::post(impl_->strand_, [i = impl_, id, channel = std::move(channel),
                                h = std::make_shared<message_handler>(std::move(h)),
                                ready = std::move(ready)]() mutable {
        i->subscribe(id, std::move(channel), std::move(h), std::move(ready));
    });
    return id;
}

void client::unsubscribe(std::uint64_t id) {
    asio::post(impl_->strand_, [i = impl_, id] { i->unsubscribe(id); });
}

bool client::is_cluster() const {
    return impl_->cluster; // set before connect() returns, never changed after
}

std::size_t client::open_connections() const {
    return impl_->links_up.load();
}

} // namespace livehouse::state::redis
