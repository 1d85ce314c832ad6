// The only translation unit that includes Beast for HTTP. One acceptor; each connection is a Session on its own
// strand; handlers run inline on the I/O thread or, for slow routes, on a worker pool.
#include "daemon/server/http_server.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <spdlog/spdlog.h>

#include <atomic>
#include <deque>
#include <chrono>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include "core/util/strings.hpp"
#include "daemon/server/request_parse.hpp"

namespace va::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace bws = boost::beast::websocket;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

std::string error_body(const char* code, const std::string& message) {
    std::string escaped;
    for (char c : message) {
        if (c == '"' || c == '\\') escaped += '\\';
        escaped += c;
    }
    return std::string(R"({"error":{"code":")") + code + R"(","message":")" + escaped + R"(","details":[]}})";
}

Response error_response(int status, const char* code, const std::string& message) {
    Response r;
    r.status = status;
    r.body = error_body(code, message);
    return r;
}

}  // namespace

class Session;
class WsSession;

struct HttpServer::Impl {
    ServerOptions options;
    const Router& router;
    MetricsRegistry& metrics;
    net::io_context ioc;
    tcp::acceptor acceptor{ioc};
    std::optional<net::thread_pool> workers;
    std::vector<std::thread> threads;
    std::atomic<bool> draining{false};
    std::atomic<bool> stopping{false};
    net::steady_timer grace_timer{ioc};
    int bound_port = 0;

    std::mutex sessions_mutex;
    std::unordered_map<Session*, std::weak_ptr<Session>> sessions;
    std::unordered_map<WsSession*, std::weak_ptr<WsSession>> ws_sessions;

    // Request metrics by (method, route, status): looked up once per combination, then lock-free updates.
    std::mutex metrics_mutex;
    std::unordered_map<std::string, Counter*> counters;
    std::unordered_map<std::string, Histogram*> histograms;

    Impl(ServerOptions o, const Router& r, MetricsRegistry& m) : options(std::move(o)), router(r), metrics(m) {
        metrics.describe_counter("voiceagent_http_requests_total", "HTTP requests by method, route and status.");
        metrics.describe_histogram("voiceagent_http_request_duration_seconds",
                                   "HTTP request latency from full request read to response written.",
                                   latency_buckets_s());
    }

    void record(const std::string& method, const std::string& route, int status, double seconds) {
        std::string key = method + ' ' + route + ' ' + std::to_string(status);
        Counter* counter;
        Histogram* histogram;
        {
            std::lock_guard lock(metrics_mutex);
            auto& c = counters[key];
            if (!c)
                c = metrics.counter("voiceagent_http_requests_total",
                                    {{"method", method}, {"route", route}, {"status", std::to_string(status)}});
            counter = c;
            auto& h = histograms[route];
            if (!h) h = metrics.histogram("voiceagent_http_request_duration_seconds", {{"route", route}});
            histogram = h;
        }
        counter->inc();
        histogram->observe(seconds);
    }

    void do_accept();
    void finish_if_drained();
};


// One upgraded connection. Reads run continuously; writes are queued so handlers may send from any thread.
class WsSession : public WsConnection, public std::enable_shared_from_this<WsSession> {
public:
    WsSession(beast::tcp_stream&& stream, std::unique_ptr<WsHandler> handler, std::string remote,
              HttpServer::Impl& server)
        : m_ws(std::move(stream)), m_handler(std::move(handler)), m_remote(std::move(remote)), m_server(server) {}

    ~WsSession() override {
        std::lock_guard lock(m_server.sessions_mutex);
        m_server.ws_sessions.erase(this);
        if (m_server.draining && m_server.sessions.empty() && m_server.ws_sessions.empty())
            net::post(m_server.ioc, [impl = &m_server] { impl->finish_if_drained(); });
    }

    void start(bhttp::request<bhttp::string_body> upgrade) {
        {
            std::lock_guard lock(m_server.sessions_mutex);
            m_server.ws_sessions.emplace(this, weak_from_this());
        }
        beast::get_lowest_layer(m_ws).expires_never();
        m_ws.set_option(bws::stream_base::timeout::suggested(beast::role_type::server));
        m_ws.set_option(bws::stream_base::decorator(
            [](bws::response_type& res) { res.set(bhttp::field::server, "voiceagentd"); }));
        m_ws.read_message_max(m_server.options.max_body_bytes);
        auto req = std::make_shared<bhttp::request<bhttp::string_body>>(std::move(upgrade));
        m_ws.async_accept(*req, [self = shared_from_this(), req](beast::error_code ec) {
            if (ec) return self->finish();
            self->m_open = true;
            self->m_handler->on_open(self);
            self->read();
        });
    }

