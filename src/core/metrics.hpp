// A small Prometheus registry: counters, gauges (set or computed by a callback) and histograms
// with fixed buckets, each optionally labelled, rendered in the text exposition format 0.0.4.
//
// Hot path: inc()/set()/observe() are lock-free atomics on an object whose address never changes,
// so callers look a labelled series up once (a mutex-protected map) and keep the reference.
// Limits: a labelled family holds at most `max_series_per_family` series; further label values
// fold into one series whose labels are all "overflow" (label values must come from a bounded
// set such as route names, never from paths or user input). Registering is start-up work
// (mutex); render() takes the same mutex and is meant for a scrape every few seconds.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace livehouse::core {

/// A monotonically increasing count. Thread-safe, lock-free.
class counter {
  public:
    void inc(std::uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
    [[nodiscard]] std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

  private:
    std::atomic<std::uint64_t> value_{0};
};

/// A value that goes up and down. Thread-safe, lock-free.
class gauge {
  public:
    void set(double v) { value_.store(v, std::memory_order_relaxed); }
    void add(double v) { value_.fetch_add(v, std::memory_order_relaxed); }
    void inc() { add(1); }
    void dec() { add(-1); }
    [[nodiscard]] double value() const { return value_.load(std::memory_order_relaxed); }

  private:
    std::atomic<double> value_{0};
};

/// Observations counted into fixed buckets (upper bounds, ascending; +Inf is implicit).
/// Thread-safe, lock-free: observe() is a short scan plus two relaxed atomic adds, so a
/// concurrent render may see the buckets and the sum from slightly different instants (as in
/// every Prometheus client).
class histogram {
  public:
    /// Precondition: `bounds` strictly ascending and finite (checked by the registry).
    explicit histogram(std::vector<double> bounds);

    void observe(double v);

    [[nodiscard]] const std::vector<double>& bounds() const { return bounds_; }
    /// Cumulative count of observations <= bounds()[i]; i == bounds().size() is +Inf.
    [[nodiscard]] std::uint64_t cumulative_count(std::size_t i) const;
    /// Cumulative counts for every bucket, +Inf last, read in one pass (what render() uses, so
    /// a scrape's _count always equals its +Inf bucket).
    [[nodiscard]] std::vector<std::uint64_t> cumulative_counts() const;
    [[nodiscard]] std::uint64_t count() const { return cumulative_count(bounds_.size()); }
    [[nodiscard]] double sum() const { return sum_.load(std::memory_order_relaxed); }

  private:
    std::vector<double> bounds_;
    std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_; // per bucket, not cumulative
    std::atomic<double> sum_{0};
};

/// Default buckets for request latencies in seconds (0.5 ms .. 10 s).
std::vector<double> default_latency_buckets();

/// A labelled family: one series per distinct tuple of label values. Thread-safe.
template <class Metric> class family {
  public:
    static constexpr std::size_t max_series_per_family = 1000;

    /// Returns the series for these label values (in the order the label names were
    /// registered), creating it on first use. The reference stays valid for the life of the
    /// registry: look it up once and keep it where the label values are fixed.
    /// Precondition: values.size() == label_names().size() (else the "overflow" series).
    Metric& with(std::initializer_list<std::string_view> values);
    Metric& with(const std::vector<std::string>& values);

    [[nodiscard]] const std::vector<std::string>& label_names() const { return label_names_; }

    /// Calls f(label_values, metric) for every series in label-value order. Used by render().
    void
    for_each(const std::function<void(const std::vector<std::string>&, const Metric&)>& f) const;

  private:
    friend class metrics_registry;
    family(std::vector<std::string> label_names, std::function<std::unique_ptr<Metric>()> make);

    template <class Range> Metric& lookup(const Range& values);

    struct series {
        std::vector<std::string> values;
        std::unique_ptr<Metric> metric;
    };

    std::vector<std::string> label_names_;
    std::function<std::unique_ptr<Metric>()> make_;
    mutable std::mutex mutex_;
    std::map<std::string, series, std::less<>> series_; // key: values joined by '\xff'
};

using counter_family = family<counter>;
using gauge_family = family<gauge>;
using histogram_family = family<histogram>;

/// The registry: owns every metric, renders them all. Pass it in (no global instance).
///
/// Registering a name twice with the same kind and label names returns the existing metric
/// (two HTTP servers may share one registry); any other clash, an invalid metric or label
/// name, or invalid buckets is a programming error and throws std::invalid_argument at
/// start-up.
class metrics_registry {
  public:
    metrics_registry();
    ~metrics_registry();
    metrics_registry(const metrics_registry&) = delete;
    metrics_registry& operator=(const metrics_registry&) = delete;

    counter& add_counter(std::string_view name, std::string_view help);
    counter_family& add_counter_family(std::string_view name, std::string_view help,
                                       std::vector<std::string> label_names);

    gauge& add_gauge(std::string_view name, std::string_view help);
    gauge_family& add_gauge_family(std::string_view name, std::string_view help,
                                   std::vector<std::string> label_names);
    /// A gauge computed at render time. `read` runs on the scraping thread under the registry
    /// mutex: it must be cheap, thread-safe, must not call back into this registry, and must
    /// stay callable for as long as render() may run (or until remove_callback_gauge()).
    void add_callback_gauge(std::string_view name, std::string_view help,
                            std::function<double()> read);
    /// A counter kept elsewhere (e.g. a service's atomics) and read at render time; the same
    /// rules as add_callback_gauge. `read` must never decrease.
    void add_callback_counter(std::string_view name, std::string_view help,
                              std::function<double()> read);
    /// Drops a callback gauge or counter (for owners that die before the registry). No-op if
    /// absent.
    void remove_callback_gauge(std::string_view name);

    histogram& add_histogram(std::string_view name, std::string_view help,
                             std::vector<double> bounds);
    histogram_family& add_histogram_family(std::string_view name, std::string_view help,
                                           std::vector<std::string> label_names,
                                           std::vector<double> bounds);

    /// Prometheus text exposition format 0.0.4 (Content-Type "text/plain; version=0.0.4"):
    /// "# HELP" and "# TYPE" per metric, families in registration order, series sorted by
    /// label values.
    [[nodiscard]] std::string render() const;

  private:
    struct entry;
    entry& find_or_add(std::string_view name, std::string_view help, int kind,
                       const std::vector<std::string>& label_names,
                       const std::vector<double>* bounds);

    mutable std::mutex mutex_;
    std::vector<std::unique_ptr<entry>> entries_;
};

/// Escapes a label value for the exposition format (backslash, double quote, newline).
std::string escape_label_value(std::string_view v);
/// Formats a sample value: integers without a fraction, "+Inf", "-Inf", "NaN".
std::string format_sample_value(double v);

} // namespace livehouse::core
