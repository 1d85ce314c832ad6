// The daemon's single listener: HTTP/1.1 with keep-alive on Boost.Asio/Beast (kept out of this header), with
// header and body size limits (413), read and idle timeouts, a Prometheus request counter and latency histogram
// per route and status, a structured access log, and graceful shutdown (stop accepting, let in-flight requests
// finish within a grace period, then close). WebSocket upgrades are handed to a registered upgrade handler
// (added with the media and event issues).
// Thread-safety: construct, add routes, then start() from one thread; stop() may be called from any thread
// (signal handling); port() is safe after start().
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/util/metrics.hpp"
#include "daemon/server/client_address.hpp"
#include "daemon/server/router.hpp"

namespace va::http {

struct ServerOptions {
    std::string host = "127.0.0.1";
    int port = 0;
    int io_threads = 2;
    int worker_threads = 4;
    std::size_t max_header_bytes = 16 * 1024;
    std::size_t max_body_bytes = 1024 * 1024;
    int read_timeout_ms = 15000;
    int idle_timeout_ms = 60000;
    int shutdown_grace_ms = 10000;
    bool access_log = true;
    TrustedProxies trusted_proxies;  // whose X-Forwarded-For / Forwarded is believed (server.trusted_proxies)
};

class HttpServer {
public:
    HttpServer(ServerOptions options, const Router& router, MetricsRegistry& metrics);
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    // Binds and listens; throws std::runtime_error when the address cannot be bound.
    void start();
    // The bound port (useful with port 0).
    int port() const;
    // Runs the I/O threads until stop() completes; returns after every thread has joined.
    void run();
    // Stops accepting; in-flight requests finish (up to the grace period); then run() returns.
    void stop();
    bool draining() const;

    struct Impl;  // defined in http_server.cpp (keeps Beast out of this header)

private:
    std::unique_ptr<Impl> m_impl;
};

}  // namespace va::http
