// A small Prometheus metrics registry: counters and histograms with labels, rendered in the text exposition format
// (version 0.0.4). Series are created on first use and live as long as the registry; the pointers returned by
// counter()/histogram() stay valid, so hot paths look a series up once and keep it. Each family holds at most
// max_series_per_family label sets: past that, new label sets share one unrendered sink series and are counted in
// voiceagent_metrics_series_dropped_total, so no label fed by outside input can grow memory or /metrics unbounded.
// Thread-safety: all methods are safe from any thread; updates to a series are lock-free atomics.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace va {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Counter {
public:
    void inc(double v = 1.0);
    double value() const { return m_value.load(std::memory_order_relaxed); }

private:
    std::atomic<double> m_value{0.0};
};

class Histogram {
public:
    explicit Histogram(std::vector<double> bounds);
    void observe(double v);
    const std::vector<double>& bounds() const { return m_bounds; }
    // Snapshot: cumulative counts per bound (+Inf last), sum and count.
    void snapshot(std::vector<std::uint64_t>& cumulative, double& sum, std::uint64_t& count) const;

private:
    std::vector<double> m_bounds;
    std::unique_ptr<std::atomic<std::uint64_t>[]> m_buckets;  // one per bound plus +Inf
    std::atomic<double> m_sum{0.0};
    std::atomic<std::uint64_t> m_count{0};
};

class MetricsRegistry {
public:
    static constexpr std::size_t default_max_series_per_family = 2000;
    explicit MetricsRegistry(std::size_t max_series_per_family = default_max_series_per_family)
        : m_max_series(max_series_per_family) {}

    // Declares a family (name, help text, and for histograms the bucket upper bounds). Re-declaring is a no-op.
    void describe_counter(const std::string& name, const std::string& help);
    void describe_histogram(const std::string& name, const std::string& help, std::vector<double> bounds);
    // A gauge whose value is read when rendering (process figures, live call counts).
    void gauge(const std::string& name, const std::string& help, std::function<double()> read);

    Counter* counter(const std::string& name, const Labels& labels);
    Histogram* histogram(const std::string& name, const Labels& labels);

    std::string render() const;
    // Label sets refused because their family was full (also rendered as voiceagent_metrics_series_dropped_total).
    std::uint64_t dropped_series() const { return m_dropped.load(std::memory_order_relaxed); }

private:
    struct Family {
        std::string help;
        std::string type;  // counter | histogram | gauge
        std::vector<double> bounds;
        std::map<std::string, std::unique_ptr<Counter>> counters;      // key: rendered label set
        std::map<std::string, std::unique_ptr<Histogram>> histograms;
        std::function<double()> read;
        // Where updates for label sets beyond the cap go: kept so callers always get a valid pointer, never rendered.
        std::unique_ptr<Counter> overflow_counter;
        std::unique_ptr<Histogram> overflow_histogram;
    };
    std::size_t m_max_series;
    std::atomic<std::uint64_t> m_dropped{0};
    mutable std::mutex m_mutex;
    std::map<std::string, Family> m_families;
};

// Latency buckets in seconds suited to request and pipeline stages (1 ms .. 10 s).
std::vector<double> latency_buckets_s();

}  // namespace va
