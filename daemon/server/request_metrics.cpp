#include "daemon/server/request_metrics.hpp"

#include <array>

namespace va::http {

std::string_view method_label(std::string_view method) {
    static constexpr std::array<std::string_view, 9> known{"GET",     "HEAD",    "POST",  "PUT",  "PATCH",
                                                           "DELETE",  "OPTIONS", "CONNECT", "TRACE"};
    for (auto k : known)
        if (k == method) return k;
    return "other";
}

RequestMetrics::RequestMetrics(MetricsRegistry& metrics) : m_metrics(metrics) {
    metrics.describe_counter("voiceagent_http_requests_total", "HTTP requests by method, route and status.");
    metrics.describe_histogram("voiceagent_http_request_duration_seconds",
                               "HTTP request latency from full request read to response written.",
                               latency_buckets_s());
    metrics.describe_counter("voiceagent_http_connections_refused_total",
                             "Connections accepted and closed at once because a connection cap was reached.");
    m_refused_global = metrics.counter("voiceagent_http_connections_refused_total", {{"reason", "max_connections"}});
    m_refused_per_ip =
        metrics.counter("voiceagent_http_connections_refused_total", {{"reason", "max_connections_per_ip"}});
    metrics.describe_counter("voiceagent_http_accept_failures_total",
                             "Failed accepts (such as running out of file descriptors).");
    m_accept_failures = metrics.counter("voiceagent_http_accept_failures_total", {});
    metrics.describe_counter("voiceagent_websocket_slow_consumers_total",
                             "WebSockets closed (1008) because their peer did not read fast enough.");
    m_slow_consumers = metrics.counter("voiceagent_websocket_slow_consumers_total", {});
}

void RequestMetrics::record(std::string_view method, const std::string& route, int status, double seconds) {
    std::string_view m = method_label(method);
    std::string status_label = status >= 100 && status <= 999 ? std::to_string(status) : "other";
    std::string key = std::string(m) + ' ' + route + ' ' + status_label;
    Counter* counter;
    Histogram* histogram;
    {
        std::lock_guard lock(m_mutex);
        auto& c = m_counters[key];
        if (!c)
            c = m_metrics.counter("voiceagent_http_requests_total",
                                  {{"method", std::string(m)}, {"route", route}, {"status", status_label}});
        counter = c;
        auto& h = m_histograms[route];
        if (!h) h = m_metrics.histogram("voiceagent_http_request_duration_seconds", {{"route", route}});
        histogram = h;
    }
    counter->inc();
    histogram->observe(seconds);
}

void RequestMetrics::connection_refused(const char* reason) {
    (std::string_view(reason) == "max_connections" ? m_refused_global : m_refused_per_ip)->inc();
}

void RequestMetrics::accept_failed() { m_accept_failures->inc(); }

void RequestMetrics::slow_consumer() { m_slow_consumers->inc(); }

}  // namespace va::http
