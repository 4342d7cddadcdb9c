// Scenario files (see scenario.hpp).
#include "stress/scenario.hpp"

#include "codec/http/field_value.hpp"
#include "codec/http/url.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fmt/format.h>
#include <set>
#include <toml++/toml.h>

namespace livehouse::stress {

namespace {

constexpr std::size_t max_phases = 64;
constexpr std::size_t max_steps = 64;
constexpr std::size_t max_vars = 256;
constexpr std::size_t max_connect_to = 256;
constexpr std::size_t max_local_ips = 4096;
constexpr double max_rate = 10'000'000;
constexpr std::size_t max_vus_limit = 1'000'000;

/// "a, b-c, ...": addresses, or IPv4 ranges first-last (both included), at most
/// max_local_ips in all.
core::result<std::vector<boost::asio::ip::address>> parse_local_ips(std::string_view text) {
    std::vector<boost::asio::ip::address> out;
    for (const auto item : codec::http::list_elements(text)) {
        const auto dash = item.find('-');
        boost::system::error_code ec;
        const auto first = boost::asio::ip::make_address(std::string(item.substr(0, dash)), ec);
        if (ec) {
            return core::make_error(fmt::format("\"{}\": not an IP address", item));
        }
        auto last = first;
        if (dash != std::string_view::npos) {
            last = boost::asio::ip::make_address(std::string(item.substr(dash + 1)), ec);
            if (ec || !first.is_v4() || !last.is_v4() ||
                last.to_v4().to_uint() < first.to_v4().to_uint()) {
                return core::make_error(
                    fmt::format("\"{}\": a range is first-last, IPv4, first <= last", item));
            }
        }
        // Counted before expanding: 0.0.0.0-255.255.255.255 is refused, not built.
        const std::uint64_t count =
            first == last ? 1 : std::uint64_t{last.to_v4().to_uint()} - first.to_v4().to_uint() + 1;
        if (out.size() + count > max_local_ips) {
            return core::make_error(fmt::format("more than {} addresses", max_local_ips));
        }
        if (first == last) {
            out.push_back(first);
            continue;
        }
        for (auto x = first.to_v4().to_uint(); x != last.to_v4().to_uint(); ++x) {
            out.emplace_back(boost::asio::ip::address_v4(x));
        }
        out.push_back(last);
    }
    return out;
}

/// Replaces every ${name} with vars[name]; an unknown name is an error.
core::result<std::string> substitute(std::string_view in,
                                     const std::map<std::string, std::string>& vars,
                                     std::string_view where) {
    std::string out;
    std::size_t i = 0;
    while (i < in.size()) {
        const auto open = in.find("${", i);
        if (open == std::string_view::npos) {
            out.append(in.substr(i));
            break;
        }
        out.append(in.substr(i, open - i));
        const auto close = in.find('}', open + 2);
        if (close == std::string_view::npos) {
            return core::make_error(fmt::format("{}: unclosed ${{ in \"{}\"", where, in));
        }
        const std::string name(in.substr(open + 2, close - open - 2));
        const auto it = vars.find(name);
        if (it == vars.end()) {
            return core::make_error(fmt::format("{}: unknown variable ${{{}}}", where, name));
        }
        out.append(it->second);
        i = close + 1;
    }
    return out;
}

/// A node's text: strings substituted, numbers and booleans printed.
core::result<std::string> text_of(const toml::node& n,
                                  const std::map<std::string, std::string>& vars,
                                  std::string_view where) {
    if (const auto* s = n.as_string()) {
        return substitute(s->get(), vars, where);
    }
    if (const auto* i = n.as_integer()) {
        return fmt::format("{}", i->get());
    }
    if (const auto* f = n.as_floating_point()) {
        return fmt::format("{}", f->get());
    }
    if (const auto* b = n.as_boolean()) {
        return std::string(b->get() ? "true" : "false");
    }
    return core::make_error(fmt::format("{}: expected a string or a number", where));
}

core::result<double> number_of(const toml::node& n, const std::map<std::string, std::string>& vars,
                               std::string_view where) {
    auto t = text_of(n, vars, where);
    if (!t) {
        return t.err();
    }
    double v = 0;
    const auto* end = t->data() + t->size();
    const auto [p, ec] = std::from_chars(t->data(), end, v);
    if (ec != std::errc{} || p != end || !std::isfinite(v)) {
        return core::make_error(
            fmt::format("{}: not a number after substitution: \"{}\"", where, *t));
    }
    return v;
}

core::result<void> only_keys(const toml::table& t, std::initializer_list<std::string_view> allowed,
                             std::string_view where) {
    for (auto&& [k, v] : t) {
        if (std::find(allowed.begin(), allowed.end(), k.str()) == allowed.end()) {
            return core::make_error(fmt::format("{}: unknown key \"{}\"", where, k.str()));
        }
    }
    return {};
}

core::result<executor> parse_executor(std::string_view s, std::string_view where) {
    if (s == "constant-arrival-rate") {
        return executor::constant_arrival_rate;
    }
    if (s == "ramping-arrival-rate") {
        return executor::ramping_arrival_rate;
    }
    if (s == "spike") {
        return executor::spike;
    }
    if (s == "constant-vus") {
        return executor::constant_vus;
    }
    if (s == "ramping-vus") {
        return executor::ramping_vus;
    }
    if (s == "hls-viewers") {
        return executor::hls_viewers;
    }
    if (s == "love-tappers") {
        return executor::love_tappers;
    }
    if (s == "chat-clients") {
        return executor::chat_clients;
    }
    return core::make_error(fmt::format(
        "{}: executor \"{}\": expected constant-arrival-rate, ramping-arrival-rate, spike, "
        "constant-vus, ramping-vus, hls-viewers, love-tappers or chat-clients",
        where, s));
}

} // namespace

core::result<std::string> expand(std::string_view text,
                                 const std::map<std::string, std::string>& vars) {
    return substitute(text, vars, "expand");
}

double phase::rate_at(duration t) const {
    const double f =
        length.count() > 0
            ? std::clamp(static_cast<double>(t.count()) / static_cast<double>(length.count()), 0.0,
                         1.0)
            : 1.0;
    switch (kind) {
    case executor::constant_arrival_rate:
        return rate;
    case executor::ramping_arrival_rate:
        return start_rate + (rate - start_rate) * f;
    case executor::spike:
        if (ramp.count() <= 0 || t >= ramp) {
            return rate;
        }
        return rate * static_cast<double>(t.count()) / static_cast<double>(ramp.count());
    case executor::constant_vus:
    case executor::ramping_vus:
    case executor::hls_viewers:
    case executor::love_tappers:
    case executor::chat_clients:
        return 0;
    }
    return 0;
}

core::result<duration> parse_duration(std::string_view text) {
    double scale = 1e6; // seconds by default
    std::string_view number = text;
    if (text.ends_with("ms")) {
        scale = 1e3;
        number = text.substr(0, text.size() - 2);
    } else if (text.ends_with("us")) {
        scale = 1;
        number = text.substr(0, text.size() - 2);
    } else if (text.ends_with('s')) {
        number = text.substr(0, text.size() - 1);
    } else if (text.ends_with('m')) {
        scale = 60e6;
        number = text.substr(0, text.size() - 1);
    } else if (text.ends_with('h')) {
        scale = 3600e6;
        number = text.substr(0, text.size() - 1);
    }
    double v = 0;
    const auto [p, ec] = std::from_chars(number.data(), number.data() + number.size(), v);
    if (number.empty() || ec != std::errc{} || p != number.data() + number.size() || v < 0 ||
        !std::isfinite(v) || v * scale > 1e13) {
        return core::make_error(fmt::format("bad duration \"{}\" (e.g. 250ms, 10s, 2m)", text));
    }
    return duration(static_cast<std::int64_t>(std::llround(v * scale)));
}

core::result<threshold> parse_threshold(std::string_view metric, std::string_view expression) {
    threshold t;
    t.text = fmt::format("{} {}", metric, expression);
    auto name = metric;
    if (const auto brace = metric.find('{'); brace != std::string_view::npos) {
        if (!metric.ends_with('}')) {
            return core::make_error(fmt::format("threshold {}: unclosed {{", metric));
        }
        const auto labels = metric.substr(brace + 1, metric.size() - brace - 2);
        if (!labels.starts_with("step=")) {
            return core::make_error(
                fmt::format("threshold {}: the only label is step=<name>", metric));
        }
        t.step = std::string(labels.substr(5));
        if (t.step.size() >= 2 && t.step.front() == '"' && t.step.back() == '"') {
            t.step = t.step.substr(1, t.step.size() - 2);
        }
        name = metric.substr(0, brace);
    }
    t.metric = std::string(name);
    static const std::set<std::string_view> metrics = {
        "http_req_duration", "http_req_failed", "http_reqs",      "dropped_iterations",
        "iterations",        "hls_stalls",      "hls_startup",    "hls_viewers_started",
        "chat_delivery",     "chat_joined",     "chat_delivered", "chat_skipped",
        "chat_disconnects"};
    if (!metrics.contains(name)) {
        return core::make_error(fmt::format(
            "threshold {}: unknown metric (http_req_duration, http_req_failed, http_reqs, "
            "dropped_iterations, iterations, hls_stalls, hls_startup, hls_viewers_started, "
            "chat_delivery, chat_joined, chat_delivered, chat_skipped, chat_disconnects)",
            metric));
    }
    // "<statistic> <op> <value>"
    std::vector<std::string_view> words;
    for (std::size_t i = 0; i < expression.size();) {
        while (i < expression.size() && expression[i] == ' ') {
            ++i;
        }
        const auto j = std::min(expression.find(' ', i), expression.size());
        if (j > i) {
            words.push_back(expression.substr(i, j - i));
        }
        i = j;
    }
    if (words.size() != 3) {
        return core::make_error(
            fmt::format("threshold {}: \"{}\": expected \"<statistic> <op> <value>\", e.g. "
                        "\"p99 < 200ms\"",
                        metric, expression));
    }
    t.statistic = std::string(words[0]);
    t.op = std::string(words[1]);
    static const std::set<std::string_view> ops = {"<", "<=", ">", ">=", "==", "!="};
    if (!ops.contains(t.op)) {
        return core::make_error(fmt::format("threshold {}: bad operator \"{}\"", metric, t.op));
    }
    const bool is_duration = t.is_duration();
    static const std::set<std::string_view> duration_stats = {"p50",   "p90", "p95", "p99",
                                                              "p99.9", "max", "min", "mean"};
    if (is_duration
            ? !duration_stats.contains(t.statistic)
            : (t.metric == "http_req_failed" ? t.statistic != "rate" && t.statistic != "count"
                                             : t.statistic != "count" && t.statistic != "rate")) {
        return core::make_error(
            fmt::format("threshold {}: statistic \"{}\" does not apply", metric, t.statistic));
    }
    if (is_duration) {
        auto d = parse_duration(words[2]);
        if (!d) {
            return d.err().wrap(fmt::format("threshold {}", metric));
        }
        t.value = static_cast<double>(d->count());
    } else {
        const auto [p, ec] =
            std::from_chars(words[2].data(), words[2].data() + words[2].size(), t.value);
        if (ec != std::errc{} || p != words[2].data() + words[2].size()) {
            return core::make_error(
                fmt::format("threshold {}: bad value \"{}\"", metric, words[2]));
        }
    }
    return t;
}

core::result<scenario>
parse_scenario(std::string_view text, std::string_view source,
               const std::vector<std::pair<std::string, std::string>>& overrides) {
    toml::table root;
    try {
        root = toml::parse(text, source);
    } catch (const toml::parse_error& e) {
        const auto& where = e.source().begin;
        return core::make_error(
            fmt::format("{}:{}:{}: {}", source, where.line, where.column, e.description()));
    }
    if (auto r = only_keys(
            root, {"name", "description", "vars", "phases", "flows", "thresholds", "events"},
            "scenario");
        !r) {
        return r.err();
    }
    scenario sc;
    sc.name = root["name"].value_or(std::string(source));
    sc.description = root["description"].value_or(std::string());
    // Every scenario takes target and duration (issue 7): defaults unless the file sets them.
    // connect_to (empty: the target's address) spreads connections over several nodes.
    sc.vars = {{"target", "http://127.0.0.1:8080"},
               {"duration", "10s"},
               {"connect_to", ""},
               {"local_ips", ""}};
    if (const auto* vars = root["vars"].as_table()) {
        if (vars->size() > max_vars) {
            return core::make_error(fmt::format("vars: more than {}", max_vars));
        }
        for (auto&& [k, v] : *vars) {
            auto t = text_of(v, {}, fmt::format("vars.{}", k.str()));
            if (!t) {
                return t.err();
            }
            sc.vars[std::string(k.str())] = std::move(*t);
        }
    }
    for (const auto& [name, value] : overrides) {
        if (!sc.vars.contains(name)) {
            return core::make_error(
                fmt::format("--set {}: the scenario has no variable \"{}\"", name, name));
        }
        sc.vars[name] = value;
    }
    // A var may refer to others set before it (e.g. url = "${target}/x"): substitute once.
    for (auto& [name, value] : sc.vars) {
        auto t = substitute(value, sc.vars, fmt::format("vars.{}", name));
        if (!t) {
            return t.err();
        }
        value = std::move(*t);
    }
    // The target is where the load goes; a path in it is ignored (flows name their paths).
    auto target = codec::http::parse_http_url(sc.vars["target"]);
    if (!target) {
        return target.err().wrap(fmt::format("vars.target \"{}\"", sc.vars["target"]));
    }
    sc.target_host = target->host;
    sc.target_port = target->port;
    sc.target_authority = target->authority;
    for (const auto item : codec::http::list_elements(sc.vars["connect_to"])) {
        if (sc.connect_to.size() == max_connect_to) {
            return core::make_error(fmt::format("vars.connect_to: more than {}", max_connect_to));
        }
        auto hp = codec::http::parse_host_port(item);
        if (!hp) {
            return hp.err().wrap(fmt::format("vars.connect_to \"{}\"", item));
        }
        sc.connect_to.push_back(std::move(*hp));
    }
    if (auto ips = parse_local_ips(sc.vars["local_ips"])) {
        sc.local_ips = std::move(*ips);
    } else {
        return ips.err().wrap("vars.local_ips");
    }

    // Values known only while a VU runs: what a step extracts from a response, and the
    // builtins. In flows they stay "${name}" and are filled in per request (expand()).
    auto step_vars = sc.vars;
    step_vars["__vu"] = "${__vu}";
    step_vars["__iter"] = "${__iter}";
    if (const auto* flows = root["flows"].as_table()) {
        for (auto&& [fname, fnode] : *flows) {
            if (const auto* steps = fnode.as_array()) {
                for (const auto& st : *steps) {
                    if (const auto* ex =
                            st.as_table() ? (*st.as_table())["extract"].as_table() : nullptr) {
                        for (auto&& [k, v] : *ex) {
                            step_vars[std::string(k.str())] = fmt::format("${{{}}}", k.str());
                        }
                    }
                }
            }
        }
    }
    if (const auto* flows = root["flows"].as_table()) {
        for (auto&& [fname, fnode] : *flows) {
            const auto* steps = fnode.as_array();
            const auto where = fmt::format("flows.{}", fname.str());
            if (steps == nullptr || steps->empty() || steps->size() > max_steps) {
                return core::make_error(
                    fmt::format("{}: expected 1..{} steps ([[flows.{}]] tables)", where, max_steps,
                                fname.str()));
            }
            auto& out = sc.flows[std::string(fname.str())];
            for (std::size_t i = 0; i < steps->size(); ++i) {
                const auto* t = (*steps)[i].as_table();
                const auto w = fmt::format("{}[{}]", where, i);
                if (t == nullptr) {
                    return core::make_error(fmt::format("{}: expected a table", w));
                }
                if (auto r = only_keys(*t,
                                       {"name", "method", "path", "headers", "body",
                                        "expect_status", "think", "extract", "timeout"},
                                       w);
                    !r) {
                    return r.err();
                }
                step s;
                s.name = (*t)["name"].value_or(fmt::format("{}-{}", fname.str(), i));
                for (const auto& [key, field] :
                     {std::pair{"method", &s.method}, std::pair{"path", &s.path},
                      std::pair{"body", &s.body}}) {
                    if (const auto* n = t->get(key)) {
                        auto v = text_of(*n, step_vars, fmt::format("{}.{}", w, key));
                        if (!v) {
                            return v.err();
                        }
                        *field = std::move(*v);
                    }
                }
                if (s.path.empty() || s.path.front() != '/') {
                    return core::make_error(fmt::format("{}.path: must start with /", w));
                }
                if (const auto* h = (*t)["headers"].as_table()) {
                    for (auto&& [hk, hv] : *h) {
                        auto v = text_of(hv, step_vars, fmt::format("{}.headers.{}", w, hk.str()));
                        if (!v) {
                            return v.err();
                        }
                        s.headers.emplace_back(std::string(hk.str()), std::move(*v));
                    }
                }
                if (const auto* n = t->get("expect_status")) {
                    auto v = number_of(*n, sc.vars, fmt::format("{}.expect_status", w));
                    if (!v) {
                        return v.err();
                    }
                    s.expect_status = static_cast<int>(*v);
                }
                for (const auto& [key, field] :
                     {std::pair{"think", &s.think}, std::pair{"timeout", &s.timeout}}) {
                    if (const auto* n = t->get(key)) {
                        auto v = text_of(*n, sc.vars, fmt::format("{}.{}", w, key));
                        if (!v) {
                            return v.err();
                        }
                        auto d = parse_duration(*v);
                        if (!d) {
                            return d.err().wrap(fmt::format("{}.{}", w, key));
                        }
                        *field = *d;
                    }
                }
                if (s.timeout < std::chrono::seconds(1) || s.timeout > std::chrono::hours(1)) {
                    return core::make_error(fmt::format("{}.timeout: 1s..1h", w));
                }
                if (const auto* ex = (*t)["extract"].as_table()) {
                    for (auto&& [k, v] : *ex) {
                        const auto* path = v.as_string();
                        if (path == nullptr || !path->get().starts_with("$")) {
                            return core::make_error(fmt::format(
                                "{}.extract.{}: a JSON path like \"$.id\" or \"$.items[0].id\"", w,
                                k.str()));
                        }
                        s.extract.emplace_back(std::string(k.str()), path->get());
                    }
                }
                s.dynamic = s.path.find("${") != std::string::npos ||
                            s.body.find("${") != std::string::npos ||
                            std::any_of(s.headers.begin(), s.headers.end(), [](const auto& h) {
                                return h.second.find("${") != std::string::npos;
                            });
                out.push_back(std::move(s));
            }
        }
    }

    const auto* phases = root["phases"].as_array();
    if (phases == nullptr || phases->empty() || phases->size() > max_phases) {
        return core::make_error(
            fmt::format("phases: expected 1..{} [[phases]] tables", max_phases));
    }
    for (std::size_t i = 0; i < phases->size(); ++i) {
        const auto* t = (*phases)[i].as_table();
        const auto w = fmt::format("phases[{}]", i);
        if (t == nullptr) {
            return core::make_error(fmt::format("{}: expected a table", w));
        }
        if (auto r = only_keys(*t,
                               {"name", "executor", "rate", "start_rate", "ramp", "vus",
                                "start_vus", "viewers", "playlist", "duration", "max_vus", "flow",
                                "start", "broadcast", "taps_per_second", "token_secret",
                                "send_rate", "senders", "message_bytes"},
                               w);
            !r) {
            return r.err();
        }
        phase p;
        p.name = (*t)["name"].value_or(fmt::format("phase-{}", i));
        auto kind = parse_executor((*t)["executor"].value_or(std::string("constant-arrival-rate")),
                                   w + ".executor");
        if (!kind) {
            return kind.err();
        }
        p.kind = *kind;
        const auto number = [&](const char* key, double fallback) -> core::result<double> {
            const auto* n = t->get(key);
            return n == nullptr ? core::result<double>(fallback)
                                : number_of(*n, sc.vars, fmt::format("{}.{}", w, key));
        };
        const auto time = [&](const char* key, std::string fallback) -> core::result<duration> {
            std::string v = std::move(fallback);
            if (const auto* n = t->get(key)) {
                auto s = text_of(*n, sc.vars, fmt::format("{}.{}", w, key));
                if (!s) {
                    return s.err();
                }
                v = std::move(*s);
            }
            auto d = parse_duration(v);
            if (!d) {
                return d.err().wrap(fmt::format("{}.{}", w, key));
            }
            return *d;
        };
        auto rate = number("rate", 0);
        auto start_rate = number("start_rate", 0);
        auto vus = number(t->contains("viewers") ? "viewers" : "vus", 0);
        auto max_vus = number("max_vus", 1000);
        auto start_vus = number("start_vus", 0);
        auto length = time("duration", sc.vars["duration"]);
        auto ramp = time("ramp", "0s");
        for (auto* r : {&rate, &start_rate, &vus, &max_vus, &start_vus}) {
            if (!*r) {
                return r->err();
            }
        }
        if (!length) {
            return length.err();
        }
        if (!ramp) {
            return ramp.err();
        }
        p.rate = *rate;
        p.start_rate = *start_rate;
        p.vus = static_cast<std::size_t>(std::max(0.0, *vus));
        p.max_vus = static_cast<std::size_t>(std::max(1.0, *max_vus));
        p.start_vus = static_cast<std::size_t>(std::max(0.0, *start_vus));
        p.length = *length;
        p.ramp = *ramp;
        if (t->contains("start")) {
            auto st = time("start", "0s");
            if (!st) {
                return st.err();
            }
            p.start = *st;
        }
        if (p.rate < 0 || p.rate > max_rate || p.start_rate < 0 || p.start_rate > max_rate) {
            return core::make_error(fmt::format("{}: rate must be in 0..{}", w, max_rate));
        }
        if (p.vus > max_vus_limit || p.max_vus > max_vus_limit || p.start_vus > max_vus_limit) {
            return core::make_error(fmt::format("{}: at most {} VUs", w, max_vus_limit));
        }
        if (p.kind == executor::love_tappers || p.kind == executor::chat_clients) {
            const char* kind_name =
                p.kind == executor::love_tappers ? "love-tappers" : "chat-clients";
            if (p.vus == 0) {
                return core::make_error(fmt::format("{}: {} needs viewers > 0", w, kind_name));
            }
            for (const auto& [key, field] : {std::pair{"broadcast", &p.broadcast},
                                             std::pair{"token_secret", &p.token_secret}}) {
                if (const auto* n = t->get(key)) {
                    auto v = text_of(*n, sc.vars, fmt::format("{}.{}", w, key));
                    if (!v) {
                        return v.err();
                    }
                    *field = std::move(*v);
                }
            }
            if (p.broadcast.empty()) {
                return core::make_error(fmt::format("{}: {} needs a broadcast", w, kind_name));
            }
            if (p.kind == executor::love_tappers) {
                auto tps = number("taps_per_second", 3);
                if (!tps) {
                    return tps.err();
                }
                p.taps_per_second = *tps;
                if (p.taps_per_second <= 0 || p.taps_per_second > 1000) {
                    return core::make_error(
                        fmt::format("{}: love-tappers needs taps_per_second in (0, 1000]", w));
                }
            } else {
                auto rate_each = number("send_rate", 0.5);
                auto senders = number("senders", static_cast<double>(p.vus));
                auto bytes = number("message_bytes", 48);
                for (auto* r : {&rate_each, &senders, &bytes}) {
                    if (!*r) {
                        return r->err();
                    }
                }
                if (*rate_each <= 0 || *rate_each > 1000) {
                    return core::make_error(fmt::format("{}.send_rate: in (0, 1000]", w));
                }
                if (*senders < 0 || *senders > static_cast<double>(p.vus)) {
                    return core::make_error(fmt::format("{}.senders: 0..viewers", w));
                }
                // The stamp "lh <id> <seq> <unix µs> " needs up to 48 bytes; the server's
                // limit is 500 characters (chat.max_text_chars).
                if (*bytes < 48 || *bytes > 500) {
                    return core::make_error(fmt::format("{}.message_bytes: 48..500", w));
                }
                p.send_rate = *rate_each;
                p.senders = static_cast<std::size_t>(*senders);
                p.message_bytes = static_cast<std::size_t>(*bytes);
                if (p.senders > 0 && p.token_secret.empty()) {
                    return core::make_error(fmt::format(
                        "{}: chat-clients that send need token_secret (the node's [auth] "
                        "token_secret; senders = 0 for readers only)",
                        w));
                }
            }
            sc.phases.push_back(std::move(p));
            continue;
        }
        if (p.kind == executor::hls_viewers) {
            if (p.vus == 0) {
                return core::make_error(fmt::format("{}: hls-viewers needs viewers > 0", w));
            }
            if (const auto* n = t->get("playlist")) {
                auto v = text_of(*n, sc.vars, w + ".playlist");
                if (!v) {
                    return v.err();
                }
                p.playlist = std::move(*v);
            }
            if (!p.playlist.starts_with('/')) {
                return core::make_error(fmt::format("{}.playlist: a path starting with /", w));
            }
            sc.phases.push_back(std::move(p));
            continue;
        }
        const bool closed = p.kind == executor::constant_vus || p.kind == executor::ramping_vus;
        if (closed ? p.vus == 0 && p.start_vus == 0 : p.rate <= 0) {
            return core::make_error(fmt::format("{}: {} needs {}", w,
                                                closed ? "a closed model" : "an open model",
                                                closed ? "vus > 0" : "rate > 0"));
        }
        p.flow = (*t)["flow"].value_or(std::string());
        if (!sc.flows.contains(p.flow)) {
            return core::make_error(fmt::format("{}.flow: no flow \"{}\" in [flows]", w, p.flow));
        }
        sc.phases.push_back(std::move(p));
    }

    if (const auto* events = root["events"].as_array()) {
        for (std::size_t i = 0; i < events->size(); ++i) {
            const auto* t = (*events)[i].as_table();
            const auto w = fmt::format("events[{}]", i);
            if (t == nullptr) {
                return core::make_error(fmt::format("{}: expected a table", w));
            }
            if (auto r = only_keys(*t, {"name", "at", "run"}, w); !r) {
                return r.err();
            }
            event e;
            e.name = (*t)["name"].value_or(w);
            const auto* at = t->get("at");
            const auto* run = t->get("run");
            if (at == nullptr || run == nullptr) {
                return core::make_error(fmt::format("{}: needs at and run", w));
            }
            auto at_text = text_of(*at, sc.vars, w + ".at");
            if (!at_text) {
                return at_text.err();
            }
            auto when = parse_duration(*at_text);
            if (!when) {
                return when.err().wrap(w + ".at");
            }
            e.at = *when;
            auto command = text_of(*run, sc.vars, w + ".run");
            if (!command) {
                return command.err();
            }
            e.command = std::move(*command);
            sc.events.push_back(std::move(e));
        }
    }
    if (const auto* th = root["thresholds"].as_table()) {
        for (auto&& [metric, list] : *th) {
            const auto* arr = list.as_array();
            if (arr == nullptr) {
                return core::make_error(
                    fmt::format("thresholds.{}: expected an array of strings", metric.str()));
            }
            for (const auto& e : *arr) {
                const auto* s = e.as_string();
                if (s == nullptr) {
                    return core::make_error(
                        fmt::format("thresholds.{}: expected strings", metric.str()));
                }
                auto expr =
                    substitute(s->get(), sc.vars, fmt::format("thresholds.{}", metric.str()));
                if (!expr) {
                    return expr.err();
                }
                auto t = parse_threshold(metric.str(), *expr);
                if (!t) {
                    return t.err();
                }
                sc.thresholds.push_back(std::move(*t));
            }
        }
    }
    return sc;
}

} // namespace livehouse::stress
