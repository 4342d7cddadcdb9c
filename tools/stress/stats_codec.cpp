// stats_codec (see stats_codec.hpp).
#include "stress/stats_codec.hpp"

#include <charconv>
#include <fmt/format.h>

namespace livehouse::stress {

using nlohmann::json;

namespace {

constexpr std::size_t max_steps = 4096;
constexpr std::size_t max_map_entries = 1024;
constexpr std::size_t max_name_bytes = 256;
constexpr std::size_t max_seconds = 86400;

json hist_to_json(const core::latency_histogram& h) {
    const auto s = h.snapshot();
    json buckets = json::array();
    for (const auto& [i, n] : s.buckets) {
        buckets.push_back(json::array({i, n}));
    }
    return {{"buckets", buckets}, {"sum", s.sum}, {"min", s.min}, {"max", s.max}};
}

json counts_to_json(const std::map<std::string, std::uint64_t>& m) {
    json out = json::object();
    for (const auto& [k, v] : m) {
        out[k] = v;
    }
    return out;
}

/// Checked reads: each says what was wrong, and where.
class reader {
  public:
    explicit reader(std::string where) : where_(std::move(where)) {}

    core::result<const json*> member(const json& j, const char* key) const {
        if (!j.is_object()) {
            return core::make_error(fmt::format("{}: expected an object", where_));
        }
        const auto it = j.find(key);
        if (it == j.end()) {
            return core::make_error(fmt::format("{}: no \"{}\"", where_, key));
        }
        return &*it;
    }

    core::result<std::uint64_t> u64(const json& j, const char* key) const {
        auto m = member(j, key);
        if (!m) {
            return m.err();
        }
        if (!(*m)->is_number_unsigned()) {
            return core::make_error(
                fmt::format("{}.{}: expected an unsigned integer", where_, key));
        }
        return (*m)->get<std::uint64_t>();
    }

    core::result<double> number(const json& j, const char* key) const {
        auto m = member(j, key);
        if (!m) {
            return m.err();
        }
        if (!(*m)->is_number()) {
            return core::make_error(fmt::format("{}.{}: expected a number", where_, key));
        }
        return (*m)->get<double>();
    }

    core::result<core::latency_histogram> hist(const json& j, const char* key) const {
        auto m = member(j, key);
        if (!m) {
            return m.err();
        }
        const reader inner(fmt::format("{}.{}", where_, key));
        auto b = inner.member(**m, "buckets");
        if (!b) {
            return b.err();
        }
        if (!(*b)->is_array() || (*b)->size() > core::latency_histogram::bucket_count) {
            return core::make_error(fmt::format("{}.buckets: expected at most {} [index, count]",
                                                inner.where_,
                                                core::latency_histogram::bucket_count));
        }
        core::latency_histogram::state s;
        for (const auto& e : **b) {
            if (!e.is_array() || e.size() != 2 || !e[0].is_number_unsigned() ||
                !e[1].is_number_unsigned() ||
                e[0].get<std::uint64_t>() >= core::latency_histogram::bucket_count) {
                return core::make_error(
                    fmt::format("{}.buckets: expected [index, count] pairs", inner.where_));
            }
            s.buckets.emplace_back(static_cast<std::uint32_t>(e[0].get<std::uint64_t>()),
                                   e[1].get<std::uint64_t>());
        }
        auto sum = inner.u64(**m, "sum");
        auto mn = inner.u64(**m, "min");
        auto mx = inner.u64(**m, "max");
        for (auto* r : {&sum, &mn, &mx}) {
            if (!*r) {
                return r->err();
            }
        }
        s.sum = *sum;
        s.min = *mn;
        s.max = *mx;
        auto h = core::latency_histogram::restore(s);
        if (!h) {
            return core::make_error(fmt::format("{}: not a histogram's buckets", inner.where_));
        }
        return *h;
    }