    void send_text(std::string message) override { enqueue(std::move(message), false); }
    void send_binary(std::string message) override { enqueue(std::move(message), true); }

    void close(int code, std::string reason) override {
        net::post(m_ws.get_executor(), [self = shared_from_this(), code, reason = std::move(reason)]() mutable {
            if (!self->m_open || self->m_closing) return;
            self->m_closing = true;
            self->m_close_reason.code = static_cast<std::uint16_t>(code);
            self->m_close_reason.reason = std::string_view(reason).substr(0, 123);  // a close frame's limit
            if (!self->m_writing) self->do_close();
        });
    }

    const std::string& remote_address() const override { return m_remote; }

    void post(std::function<void()> fn) override {
        net::post(m_ws.get_executor(), [self = shared_from_this(), fn = std::move(fn)] { fn(); });
    }

    void post_after(int ms, std::function<void()> fn) override {
        auto timer = std::make_shared<net::steady_timer>(m_ws.get_executor(), std::chrono::milliseconds(std::max(0, ms)));
        // Timers hold the session alive; they are cancelled when the connection ends (finish), so a long one (the
        // maximum call length) does not keep a finished call's memory for minutes.
        net::dispatch(m_ws.get_executor(), [self = shared_from_this(), timer] {
            if (!self->m_open) {
                timer->cancel();
                return;
            }
            std::erase_if(self->m_timers, [](const std::weak_ptr<net::steady_timer>& t) { return t.expired(); });
            self->m_timers.push_back(timer);
        });
        timer->async_wait([self = shared_from_this(), timer, fn = std::move(fn)](beast::error_code ec) {
            if (!ec) fn();
        });
    }

    std::int64_t monotonic_ms() const override {
        return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch()).count();
    }

    void run_blocking(std::function<void()> work, std::function<void()> then) override {
        net::post(*m_server.workers, [self = shared_from_this(), work = std::move(work), then = std::move(then),
                                      guard = net::make_work_guard(m_server.ioc)]() mutable {
            try {
                work();
            } catch (const std::exception& e) {
                spdlog::error("blocking work failed: {}", e.what());
            }
            net::post(self->m_ws.get_executor(), [self, then = std::move(then)] { then(); });
        });
    }

private:
    void enqueue(std::string message, bool binary) {
        net::post(m_ws.get_executor(), [self = shared_from_this(), message = std::move(message), binary]() mutable {
            if (!self->m_open || self->m_closing) return;
            self->m_queue.emplace_back(std::move(message), binary);
            if (!self->m_writing) self->write_next();
        });
    }

    void write_next() {
        if (m_queue.empty()) {
            m_writing = false;
            if (m_closing) do_close();
            return;
        }
        m_writing = true;
        m_ws.binary(m_queue.front().second);
        m_ws.async_write(net::buffer(m_queue.front().first), [self = shared_from_this()](beast::error_code ec, std::size_t) {
            self->m_queue.pop_front();
            if (ec) {
                self->m_queue.clear();
                self->m_writing = false;
                return;
            }
            self->write_next();
        });
    }

    void do_close() {
        m_ws.async_close(m_close_reason, [self = shared_from_this()](beast::error_code) { self->finish(); });
    }

    void read() {
        m_ws.async_read(m_buffer, [self = shared_from_this()](beast::error_code ec, std::size_t) {
            if (ec) return self->finish();
            std::string_view data(static_cast<const char*>(self->m_buffer.cdata().data()), self->m_buffer.size());
            try {
                if (self->m_ws.got_text()) self->m_handler->on_text(data);
                else self->m_handler->on_binary(data);
            } catch (const std::exception& e) {
                spdlog::error("websocket handler failed: {}", e.what());
                self->m_buffer.consume(self->m_buffer.size());
                self->m_closing = true;
                self->m_close_reason = bws::close_reason(bws::close_code::internal_error, "internal error");
                if (!self->m_writing) self->do_close();
                return;
            }
            self->m_buffer.consume(self->m_buffer.size());
            self->read();
        });
    }

    void finish() {
        m_open = false;
        for (auto& weak : m_timers)
            if (auto timer = weak.lock()) timer->cancel();
        m_timers.clear();
        if (m_handler && !m_finished) {
            m_finished = true;
            m_handler->on_close();
        }
    }

