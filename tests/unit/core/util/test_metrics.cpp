#include <catch2/catch.hpp>

#include <thread>

#include "core/util/metrics.hpp"

using namespace va;

TEST_CASE("metrics render counters, histograms and gauges in Prometheus text format") {
    MetricsRegistry registry;
    registry.describe_counter("requests_total", "Requests.");
    registry.counter("requests_total", {{"route", "/a"}, {"status", "200"}})->inc();
    registry.counter("requests_total", {{"route", "/a"}, {"status", "200"}})->inc(2);
    registry.counter("requests_total", {{"route", "say \"hi\"\\\n"}})->inc();
    registry.describe_histogram("latency_seconds", "Latency.", {0.1, 1});
    auto* h = registry.histogram("latency_seconds", {{"route", "/a"}});
    h->observe(0.05);
    h->observe(0.5);
    h->observe(5);
    registry.gauge("temperature", "Heat.", [] { return 21.5; });
    auto text = registry.render();
    CHECK(text.find("# HELP requests_total Requests.\n# TYPE requests_total counter\n") != std::string::npos);
    CHECK(text.find("requests_total{route=\"/a\",status=\"200\"} 3\n") != std::string::npos);
    CHECK(text.find(R"(requests_total{route="say \"hi\"\\\n"} 1)") != std::string::npos);
    CHECK(text.find("# TYPE latency_seconds histogram") != std::string::npos);
    CHECK(text.find("latency_seconds_bucket{route=\"/a\",le=\"0.1\"} 1\n") != std::string::npos);
    CHECK(text.find("latency_seconds_bucket{route=\"/a\",le=\"1\"} 2\n") != std::string::npos);
    CHECK(text.find("latency_seconds_bucket{route=\"/a\",le=\"+Inf\"} 3\n") != std::string::npos);
    CHECK(text.find("latency_seconds_sum{route=\"/a\"} 5.55\n") != std::string::npos);
    CHECK(text.find("latency_seconds_count{route=\"/a\"} 3\n") != std::string::npos);
    CHECK(text.find("# TYPE temperature gauge\ntemperature 21.5\n") != std::string::npos);
}

TEST_CASE("metric updates from many threads are not lost") {
    MetricsRegistry registry;
    auto* c = registry.counter("hits_total", {});
    auto* h = registry.histogram("lat", {});
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < 10000; ++i) {
                c->inc();
                h->observe(0.002);
            }
        });
    for (auto& t : threads) t.join();
    CHECK(c->value() == 40000);
    std::vector<std::uint64_t> cumulative;
    double sum = 0;
    std::uint64_t count = 0;
    h->snapshot(cumulative, sum, count);
    CHECK(count == 40000);
    CHECK(sum == Approx(80.0));
    CHECK(registry.counter("hits_total", {}) == c);  // same series, same pointer
}

TEST_CASE("a metric family holds a bounded number of label sets, and the rest are dropped and counted") {
    MetricsRegistry registry(3);
    for (int i = 0; i < 100; ++i) registry.counter("hits_total", {{"method", "M" + std::to_string(i)}})->inc();
    for (int i = 0; i < 100; ++i) registry.histogram("lat", {{"route", "/r" + std::to_string(i)}})->observe(0.1);
    // A label set that exists keeps working after the family is full.
    registry.counter("hits_total", {{"method", "M0"}})->inc();
    auto text = registry.render();
    CHECK(text.find("hits_total{method=\"M0\"} 2\n") != std::string::npos);
    CHECK(text.find("hits_total{method=\"M2\"} 1\n") != std::string::npos);
    CHECK(text.find("M3\"") == std::string::npos);
    CHECK(text.find("/r3\"") == std::string::npos);
    CHECK(registry.dropped_series() == 194);
    CHECK(text.find("voiceagent_metrics_series_dropped_total 194\n") != std::string::npos);
}
