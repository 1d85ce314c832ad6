// The listener's life cycle: bind, run one event loop per I/O thread, and the graceful stop (stop accepting, let
// in-flight requests finish within the grace period, then close what is left). The accept chain is in
// accept_loop.cpp, one connection in http_session.cpp, an upgraded one in ws_session.cpp.
#include "daemon/server/http_server.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include "core/util/guard.hpp"
#include "daemon/server/http_session.hpp"
#include "daemon/server/server_impl.hpp"
#include "daemon/server/ws_session.hpp"

namespace va::http {

namespace {

// Each loop is run by exactly one thread (concurrency hint 1): Asio then queues what that thread posts to its own
// loop without locking or waking anyone.
std::vector<std::unique_ptr<net::io_context>> make_loops(int io_threads) {
    std::vector<std::unique_ptr<net::io_context>> loops;
    for (int i = 0; i < std::max(1, io_threads); ++i) loops.push_back(std::make_unique<net::io_context>(1));
    return loops;
}

}  // namespace

HttpServer::Impl::Impl(ServerOptions o, const Router& r, MetricsRegistry& m)
    : options(std::move(o)),
      router(r),
      request_metrics(m),
      cors(options.cors_origins),
      limiter(options.max_connections, options.max_connections_per_ip),
      loops(make_loops(options.io_threads)),
      ioc(*loops.front()) {}

HttpServer::Impl::~Impl() {
    // The secondary loops go first: a session torn down with their pending handlers still posts to loop 0.
    while (loops.size() > 1) loops.pop_back();
}

net::io_context& HttpServer::Impl::next_loop() { return *loops[next_loop_index++ % loops.size()]; }

void HttpServer::Impl::finish_if_drained() {
    std::lock_guard lock(sessions_mutex);
    if (sessions.empty() && ws_sessions.empty()) grace_timer.cancel();
}

HttpServer::HttpServer(ServerOptions options, const Router& router, MetricsRegistry& metrics)
    : m_impl(std::make_unique<Impl>(std::move(options), router, metrics)) {}

HttpServer::~HttpServer() {
    auto& impl = *m_impl;
    if (!impl.threads.empty()) {
        stop();
        for (auto& t : impl.threads)
            if (t.joinable()) t.join();
    }
    if (impl.acceptor.is_open()) {
        // Started but never run: the pending accept holds a strand of another loop, so it completes (cancelled)
        // now, while every loop still exists.
        beast::error_code ec;
        impl.acceptor.close(ec);
        impl.ioc.restart();
        run_guarded("http server teardown", [&impl] { impl.ioc.poll(); });
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

namespace {

// One I/O thread: the owner's hook sees the loop first (a hook that throws is logged; the loop runs anyway), then
// the loop runs until it is out of work. A handler that throws must not end the process: run() is entered again
// and the other connections go on.
void run_loop(const ServerOptions& options, net::io_context& loop) {
    if (options.on_loop_thread) run_guarded("http io thread hook", [&] { options.on_loop_thread(loop); });
    run_loop_guarded("http io thread", [&loop] { loop.run(); }, 0);
}

}  // namespace

void HttpServer::run() {
    auto& impl = *m_impl;
    // Until loop 0 is done, the other loops must not end merely because no connection is on them right now.
    std::vector<net::executor_work_guard<net::io_context::executor_type>> idle_guards;
    for (std::size_t i = 1; i < impl.loops.size(); ++i) idle_guards.push_back(net::make_work_guard(*impl.loops[i]));
    for (std::size_t i = 1; i < impl.loops.size(); ++i)
        impl.threads.emplace_back([&impl, i] { run_loop(impl.options, *impl.loops[i]); });
    run_loop(impl.options, impl.ioc);
    // Loop 0 holds the acceptor and the grace timer, so it is out of work only once the server has stopped and
    // drained (or the grace period is over and the rest was told to close). The other loops then finish what is
    // left on them (closing handshakes, teardown) and return.
    idle_guards.clear();
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
    // On loop 0, which owns the acceptor and the grace timer; each session is told on its own loop.
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