public:
    void drain() {
        // The server is stopping: tell the peer we are going away.
        if (m_open && !m_closing) {
            m_closing = true;
            m_close_reason = bws::close_reason(bws::close_code::going_away, "server shutting down");
            if (!m_writing) do_close();
        }
    }
    net::any_io_executor executor() { return m_ws.get_executor(); }
    // The grace period is over and the peer has not answered our close: drop the connection.
    void abort() {
        beast::error_code ec;
        beast::get_lowest_layer(m_ws).socket().close(ec);
    }

private:
    bws::stream<beast::tcp_stream> m_ws;
    std::unique_ptr<WsHandler> m_handler;
    std::string m_remote;
    HttpServer::Impl& m_server;
    beast::flat_buffer m_buffer;
    std::deque<std::pair<std::string, bool>> m_queue;
    std::vector<std::weak_ptr<net::steady_timer>> m_timers;
    bws::close_reason m_close_reason;
    bool m_open = false;
    bool m_writing = false;
    bool m_closing = false;
    bool m_finished = false;
};

class Session : public std::enable_shared_from_this<Session> {
public:
    Session(tcp::socket socket, HttpServer::Impl& server)
        : m_stream(std::move(socket)), m_server(server), m_idle_timer(m_stream.get_executor()) {
        beast::error_code ec;
        auto endpoint = m_stream.socket().remote_endpoint(ec);
        if (!ec) {
            auto address = endpoint.address();
            if (address.is_v6() && address.to_v6().is_v4_mapped())
                address = net::ip::make_address_v4(net::ip::v4_mapped, address.to_v6());
            m_remote = address.to_string();
            m_loopback = address.is_loopback();
        }
    }

    ~Session() {
        std::lock_guard lock(m_server.sessions_mutex);
        m_server.sessions.erase(this);
        // The last session of a draining server lets run() return.
        if (m_server.draining && m_server.sessions.empty() && m_server.ws_sessions.empty())
            net::post(m_server.ioc, [impl = &m_server] { impl->finish_if_drained(); });
    }

    void start() {
        {
            std::lock_guard lock(m_server.sessions_mutex);
            m_server.sessions.emplace(this, weak_from_this());
        }
        net::dispatch(m_stream.get_executor(), [self = shared_from_this()] { self->wait_for_request(); });
    }

    // Called (on the strand) when the server starts draining: idle connections close now, busy ones after their
    // response.
    void drain() {
        if (m_idle) close();
    }

    net::any_io_executor get_executor_for_drain() { return m_stream.get_executor(); }

    void close() {
        beast::error_code ec;
        m_idle_timer.cancel();
        m_stream.socket().shutdown(tcp::socket::shutdown_both, ec);
        m_stream.socket().close(ec);
    }

private:
    // Between requests the connection may idle up to idle_timeout; once a byte arrives the whole request must
    // arrive within read_timeout. Two limits need two mechanisms: a timer while waiting for readability, then the
    // stream's own timeout while reading.
    void wait_for_request() {
        if (m_server.draining) return close();
        m_idle = true;
        if (m_buffer.size() > 0) return read_request();  // pipelined bytes already here
        m_idle_timer.expires_after(std::chrono::milliseconds(m_server.options.idle_timeout_ms));
        m_idle_timer.async_wait([self = shared_from_this()](beast::error_code ec) {
            if (!ec) self->close();
        });
        m_stream.socket().async_wait(tcp::socket::wait_read, [self = shared_from_this()](beast::error_code ec) {
            self->m_idle_timer.cancel();
            if (ec) return self->close();
            self->read_request();
        });
    }

    void read_request() {
        m_idle = false;
        m_parser.emplace();
        m_parser->header_limit(static_cast<std::uint32_t>(m_server.options.max_header_bytes));
        m_parser->body_limit(m_server.options.max_body_bytes);
        m_stream.expires_after(std::chrono::milliseconds(m_server.options.read_timeout_ms));
        bhttp::async_read_header(m_stream, m_buffer, *m_parser,
                                 [self = shared_from_this()](beast::error_code ec, std::size_t) {
                                     self->on_header(ec);
                                 });
    }

    void on_header(beast::error_code ec) {
        if (ec) return on_read_error(ec);
        auto& req = m_parser->get();
        auto length = m_parser->content_length();
        if (length && *length > m_server.options.max_body_bytes) {
            // Refuse before reading (or inviting, with 100-continue) a body we would not accept.
            return send_error_and_close(413, "too_large",
                                        "request body exceeds " + std::to_string(m_server.options.max_body_bytes) +
                                            " bytes");
        }
        if (beast::iequals(req[bhttp::field::expect], "100-continue")) {
            auto cont = std::make_shared<bhttp::response<bhttp::empty_body>>(bhttp::status::continue_, req.version());
            bhttp::async_write(m_stream, *cont, [self = shared_from_this(), cont](beast::error_code ec, std::size_t) {
                if (ec) return self->close();
                self->read_body();
            });
            return;
        }
        read_body();
    }