    core::result<std::map<std::string, std::uint64_t>> counts(const json& j,
                                                              const char* key) const {
        auto m = member(j, key);
        if (!m) {
            return m.err();
        }
        if (!(*m)->is_object() || (*m)->size() > max_map_entries) {
            return core::make_error(fmt::format("{}.{}: expected an object of at most {} counts",
                                                where_, key, max_map_entries));
        }
        std::map<std::string, std::uint64_t> out;
        for (const auto& [k, v] : (*m)->items()) {
            if (k.size() > max_name_bytes || !v.is_number_unsigned()) {
                return core::make_error(fmt::format("{}.{}: bad entry", where_, key));
            }
            out[k] = v.get<std::uint64_t>();
        }
        return out;
    }

    const std::string& where() const { return where_; }

  private:
    std::string where_;
};

/// Reads every `fields` entry (name, destination) as an unsigned integer.
core::result<void> read_u64s(const reader& r, const json& j,
                             std::initializer_list<std::pair<const char*, std::uint64_t*>> fields) {
    for (const auto& [key, out] : fields) {
        auto v = r.u64(j, key);
        if (!v) {
            return v.err();
        }
        *out = *v;
    }
    return {};
}

} // namespace

json stats_to_json(const run_stats& stats) {
    json steps = json::object();
    for (const auto& [name, s] : stats.steps) {
        json statuses = json::object();
        for (const auto& [code, n] : s.statuses) {
            statuses[fmt::format("{}", code)] = n;
        }
        steps[name] = {{"latency", hist_to_json(s.latency)},
                       {"requests", s.requests},
                       {"failed", s.failed},
                       {"statuses", statuses},
                       {"errors", counts_to_json(s.errors)}};
    }
    json seconds = json::array();
    for (const auto& sec : stats.seconds) {
        seconds.push_back({{"requests", sec.requests},
                           {"failed", sec.failed},
                           {"dropped", sec.dropped},
                           {"latency", hist_to_json(sec.latency)}});
    }
    const auto& v = stats.viewers;
    const auto& l = stats.love;
    const auto& c = stats.chat;
    return {{"steps", steps},
            {"viewers",
             {{"joined", v.joined},
              {"started", v.started},
              {"stalls", v.stalls},
              {"segments", v.segments},
              {"bytes", v.bytes},
              {"startup", hist_to_json(v.startup)},
              {"stall_time", hist_to_json(v.stall_time)}}},
            {"love",
             {{"tappers", l.tappers},
              {"batches", l.batches},
              {"sent", l.sent},
              {"accepted", l.accepted}}},
            {"chat",
             {{"clients", c.clients},
              {"joined", c.joined},
              {"late_joins", c.late_joins},
              {"sent", c.sent},
              {"acked", c.acked},
              {"received", c.received},
              {"delivered", c.delivered},
              {"skipped", c.skipped},
              {"disconnects", c.disconnects},
              {"malformed", c.malformed},
              {"errors", counts_to_json(c.errors)},
              {"delivery", hist_to_json(c.delivery)}}},
            {"iterations", stats.iterations},
            {"dropped", stats.dropped},
            {"seconds", seconds},
            {"elapsed_s", stats.elapsed_s}};
}

core::result<run_stats> stats_from_json(const json& j) {
    run_stats out;
    const reader top("stats");
    if (auto r = read_u64s(top, j, {{"iterations", &out.iterations}, {"dropped", &out.dropped}});
        !r) {
        return r.err();
    }
    auto elapsed = top.number(j, "elapsed_s");
    if (!elapsed) {
        return elapsed.err();
    }
    out.elapsed_s = *elapsed;

    auto steps = top.member(j, "steps");
    if (!steps) {
        return steps.err();
    }
    if (!(*steps)->is_object() || (*steps)->size() > max_steps) {
        return core::make_error(fmt::format("stats.steps: at most {} steps", max_steps));
    }
    for (const auto& [name, sj] : (*steps)->items()) {
        if (name.size() > max_name_bytes) {
            return core::make_error("stats.steps: a step name over 256 bytes");
        }
        const reader r(fmt::format("stats.steps.{}", name));
        step_stats s;
        if (auto e = read_u64s(r, sj, {{"requests", &s.requests}, {"failed", &s.failed}}); !e) {
            return e.err();
        }
        auto h = r.hist(sj, "latency");
        auto statuses = r.counts(sj, "statuses");
        auto errors = r.counts(sj, "errors");
        if (!h) {
            return h.err();
        }
        if (!statuses) {
            return statuses.err();
        }
        if (!errors) {
            return errors.err();
        }
        s.latency = *h;
        for (const auto& [code, n] : *statuses) {
            int status = 0;
            const auto [p, ec] = std::from_chars(code.data(), code.data() + code.size(), status);
            if (ec != std::errc{} || p != code.data() + code.size() || status < 0 || status > 999) {
                return core::make_error(fmt::format("{}.statuses: \"{}\"", r.where(), code));
            }
            s.statuses[status] = n;
        }
        s.errors = std::move(*errors);
        out.steps[name] = std::move(s);
    }

    auto seconds = top.member(j, "seconds");
    if (!seconds) {
        return seconds.err();
    }
    if (!(*seconds)->is_array() || (*seconds)->size() > max_seconds) {
        return core::make_error(fmt::format("stats.seconds: at most {} seconds", max_seconds));
    }
    for (const auto& sj : **seconds) {
        const reader r("stats.seconds[]");
        second_stats sec;
        if (auto e = read_u64s(
                r, sj,
                {{"requests", &sec.requests}, {"failed", &sec.failed}, {"dropped", &sec.dropped}});
            !e) {
            return e.err();
        }
        auto h = r.hist(sj, "latency");
        if (!h) {
            return h.err();
        }
        sec.latency = *h;
        out.seconds.push_back(std::move(sec));
    }

    auto vj = top.member(j, "viewers");
    auto lj = top.member(j, "love");
    auto cj = top.member(j, "chat");
    for (auto* m : {&vj, &lj, &cj}) {
        if (!*m) {
            return m->err();
        }
    }
    {
        const reader r("stats.viewers");
        auto& v = out.viewers;
        if (auto e = read_u64s(r, **vj,
                               {{"joined", &v.joined},
                                {"started", &v.started},
                                {"stalls", &v.stalls},
                                {"segments", &v.segments},
                                {"bytes", &v.bytes}});
            !e) {
            return e.err();
        }
        auto startup = r.hist(**vj, "startup");
        auto stall_time = r.hist(**vj, "stall_time");
        if (!startup) {
            return startup.err();
        }
        if (!stall_time) {
            return stall_time.err();
        }
        v.startup = *startup;
        v.stall_time = *stall_time;
    }
    {
        const reader r("stats.love");
        auto& l = out.love;
        if (auto e = read_u64s(r, **lj,
                               {{"tappers", &l.tappers},
                                {"batches", &l.batches},
                                {"sent", &l.sent},
                                {"accepted", &l.accepted}});
            !e) {
            return e.err();
        }
    }
    {
        const reader r("stats.chat");
        auto& c = out.chat;
        if (auto e = read_u64s(r, **cj,
                               {{"clients", &c.clients},
                                {"joined", &c.joined},
                                {"late_joins", &c.late_joins},
                                {"sent", &c.sent},
                                {"acked", &c.acked},
                                {"received", &c.received},
                                {"delivered", &c.delivered},
                                {"skipped", &c.skipped},
                                {"disconnects", &c.disconnects},
                                {"malformed", &c.malformed}});
            !e) {
            return e.err();
        }
        auto errors = r.counts(**cj, "errors");
        auto delivery = r.hist(**cj, "delivery");
        if (!errors) {
            return errors.err();
        }
        if (!delivery) {
            return delivery.err();
        }
        c.errors = std::move(*errors);
        c.delivery = *delivery;
    }
    return out;
}

} // namespace livehouse::stress
