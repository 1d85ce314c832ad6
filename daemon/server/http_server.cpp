// The listener's life cycle: bind, run the I/O threads, and the graceful stop (stop accepting, let in-flight
// requests finish within the grace period, then close what is left). The accept chain is in accept_loop.cpp, one
// connection in http_session.cpp, an upgraded one in ws_session.cpp.
#include "daemon/server/http_server.hpp"

#include <boost/asio/post.hpp>

#include "core/util/guard.hpp"
#include "daemon/server/http_session.hpp"
#include "daemon/server/server_impl.hpp"
#include "daemon/server/ws_session.hpp"

namespace va::http {

void HttpServer::Impl::finish_if_drained() {
    std::lock_guard lock(sessions_mutex);
    if (sessions.empty() && ws_sessions.empty()) grace_timer.cancel();
}

HttpServer::HttpServer(ServerOptions options, const Router& router, MetricsRegistry& metrics)
    : m_impl(std::make_unique<Impl>(std::move(options), router, metrics)) {}

HttpServer::~HttpServer() {
    if (!m_impl->threads.empty()) {
        stop();
        for (auto& t : m_impl->threads)
            if (t.joinable()) t.join();
    }
}

void HttpServer::start() {
    auto& impl = *m_impl;
    auto address = net::ip::make_address(impl.options.host);
    tcp::endpoint endpoint(address, static_cast<unsigned short>(impl.options.port));
    impl.acceptor.open(endpoint.protocol());
    impl.acceptor.set_option(net::socket_base::reuse_address(true));
    impl.acceptor.bind(endpoint);
    impl.acceptor.listen(net::socket_base::max_listen_connections);
    impl.bound_port = impl.acceptor.local_endpoint().port();
    impl.workers.emplace(static_cast<std::size_t>(impl.options.worker_threads));
    impl.do_accept();
}

int HttpServer::port() const { return m_impl->bound_port; }

bool HttpServer::draining() const { return m_impl->draining; }

std::size_t HttpServer::open_connections() const { return m_impl->limiter.open(); }

void HttpServer::run() {
    auto& impl = *m_impl;
    // A handler that throws must not end the process: run() is entered again and the other connections go on.
    for (int i = 1; i < impl.options.io_threads; ++i)
        impl.threads.emplace_back([&impl] { run_loop_guarded("http io thread", [&impl] { impl.ioc.run(); }, 0); });
    run_loop_guarded("http io thread", [&impl] { impl.ioc.run(); }, 0);
    for (auto& t : impl.threads)
        if (t.joinable()) t.join();
    impl.threads.clear();
    if (impl.workers) impl.workers->join();
}

namespace {

template <class S>
std::vector<std::shared_ptr<S>> live(std::mutex& mutex, std::unordered_map<S*, std::weak_ptr<S>>& map) {
    std::vector<std::shared_ptr<S>> out;
    std::lock_guard lock(mutex);
    for (auto& [raw, weak] : map)
        if (auto s = weak.lock()) out.push_back(std::move(s));
    return out;
}

}  // namespace

void HttpServer::stop() {
    auto& impl = *m_impl;
    if (impl.stopping.exchange(true)) return;
    net::post(impl.ioc, [&impl] {
        impl.draining = true;
        beast::error_code ec;
        impl.acceptor.close(ec);
        impl.accept_timer.cancel();
        auto sessions = live(impl.sessions_mutex, impl.sessions);
        for (auto& s : sessions) net::post(s->get_executor_for_drain(), [s] { s->drain(); });
        auto sockets = live(impl.sessions_mutex, impl.ws_sessions);
        for (auto& s : sockets) net::post(s->executor(), [s] { s->drain(); });
        // After the grace period, whatever is still open is closed; run() returns once no work remains.
        impl.grace_timer.expires_after(std::chrono::milliseconds(impl.options.shutdown_grace_ms));
        impl.grace_timer.async_wait([&impl](beast::error_code) {
            for (auto& s : live(impl.sessions_mutex, impl.sessions))
                net::post(s->get_executor_for_drain(), [s] { s->close(); });
            for (auto& s : live(impl.sessions_mutex, impl.ws_sessions)) net::post(s->executor(), [s] { s->abort(); });
        });
        if (sessions.empty() && sockets.empty()) impl.grace_timer.cancel();
    });
}

}  // namespace va::http