    void read_body() {
        bhttp::async_read(m_stream, m_buffer, *m_parser, [self = shared_from_this()](beast::error_code ec, std::size_t) {
            if (ec) return self->on_read_error(ec);
            self->m_stream.expires_never();
            self->handle();
        });
    }

    void on_read_error(beast::error_code ec) {
        if (ec == bhttp::error::end_of_stream || ec == net::error::eof || ec == net::error::connection_reset ||
            ec == net::error::operation_aborted || ec == beast::error::timeout)
            return close();
        if (ec == bhttp::error::body_limit)
            return send_error_and_close(413, "too_large",
                                        "request body exceeds " + std::to_string(m_server.options.max_body_bytes) +
                                            " bytes");
        if (ec == bhttp::error::header_limit)
            return send_error_and_close(431, "too_large",
                                        "request headers exceed " + std::to_string(m_server.options.max_header_bytes) +
                                            " bytes");
        send_error_and_close(400, "invalid_request", std::string("malformed HTTP request: ") + ec.message());
    }

    void send_error_and_close(int status, const char* code, const std::string& message) {
        m_keep_alive = false;
        m_started = Clock::now();
        m_method = "-";
        m_path = "-";
        write(error_response(status, code, message), "unmatched");
    }

    void handle() {
        m_started = Clock::now();
        auto& msg = m_parser->get();
        auto request = std::make_shared<Request>();
        fill_request(msg, *request);
        request->remote_address = m_remote;
        request->remote_is_loopback = m_loopback;
        m_keep_alive = msg.keep_alive() && !m_server.draining;
        m_version = msg.version();
        m_method = request->method;
        m_path = request->path;

        bool upgrade = bws::is_upgrade(msg);
        auto match = m_server.router.match(*request, upgrade);
        if (match.websocket) return upgrade_websocket(*match.websocket, *request);
        if (!match.handler) {
            if (match.path_known) {
                auto r = error_response(405, "method_not_allowed",
                                        request->method + " is not allowed on " + request->path);
                r.set_header("Allow", match.allowed);
                return write(std::move(r), "unmatched");
            }
            return write(error_response(404, "not_found", "no route for " + request->method + " " + request->path),
                         "unmatched");
        }
        const Handler* handler = match.handler;
        if (match.options.offload) {
            // The work guard keeps run() from returning while the worker holds the only pending piece of work.
            net::post(*m_server.workers, [self = shared_from_this(), handler, request,
                                          guard = net::make_work_guard(m_server.ioc)] {
                Response response = run_handler(*handler, *request);
                net::post(self->m_stream.get_executor(), [self, request, response = std::move(response)]() mutable {
                    self->write(std::move(response), request->route);
                });
            });
            return;
        }
        write(run_handler(*handler, *request), request->route);
    }

    // The accept function authenticates before the upgrade, so a refusal is a plain HTTP error response.
    void upgrade_websocket(const WsAccept& accept, Request& request) {
        Result<std::unique_ptr<WsHandler>> handler = make_error(ErrorCode::internal, "internal error");
        try {
            handler = accept(request);
        } catch (const std::exception& e) {
            spdlog::error("websocket accept {}: {}", request.route, e.what());
        }
        if (!handler) {
            const Error& e = handler.error();
            int status = http_status(e.code);
            m_keep_alive = false;
            return write(error_response(status, to_string(e.code), e.code == ErrorCode::internal ? "internal error" : e.message),
                         request.route);
        }
        m_server.record(m_method, request.route, 101, 0.0);
        auto ws = std::make_shared<WsSession>(std::move(m_stream), std::move(handler).value(), m_remote, m_server);
        ws->start(m_parser->release());
    }

    static Response run_handler(const Handler& handler, Request& request) {
        try {
            return handler(request);
        } catch (const std::exception& e) {
            spdlog::error("{} {}: unhandled exception: {}", request.method, request.route, e.what());
        } catch (...) {
            spdlog::error("{} {}: unhandled exception", request.method, request.route);
        }
        return error_response(500, "internal", "internal error");
    }

