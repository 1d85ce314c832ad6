#include "providers/fake/fake_server.hpp"

#include <httplib.h>

#include <chrono>

namespace va::fake {

LoopbackServer::~LoopbackServer() {
    if (!m_server) return;
    m_server->stop();
    if (m_thread.joinable()) m_thread.join();
}

void LoopbackServer::start(int port, int worker_threads) {
    http::ServerOptions options;
    options.port = port;
    options.io_threads = 1;
    options.worker_threads = worker_threads;
    options.access_log = false;
    options.idle_timeout_ms = 600000;
    m_server = std::make_unique<http::HttpServer>(options, m_router, m_metrics);
    m_server->start();
    m_thread = std::thread([this] { m_server->run(); });
}

void serve_in_background(httplib::Server& server, std::thread& thread) {
    thread = std::thread([&server] { server.listen_after_bind(); });
    while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

void answer_json(httplib::Response& res, int status, const nlohmann::json& body) {
    res.status = status;
    res.set_content(body.dump(), "application/json");
}

void stream_body(httplib::Response& res, const std::string& content_type, std::string bytes, std::size_t chunk,
                 bool drop_halfway, int delay_ms) {
    res.set_chunked_content_provider(
        content_type, [bytes = std::move(bytes), chunk, drop_halfway, delay_ms, sent = std::size_t(0)](
                          std::size_t, httplib::DataSink& sink) mutable {
            if (sent == 0 && delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
            if (drop_halfway && sent >= bytes.size() / 2) return false;
            if (sent >= bytes.size()) {
                sink.done();
                return true;
            }
            std::size_t n = std::min(chunk, bytes.size() - sent);
            sink.write(bytes.data() + sent, n);
            sent += n;
            return true;
        });
}

}  // namespace va::fake
