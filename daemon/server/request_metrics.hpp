// The HTTP server's Prometheus figures: requests by method, route and status, latency by route, refused connections
// and accept failures. Every label is bounded whatever clients send: a method outside the standard set is "other",
// a path that matched no route is "unmatched" (the route label is always a route pattern or a fixed word), and a
// status is its three digits. Series are looked up once per label set, then updated lock-free.
// Thread-safety: all methods are safe from any thread.
#pragma once

#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/util/metrics.hpp"

namespace va::http {

// The method's own name for GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS, CONNECT and TRACE; "other" otherwise.
std::string_view method_label(std::string_view method);

class RequestMetrics {
public:
    explicit RequestMetrics(MetricsRegistry& metrics);

    // `route` is a route pattern or a fixed word ("unmatched", "cors_preflight"), never a raw path.
    void record(std::string_view method, const std::string& route, int status, double seconds);
    // `reason`: "max_connections" or "max_connections_per_ip".
    void connection_refused(const char* reason);
    void accept_failed();
    void slow_consumer();

private:
    MetricsRegistry& m_metrics;
    std::mutex m_mutex;
    std::unordered_map<std::string, Counter*> m_counters;
    std::unordered_map<std::string, Histogram*> m_histograms;
    Counter* m_refused_global;
    Counter* m_refused_per_ip;
    Counter* m_accept_failures;
    Counter* m_slow_consumers;
};

}  // namespace va::http
