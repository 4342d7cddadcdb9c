// Prometheus registry and text exposition format 0.0.4 renderer.
// https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format
#include "core/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <stdexcept>

namespace livehouse::core {

namespace {

enum kind : int { k_counter, k_gauge, k_callback_gauge, k_callback_counter, k_histogram };

constexpr std::string_view kind_name(int k) {
    switch (k) {
    case k_counter:
    case k_callback_counter:
        return "counter";
    case k_gauge:
    case k_callback_gauge:
        return "gauge";
    default:
        return "histogram";
    }
}

// Exposition format: metric names match [a-zA-Z_:][a-zA-Z0-9_:]*, label names
// [a-zA-Z_][a-zA-Z0-9_]* and must not start with "__" (reserved).
bool valid_name(std::string_view s, bool allow_colon) {
    if (s.empty()) {
        return false;
    }
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                           (allow_colon && c == ':');
        const bool digit = c >= '0' && c <= '9';
        if (!alpha && !(digit && i > 0)) {
            return false;
        }
    }
    return true;
}

// HELP text escapes only backslash and newline (format 0.0.4).
std::string escape_help(std::string_view v) {
    std::string out;
    out.reserve(v.size());
    for (char c : v) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
    return out;
}

// '\xff' cannot occur in UTF-8 text, so joined keys of distinct tuples never collide.
constexpr char key_separator = '\xff';

template <class Range> std::string join_key(const Range& values) {
    std::string key;
    for (const auto& v : values) {
        key.append(v.data(), v.size());
        key += key_separator;
    }
    return key;
}

void append_labels(std::string& out, const std::vector<std::string>& names,
                   const std::vector<std::string>& values, std::string_view extra_name = {},
                   std::string_view extra_value = {}) {
    if (names.empty() && extra_name.empty()) {
        return;
    }
    out += '{';
    bool first = true;
    for (std::size_t i = 0; i < names.size() && i < values.size(); ++i) {
        if (!first) {
            out += ',';
        }
        first = false;
        out += names[i];
        out += "=\"";
        out += escape_label_value(values[i]);
        out += '"';
    }
    if (!extra_name.empty()) {
        if (!first) {
            out += ',';
        }
        out += extra_name;
        out += "=\"";
        out += extra_value;
        out += '"';
    }
    out += '}';
}

} // namespace

std::string escape_label_value(std::string_view v) {
    std::string out;
    out.reserve(v.size());
    for (char c : v) {
        switch (c) {
        case '\\':
            out += "\\\\";
            break;
        case '"':
            out += "\\\"";
            break;
        case '\n':
            out += "\\n";
            break;
        default:
            out += c;
        }
    }
    return out;
}

std::string format_sample_value(double v) {
    if (std::isnan(v)) {
        return "NaN";
    }
    if (std::isinf(v)) {
        return v > 0 ? "+Inf" : "-Inf";
    }
    // Integral values up to 2^53 print exactly without a fraction; fmt's "{}" is the shortest
    // representation that round-trips, which Go's ParseFloat (Prometheus) reads back exactly.
    if (std::floor(v) == v && std::fabs(v) < 9007199254740992.0) {
        return fmt::format("{}", static_cast<long long>(v));
    }
    return fmt::format("{}", v);
}

// ---- histogram ----------------------------------------------------------------------------

histogram::histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)),
      buckets_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1)) {}

void histogram::observe(double v) {
    // Buckets are few (about a dozen): a linear scan beats a binary search here.
    std::size_t i = 0;
    while (i < bounds_.size() && v > bounds_[i]) {
        ++i;
    }
    buckets_[i].fetch_add(1, std::memory_order_relaxed);
    sum_.fetch_add(v, std::memory_order_relaxed);
}

std::uint64_t histogram::cumulative_count(std::size_t i) const {
    std::uint64_t total = 0;
    for (std::size_t b = 0; b <= i && b <= bounds_.size(); ++b) {
        total += buckets_[b].load(std::memory_order_relaxed);
    }
    return total;
}

std::vector<std::uint64_t> histogram::cumulative_counts() const {
    std::vector<std::uint64_t> out(bounds_.size() + 1);
    std::uint64_t total = 0;
    for (std::size_t b = 0; b < out.size(); ++b) {
        total += buckets_[b].load(std::memory_order_relaxed);
        out[b] = total;
    }
    return out;
}

