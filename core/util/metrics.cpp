#include "core/util/metrics.hpp"

#include <cmath>
#include <charconv>

namespace va {

namespace {

void atomic_add(std::atomic<double>& target, double v) {
    double current = target.load(std::memory_order_relaxed);
    while (!target.compare_exchange_weak(current, current + v, std::memory_order_relaxed)) {
    }
}

std::string escape_label(const std::string& v) {
    std::string out;
    for (char c : v) {
        if (c == '\\') out += "\\\\";
        else if (c == '"') out += "\\\"";
        else if (c == '\n') out += "\\n";
        else out += c;
    }
    return out;
}

std::string render_labels(const Labels& labels) {
    std::string out;
    for (const auto& [k, v] : labels) {
        out += out.empty() ? "" : ",";
        out += k + "=\"" + escape_label(v) + "\"";
    }
    return out;
}

std::string number(double v) {
    if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
    if (std::isnan(v)) return "NaN";
    char buf[64];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);  // shortest form that round-trips
    return std::string(buf, ec == std::errc() ? end : buf);
}

std::string with_extra(const std::string& labels, const std::string& extra) {
    if (labels.empty()) return "{" + extra + "}";
    return "{" + labels + "," + extra + "}";
}

}  // namespace

void Counter::inc(double v) { atomic_add(m_value, v); }

Histogram::Histogram(std::vector<double> bounds)
    : m_bounds(std::move(bounds)), m_buckets(new std::atomic<std::uint64_t>[m_bounds.size() + 1]) {
    for (std::size_t i = 0; i <= m_bounds.size(); ++i) m_buckets[i].store(0);
}

void Histogram::observe(double v) {
    std::size_t i = 0;
    while (i < m_bounds.size() && v > m_bounds[i]) ++i;
    m_buckets[i].fetch_add(1, std::memory_order_relaxed);
    atomic_add(m_sum, v);
    m_count.fetch_add(1, std::memory_order_relaxed);
}

void Histogram::snapshot(std::vector<std::uint64_t>& cumulative, double& sum, std::uint64_t& count) const {
    cumulative.assign(m_bounds.size() + 1, 0);
    std::uint64_t running = 0;
    for (std::size_t i = 0; i <= m_bounds.size(); ++i) {
        running += m_buckets[i].load(std::memory_order_relaxed);
        cumulative[i] = running;
    }
    sum = m_sum.load(std::memory_order_relaxed);
    count = running;
}

void MetricsRegistry::describe_counter(const std::string& name, const std::string& help) {
    std::lock_guard lock(m_mutex);
    auto& f = m_families[name];
    if (f.type.empty()) {
        f.type = "counter";
        f.help = help;
    }
}

void MetricsRegistry::describe_histogram(const std::string& name, const std::string& help, std::vector<double> bounds) {
    std::lock_guard lock(m_mutex);
    auto& f = m_families[name];
    if (f.type.empty()) {
        f.type = "histogram";
        f.help = help;
        f.bounds = std::move(bounds);
    }
}

void MetricsRegistry::gauge(const std::string& name, const std::string& help, std::function<double()> read) {
    std::lock_guard lock(m_mutex);
    auto& f = m_families[name];
    f.type = "gauge";
    f.help = help;
    f.read = std::move(read);
}

Counter* MetricsRegistry::counter(const std::string& name, const Labels& labels) {
    std::lock_guard lock(m_mutex);
    auto& f = m_families[name];
    if (f.type.empty()) f.type = "counter";
    std::string key = render_labels(labels);
    if (auto it = f.counters.find(key); it != f.counters.end()) return it->second.get();
    if (f.counters.size() >= m_max_series) {
        m_dropped.fetch_add(1, std::memory_order_relaxed);
        if (!f.overflow_counter) f.overflow_counter = std::make_unique<Counter>();
        return f.overflow_counter.get();
    }
    auto& slot = f.counters[std::move(key)];
    slot = std::make_unique<Counter>();
    return slot.get();
}

Histogram* MetricsRegistry::histogram(const std::string& name, const Labels& labels) {
    std::lock_guard lock(m_mutex);
    auto& f = m_families[name];
    if (f.type.empty()) {
        f.type = "histogram";
        f.bounds = latency_buckets_s();
    }
    std::string key = render_labels(labels);
    if (auto it = f.histograms.find(key); it != f.histograms.end()) return it->second.get();
    if (f.histograms.size() >= m_max_series) {
        m_dropped.fetch_add(1, std::memory_order_relaxed);
        if (!f.overflow_histogram) f.overflow_histogram = std::make_unique<Histogram>(f.bounds);
        return f.overflow_histogram.get();
    }
    auto& slot = f.histograms[std::move(key)];
    slot = std::make_unique<Histogram>(f.bounds);
    return slot.get();
}

std::string MetricsRegistry::render() const {
    std::lock_guard lock(m_mutex);
    std::string out;
    for (const auto& [name, f] : m_families) {
        if (!f.help.empty()) out += "# HELP " + name + " " + f.help + "\n";
        out += "# TYPE " + name + " " + f.type + "\n";
        if (f.type == "gauge") {
            if (f.read) out += name + " " + number(f.read()) + "\n";
        } else if (f.type == "counter") {
            for (const auto& [labels, c] : f.counters)
                out += name + (labels.empty() ? "" : "{" + labels + "}") + " " + number(c->value()) + "\n";
        } else {
            std::vector<std::uint64_t> cumulative;
            double sum = 0;
            std::uint64_t count = 0;
            for (const auto& [labels, h] : f.histograms) {
                h->snapshot(cumulative, sum, count);
                for (std::size_t i = 0; i < h->bounds().size(); ++i)
                    out += name + "_bucket" + with_extra(labels, "le=\"" + number(h->bounds()[i]) + "\"") + " " +
                           std::to_string(cumulative[i]) + "\n";
                out += name + "_bucket" + with_extra(labels, "le=\"+Inf\"") + " " + std::to_string(count) + "\n";
                std::string braces = labels.empty() ? "" : "{" + labels + "}";
                out += name + "_sum" + braces + " " + number(sum) + "\n";
                out += name + "_count" + braces + " " + std::to_string(count) + "\n";
            }
        }
    }
    out += "# HELP voiceagent_metrics_series_dropped_total Label sets refused because their metric family was full.\n"
           "# TYPE voiceagent_metrics_series_dropped_total counter\n"
           "voiceagent_metrics_series_dropped_total " +
           std::to_string(m_dropped.load(std::memory_order_relaxed)) + "\n";
    return out;
}

std::vector<double> latency_buckets_s() {
    return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

}  // namespace va
