// Internal to daemon/server: the state the listener, the HTTP sessions and the WebSocket sessions share
// (HttpServer::Impl), with Beast and Asio visible. Only the server's own .cpp files include it.
// Thread-safety: options, router, metrics, cors, limiter and the loops are safe to use from any I/O thread (each
// loop is run by one thread; posting to it is safe from any); the session maps are guarded by sessions_mutex; the
// acceptor, accept timer, grace timer and the round robin belong to loop 0 and are used only from the accept chain
// (one outstanding operation at a time) and from stop(), which posts onto loop 0.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "daemon/server/connection_limits.hpp"
#include "daemon/server/http_server.hpp"
#include "daemon/server/request_metrics.hpp"
#include "daemon/server/response_headers.hpp"

namespace va::http {

namespace net = boost::asio;
namespace beast = boost::beast;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

class Session;
class WsSession;

struct HttpServer::Impl {
    ServerOptions options;
    const Router& router;
    RequestMetrics request_metrics;
    CorsPolicy cors;
    // Declared before the io_context: sessions destroyed with its pending handlers still release their slots.
    ConnectionLimiter limiter;
    LogRateLimiter accept_log{std::chrono::seconds(5)};    // accept failures
    LogRateLimiter refusal_log{std::chrono::seconds(5)};   // connections refused by a cap
    // One loop per I/O thread. Loop 0 also holds the acceptor and the server's timers, and sessions of any loop post
    // finish_if_drained to it; connections are handed out round robin (next_loop()).
    std::vector<std::unique_ptr<net::io_context>> loops;
    net::io_context& ioc;  // loop 0
    std::size_t next_loop_index = 0;
    tcp::acceptor acceptor{ioc};
    net::steady_timer accept_timer{ioc};            // the pause after running out of descriptors
    std::chrono::milliseconds accept_backoff{0};    // 0 while accepts succeed
    std::optional<net::thread_pool> workers;
    std::vector<std::thread> threads;
    std::atomic<bool> draining{false};
    std::atomic<bool> stopping{false};
    net::steady_timer grace_timer{ioc};
    int bound_port = 0;

    std::mutex sessions_mutex;
    std::unordered_map<Session*, std::weak_ptr<Session>> sessions;
    std::unordered_map<WsSession*, std::weak_ptr<WsSession>> ws_sessions;

    Impl(ServerOptions o, const Router& r, MetricsRegistry& m);  // http_server.cpp
    ~Impl();

    net::io_context& next_loop();      // the loop for the next accepted connection
    void do_accept();                  // accept_loop.cpp
    void admit(tcp::socket socket);    // accept_loop.cpp: caps, then a Session
    // The last session of a draining server lets run() return.
    void finish_if_drained();
};

}  // namespace va::http