std::vector<double> default_latency_buckets() {
    return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

// ---- family -------------------------------------------------------------------------------

template <class Metric>
family<Metric>::family(std::vector<std::string> label_names,
                       std::function<std::unique_ptr<Metric>()> make)
    : label_names_(std::move(label_names)), make_(std::move(make)) {}

template <class Metric>
Metric& family<Metric>::with(std::initializer_list<std::string_view> values) {
    return lookup(values);
}

template <class Metric> Metric& family<Metric>::with(const std::vector<std::string>& values) {
    return lookup(values);
}

template <class Metric> template <class Range> Metric& family<Metric>::lookup(const Range& values) {
    std::string key = join_key(values);
    std::lock_guard lock(mutex_);
    if (auto it = series_.find(key); it != series_.end()) {
        return *it->second.metric;
    }
    std::vector<std::string> vals;
    if (values.size() != label_names_.size() || series_.size() >= max_series_per_family) {
        // A wrong arity is a caller bug and too many series a cardinality leak: either way keep
        // counting, in one visible series, rather than crash or grow without bound.
        vals.assign(label_names_.size(), "overflow");
        key = join_key(vals);
        if (auto it = series_.find(key); it != series_.end()) {
            return *it->second.metric;
        }
    } else {
        for (const auto& v : values) {
            vals.emplace_back(v);
        }
    }
    auto [it, inserted] = series_.emplace(std::move(key), series{std::move(vals), make_()});
    return *it->second.metric;
}

template <class Metric>
void family<Metric>::for_each(
    const std::function<void(const std::vector<std::string>&, const Metric&)>& f) const {
    std::lock_guard lock(mutex_);
    for (const auto& [key, s] : series_) {
        f(s.values, *s.metric);
    }
}

template class family<counter>;
template class family<gauge>;
template class family<histogram>;

// ---- registry -----------------------------------------------------------------------------

struct metrics_registry::entry {
    std::string name;
    std::string help;
    int kind = k_counter;
    std::vector<std::string> label_names;
    std::vector<double> bounds;
    std::unique_ptr<counter_family> counters;
    std::unique_ptr<gauge_family> gauges;
    std::unique_ptr<histogram_family> histograms;
    std::function<double()> read;
};

metrics_registry::metrics_registry() = default;
metrics_registry::~metrics_registry() = default;

metrics_registry::entry& metrics_registry::find_or_add(std::string_view name, std::string_view help,
                                                       int k,
                                                       const std::vector<std::string>& label_names,
                                                       const std::vector<double>* bounds) {
    // Called with mutex_ held.
    for (auto& e : entries_) {
        if (e->name == name) {
            if (e->kind != k || e->label_names != label_names ||
                (bounds != nullptr && e->bounds != *bounds)) {
                throw std::invalid_argument(
                    fmt::format("metrics: {} registered twice with different shapes", name));
            }
            return *e;
        }
    }
    if (!valid_name(name, true)) {
        throw std::invalid_argument(fmt::format("metrics: invalid metric name '{}'", name));
    }
    for (const auto& l : label_names) {
        if (!valid_name(l, false) || l.rfind("__", 0) == 0 || l == "le") {
            throw std::invalid_argument(fmt::format("metrics: {}: invalid label '{}'", name, l));
        }
    }
    auto e = std::make_unique<entry>();
    e->name = std::string(name);
    e->help = std::string(help);
    e->kind = k;
    e->label_names = label_names;
    if (bounds != nullptr) {
        for (std::size_t i = 0; i < bounds->size(); ++i) {
            if (!std::isfinite((*bounds)[i]) || (i > 0 && (*bounds)[i] <= (*bounds)[i - 1])) {
                throw std::invalid_argument(
                    fmt::format("metrics: {}: buckets must be finite and ascending", name));
            }
        }
        e->bounds = *bounds;
    }
    switch (k) {
    case k_counter:
        e->counters.reset(
            new counter_family(label_names, [] { return std::make_unique<counter>(); }));
        break;
    case k_gauge:
        e->gauges.reset(new gauge_family(label_names, [] { return std::make_unique<gauge>(); }));
        break;
    case k_histogram:
        e->histograms.reset(new histogram_family(
            label_names, [b = e->bounds] { return std::make_unique<histogram>(b); }));
        break;
    default:
        break;
    }
    entries_.push_back(std::move(e));
    return *entries_.back();
}

counter& metrics_registry::add_counter(std::string_view name, std::string_view help) {
    return add_counter_family(name, help, {}).with({});
}

counter_family& metrics_registry::add_counter_family(std::string_view name, std::string_view help,
                                                     std::vector<std::string> label_names) {
    std::lock_guard lock(mutex_);
    return *find_or_add(name, help, k_counter, label_names, nullptr).counters;
}

gauge& metrics_registry::add_gauge(std::string_view name, std::string_view help) {
    return add_gauge_family(name, help, {}).with({});
}

gauge_family& metrics_registry::add_gauge_family(std::string_view name, std::string_view help,
                                                 std::vector<std::string> label_names) {
    std::lock_guard lock(mutex_);
    return *find_or_add(name, help, k_gauge, label_names, nullptr).gauges;
}

void metrics_registry::add_callback_gauge(std::string_view name, std::string_view help,
                                          std::function<double()> read) {
    std::lock_guard lock(mutex_);
    find_or_add(name, help, k_callback_gauge, {}, nullptr).read = std::move(read);
}

void metrics_registry::add_callback_counter(std::string_view name, std::string_view help,
                                            std::function<double()> read) {
    std::lock_guard lock(mutex_);
    find_or_add(name, help, k_callback_counter, {}, nullptr).read = std::move(read);
}

void metrics_registry::remove_callback_gauge(std::string_view name) {
    std::lock_guard lock(mutex_);
    std::erase_if(entries_, [&](const std::unique_ptr<entry>& e) {
        return (e->kind == k_callback_gauge || e->kind == k_callback_counter) && e->name == name;
    });
}

histogram& metrics_registry::add_histogram(std::string_view name, std::string_view help,
                                           std::vector<double> bounds) {
    return add_histogram_family(name, help, {}, std::move(bounds)).with({});
}

histogram_family& metrics_registry::add_histogram_family(std::string_view name,
                                                         std::string_view help,
                                                         std::vector<std::string> label_names,
                                                         std::vector<double> bounds) {
    std::lock_guard lock(mutex_);
    return *find_or_add(name, help, k_histogram, label_names, &bounds).histograms;
}

std::string metrics_registry::render() const {
    std::string out;
    std::lock_guard lock(mutex_);
    for (const auto& e : entries_) {
        out += "# HELP ";
        out += e->name;
        out += ' ';
        out += escape_help(e->help);
        out += "\n# TYPE ";
        out += e->name;
        out += ' ';
        out += kind_name(e->kind);
        out += '\n';
        switch (e->kind) {
        case k_counter:
            e->counters->for_each([&](const std::vector<std::string>& values, const counter& c) {
                out += e->name;
                append_labels(out, e->label_names, values);
                out += ' ';
                out += fmt::format("{}", c.value());
                out += '\n';
            });
            break;
        case k_gauge:
            e->gauges->for_each([&](const std::vector<std::string>& values, const gauge& g) {
                out += e->name;
                append_labels(out, e->label_names, values);
                out += ' ';
                out += format_sample_value(g.value());
                out += '\n';
            });
            break;
        case k_callback_gauge:
        case k_callback_counter:
            out += e->name;
            out += ' ';
            out += format_sample_value(e->read ? e->read() : 0.0);
            out += '\n';
            break;
        case k_histogram:
            e->histograms->for_each(
                [&](const std::vector<std::string>& values, const histogram& h) {
                    const auto& b = h.bounds();
                    const auto counts = h.cumulative_counts();
                    for (std::size_t i = 0; i <= b.size(); ++i) {
                        out += e->name;
                        out += "_bucket";
                        append_labels(out, e->label_names, values, "le",
                                      i < b.size() ? format_sample_value(b[i]) : "+Inf");
                        out += ' ';
                        out += fmt::format("{}", counts[i]);
                        out += '\n';
                    }
                    out += e->name;
                    out += "_sum";
                    append_labels(out, e->label_names, values);
                    out += ' ';
                    out += format_sample_value(h.sum());
                    out += '\n';
                    out += e->name;
                    out += "_count";
                    append_labels(out, e->label_names, values);
                    out += ' ';
                    out += fmt::format("{}", counts.back());
                    out += '\n';
                });
            break;
        default:
            break;
        }
    }
    return out;
}

} // namespace livehouse::core