    void write(Response response, const std::string& route) {
        auto res = std::make_shared<bhttp::response<bhttp::string_body>>();
        res->version(m_version ? m_version : 11);
        res->result(static_cast<unsigned>(response.status));
        res->set(bhttp::field::server, "voiceagentd");
        if (!response.content_type.empty()) res->set(bhttp::field::content_type, response.content_type);
        for (auto& [name, value] : response.headers) res->insert(name, value);
        res->body() = std::move(response.body);
        res->keep_alive(m_keep_alive && !m_server.draining);
        res->prepare_payload();
        // Counted when the response is complete, before it is sent, so a client that reads /metrics right after
        // its response always sees its own request.
        double seconds = std::chrono::duration<double>(Clock::now() - m_started).count();
        m_server.record(m_method, route, response.status, seconds);
        if (m_server.options.access_log)
            spdlog::info("http {} {} {} {:.1f}ms {}B {}", m_method, m_path, response.status, seconds * 1000,
                         res->body().size(), m_remote);
        m_stream.expires_after(std::chrono::milliseconds(m_server.options.read_timeout_ms));
        bhttp::async_write(m_stream, *res, [self = shared_from_this(), res](beast::error_code ec, std::size_t) {
            self->m_stream.expires_never();
            if (ec || !res->keep_alive()) return self->close();
            self->wait_for_request();
        });
    }

    beast::tcp_stream m_stream;
    HttpServer::Impl& m_server;
    net::steady_timer m_idle_timer;
    beast::flat_buffer m_buffer;
    std::optional<bhttp::request_parser<bhttp::string_body>> m_parser;
    std::string m_remote;
    bool m_loopback = false;
    bool m_idle = false;
    bool m_keep_alive = false;
    unsigned m_version = 11;
    Clock::time_point m_started;
    std::string m_method;
    std::string m_path;
};

void HttpServer::Impl::do_accept() {
    acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
        if (ec) {
            if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
            spdlog::warn("accept failed: {}", ec.message());
        } else {
            beast::error_code nodelay_ec;
            socket.set_option(tcp::no_delay(true), nodelay_ec);
            std::make_shared<Session>(std::move(socket), *this)->start();
        }
        if (acceptor.is_open()) do_accept();
    });
}

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

void HttpServer::run() {
    auto& impl = *m_impl;
    for (int i = 1; i < impl.options.io_threads; ++i) impl.threads.emplace_back([&impl] { impl.ioc.run(); });
    impl.ioc.run();
    for (auto& t : impl.threads)
        if (t.joinable()) t.join();
    impl.threads.clear();
    if (impl.workers) impl.workers->join();
}

void HttpServer::stop() {
    auto& impl = *m_impl;
    if (impl.stopping.exchange(true)) return;
    net::post(impl.ioc, [&impl] {
        impl.draining = true;
        beast::error_code ec;
        impl.acceptor.close(ec);
        std::vector<std::shared_ptr<Session>> live;
        {
            std::lock_guard lock(impl.sessions_mutex);
            for (auto& [raw, weak] : impl.sessions)
                if (auto s = weak.lock()) live.push_back(std::move(s));
        }
        for (auto& s : live) net::post(s->get_executor_for_drain(), [s] { s->drain(); });
        std::vector<std::shared_ptr<WsSession>> sockets;
        {
            std::lock_guard lock(impl.sessions_mutex);
            for (auto& [raw, weak] : impl.ws_sessions)
                if (auto s = weak.lock()) sockets.push_back(std::move(s));
        }
        for (auto& s : sockets) net::post(s->executor(), [s] { s->drain(); });
        // After the grace period, whatever is still open is closed; run() returns once no work remains.
        impl.grace_timer.expires_after(std::chrono::milliseconds(impl.options.shutdown_grace_ms));
        impl.grace_timer.async_wait([&impl](beast::error_code) {
            std::vector<std::shared_ptr<Session>> rest;
            {
                std::lock_guard lock(impl.sessions_mutex);
                for (auto& [raw, weak] : impl.sessions)
                    if (auto s = weak.lock()) rest.push_back(std::move(s));
            }
            for (auto& s : rest) net::post(s->get_executor_for_drain(), [s] { s->close(); });
            std::vector<std::shared_ptr<WsSession>> open_sockets;
            {
                std::lock_guard lock(impl.sessions_mutex);
                for (auto& [raw, weak] : impl.ws_sessions)
                    if (auto s = weak.lock()) open_sockets.push_back(std::move(s));
            }
            for (auto& s : open_sockets) net::post(s->executor(), [s] { s->abort(); });
        });
        if (live.empty() && sockets.empty()) impl.grace_timer.cancel();
    });
}

}  // namespace va::http
