// The daemon's single listener: HTTP/1.1 with keep-alive on Boost.Asio/Beast (kept out of this header), with
// header and body size limits (413), read and idle timeouts, a Prometheus request counter and latency histogram
// per route and status (bounded labels), an escaped access log, security headers and optional CORS on every
// answer, caps on open connections (global and per client address), a back-off when descriptors run out, and
// graceful shutdown (stop accepting, let in-flight requests finish within a grace period, then close). WebSocket
// upgrades go to the route's accept function; each socket's send queue is capped. Each I/O thread runs an event loop
// of its own and each accepted connection goes to the next loop in turn, so a connection and all it posts stay on
// one thread (no hand-over of one shared loop between threads, with its wake-ups, on every audio frame).
// Thread-safety: construct, add routes, then start() from one thread; stop() may be called from any thread
// (signal handling); port() is safe after start(). on_loop_thread runs on each I/O thread, before its loop.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/util/metrics.hpp"
#include "daemon/server/client_address.hpp"
#include "daemon/server/router.hpp"

namespace boost::asio {
class io_context;
}

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
    // Open connections (HTTP and WebSocket); beyond either cap a new one gets a 503 and is closed. 0: no cap.
    std::size_t max_connections = 4096;
    std::size_t max_connections_per_ip = 512;
    // A WebSocket whose unsent messages exceed either cap is closed with 1008 "slow consumer"; 0: no cap.
    std::size_t ws_max_queue_messages = 4096;
    std::size_t ws_max_queue_bytes = 4 * 1024 * 1024;
    int ws_close_grace_ms = 2000;  // then a socket that cannot even take the close frame is torn down
    // Origins (scheme://host[:port]) whose browsers may call the API; empty: no CORS headers at all.
    std::vector<std::string> cors_origins;
    // Called on each I/O thread with the loop that thread is about to run (run()'s own thread included), so what
    // the thread's connections start (a provider's WebSocket) can run on the same loop. An exception is logged.
    std::function<void(boost::asio::io_context&)> on_loop_thread;
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
    // Runs the I/O threads (the calling thread is the first) until stop() completes; returns after every thread
    // has joined.
    void run();
    // Stops accepting; in-flight requests finish (up to the grace period); then run() returns.
    void stop();
    bool draining() const;
    // Connections holding a slot under the caps (HTTP and WebSocket).
    std::size_t open_connections() const;

    struct Impl;  // defined in http_server.cpp (keeps Beast out of this header)

private:
    std::unique_ptr<Impl> m_impl;
};

}  // namespace va::http
