// What the provider fakes share to serve: a WebSocket (and HTTP) listener on loopback built on the daemon's own
// server, and a streamed HTTP body that can be cut off halfway or start late (the scripted faults).
// Thread-safety: LoopbackServer is built and started from one thread, then port() is safe from any; its
// destructor stops and joins. stream_body is a plain function.
#pragma once

#include <memory>

#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "core/util/metrics.hpp"
#include "daemon/server/http_server.hpp"
#include "daemon/server/router.hpp"

namespace httplib {
class Server;
struct Response;
}

namespace va::fake {

class LoopbackServer {
public:
    LoopbackServer() = default;
    ~LoopbackServer();
    http::Router& router() { return m_router; }
    // Listens on 127.0.0.1:`port` (0: any) and serves on a thread of its own; routes must be added before.
    void start(int port, int worker_threads);
    int port() const { return m_server->port(); }

private:
    http::Router m_router;
    MetricsRegistry m_metrics;
    std::unique_ptr<http::HttpServer> m_server;
    std::thread m_thread;
};

// Runs `server` (already bound) on `thread` and returns once it accepts: httplib's stop() does nothing to a server
// that has not started listening yet, so stopping one too early would leave its thread running forever.
void serve_in_background(httplib::Server& server, std::thread& thread);

// A JSON answer (the fakes' error bodies) with `status`.
void answer_json(httplib::Response& res, int status, const nlohmann::json& body);

// Sends `bytes` as a chunked body, `chunk` bytes at a time; `delay_ms` before the first; `drop_halfway` ends the
// connection in the middle, as a failing service would.
void stream_body(httplib::Response& res, const std::string& content_type, std::string bytes, std::size_t chunk,
                 bool drop_halfway, int delay_ms);

}  // namespace va::fake
