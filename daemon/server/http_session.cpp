#include "daemon/server/http_session.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/websocket.hpp>
#include <spdlog/spdlog.h>

#include "core/util/strings.hpp"
#include "daemon/server/access_log.hpp"
#include "daemon/server/request_parse.hpp"
#include "daemon/server/ws_session.hpp"

namespace va::http {

namespace {

Response run_handler(const Handler& handler, Request& request) {
    try {
        return handler(request);
    } catch (const std::exception& e) {
        spdlog::error("{} {}: unhandled exception: {}", escape_log_field(request.method, 32), request.route, e.what());
    } catch (...) {
        spdlog::error("{} {}: unhandled exception", escape_log_field(request.method, 32), request.route);
    }
    return error_response(500, "internal", "internal error");
}

}  // namespace

Session::Session(tcp::socket socket, std::string remote, std::unique_ptr<ConnectionSlot> slot,
                 HttpServer::Impl& server)
    : m_stream(std::move(socket)),
      m_server(server),
      m_slot(std::move(slot)),
      m_idle_timer(m_stream.get_executor()),
      m_remote(std::move(remote)),
      m_client(m_remote) {}  // until a request's forwarding headers say otherwise (client_address.hpp)

Session::~Session() {
    std::lock_guard lock(m_server.sessions_mutex);
    m_server.sessions.erase(this);
    if (m_server.draining && m_server.sessions.empty() && m_server.ws_sessions.empty())
        net::post(m_server.ioc, [impl = &m_server] { impl->finish_if_drained(); });
}

void Session::start() {
    {
        std::lock_guard lock(m_server.sessions_mutex);
        m_server.sessions.emplace(this, weak_from_this());
    }
    net::dispatch(m_stream.get_executor(), [self = shared_from_this()] { self->wait_for_request(); });
}

void Session::drain() {
    if (m_idle) close();
}

void Session::close() {
    beast::error_code ec;
    m_idle_timer.cancel();
    m_stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    m_stream.socket().close(ec);
}

// Between requests the connection may idle up to idle_timeout; once a byte arrives the whole request must arrive
// within read_timeout. Two limits need two mechanisms: a timer while waiting for readability, then the stream's own
// timeout while reading.
void Session::wait_for_request() {
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

void Session::read_request() {
    m_idle = false;
    m_parser.emplace();
    m_parser->header_limit(static_cast<std::uint32_t>(m_server.options.max_header_bytes));
    m_parser->body_limit(m_server.options.max_body_bytes);
    m_stream.expires_after(std::chrono::milliseconds(m_server.options.read_timeout_ms));
    bhttp::async_read_header(m_stream, m_buffer, *m_parser,
                             [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_header(ec); });
}

void Session::on_header(beast::error_code ec) {
    if (ec) return on_read_error(ec);
    auto& req = m_parser->get();
    auto length = m_parser->content_length();
    if (length && *length > m_server.options.max_body_bytes) {
        // Refuse before reading (or inviting, with 100-continue) a body we would not accept.
        return send_error_and_close(
            413, "too_large", "request body exceeds " + std::to_string(m_server.options.max_body_bytes) + " bytes");
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

void Session::read_body() {
    bhttp::async_read(m_stream, m_buffer, *m_parser, [self = shared_from_this()](beast::error_code ec, std::size_t) {
        if (ec) return self->on_read_error(ec);
        self->m_stream.expires_never();
        self->handle();
    });
}

void Session::on_read_error(beast::error_code ec) {
    if (ec == bhttp::error::end_of_stream || ec == net::error::eof || ec == net::error::connection_reset ||
        ec == net::error::operation_aborted || ec == beast::error::timeout)
        return close();
    if (ec == bhttp::error::body_limit)
        return send_error_and_close(
            413, "too_large", "request body exceeds " + std::to_string(m_server.options.max_body_bytes) + " bytes");
    if (ec == bhttp::error::header_limit)
        return send_error_and_close(
            431, "too_large", "request headers exceed " + std::to_string(m_server.options.max_header_bytes) + " bytes");
    send_error_and_close(400, "invalid_request", std::string("malformed HTTP request: ") + ec.message());
}

void Session::send_error_and_close(int status, const char* code, const std::string& message) {
    m_keep_alive = false;
    m_started = Clock::now();
    m_method = "-";
    m_path = "-";
    write(error_response(status, code, message), "unmatched");
}

void Session::handle() {
    m_started = Clock::now();
    auto& msg = m_parser->get();
    auto request = std::make_shared<Request>();
    fill_request(msg, *request);
    request->remote_address = m_client = client_address(m_remote, request->headers, m_server.options.trusted_proxies);
    request->remote_is_loopback = is_loopback_address(m_client);
    request->secure = forwarded_https(m_remote, request->headers, m_server.options.trusted_proxies);
    m_keep_alive = msg.keep_alive() && !m_server.draining;
    m_version = msg.version();
    m_method = request->method;
    m_path = request->path;

    if (auto preflight = m_server.cors.preflight(*request)) return write(std::move(*preflight), "cors_preflight");
    bool upgrade = boost::beast::websocket::is_upgrade(msg);
    auto match = m_server.router.match(*request, upgrade);
    if (match.websocket) return upgrade_websocket(*match.websocket, request);
    if (!match.handler) {
        if (match.path_known) {
            auto r = error_response(405, "method_not_allowed", request->method + " is not allowed on " + request->path);
            r.set_header("Allow", match.allowed);
            return write(std::move(r), "unmatched", request.get());
        }
        return write(error_response(404, "not_found", "no route for " + request->method + " " + request->path),
                     "unmatched", request.get());
    }
    const Handler* handler = match.handler;
    if (match.options.offload) {
        // The work guard keeps the connection's loop, and so run(), from returning while the worker holds the only
        // pending piece of work.
        net::post(*m_server.workers,
                  [self = shared_from_this(), handler, request, guard = net::make_work_guard(m_stream.get_executor())] {
                      Response response = run_handler(*handler, *request);
                      net::post(self->m_stream.get_executor(),
                                [self, request, response = std::move(response)]() mutable {
                                    self->write(std::move(response), request->route, request.get());
                                });
                  });
        return;
    }
    write(run_handler(*handler, *request), request->route, request.get());
}

// The accept function authenticates before the upgrade, so a refusal is a plain HTTP error response. It runs on
// the worker pool: accepting a call's media stream is start-up work (the store, the agent, its templates), and
// when hundreds of callers connect at once the I/O threads must go on pacing the calls already up.
void Session::upgrade_websocket(const WsAccept& accept, std::shared_ptr<Request> request) {
    net::post(*m_server.workers, [self = shared_from_this(), &accept, request,
                                  guard = net::make_work_guard(m_stream.get_executor())] {
        auto handler = std::make_shared<Result<std::unique_ptr<WsHandler>>>(make_error(ErrorCode::internal, "internal error"));
        try {
            *handler = accept(*request);
        } catch (const std::exception& e) {
            spdlog::error("websocket accept {}: {}", request->route, e.what());
        }
        net::post(self->m_stream.get_executor(),
                  [self, request, handler] { self->finish_upgrade(std::move(*handler), *request); });
    });
}

void Session::finish_upgrade(Result<std::unique_ptr<WsHandler>> handler, Request& request) {
    if (!handler) {
        const Error& e = handler.error();
        m_keep_alive = false;
        return write(error_response(http_status(e.code), to_string(e.code),
                                    e.code == ErrorCode::internal ? "internal error" : e.message),
                     request.route, &request);
    }
    m_server.request_metrics.record(m_method, request.route, 101, 0.0);
    auto ws = std::make_shared<WsSession>(std::move(m_stream), std::move(handler).value(), m_remote, std::move(m_slot),
                                          m_server);
    ws->start(m_parser->release());
}

void Session::write(Response response, const std::string& route, const Request* request) {
    add_security_headers(response);
    if (request) m_server.cors.apply(*request, response);
    auto res = std::make_shared<bhttp::response<bhttp::string_body>>();
    res->version(m_version ? m_version : 11);
    res->result(static_cast<unsigned>(response.status));
    res->set(bhttp::field::server, "voiceagentd");
    if (!response.content_type.empty()) res->set(bhttp::field::content_type, response.content_type);
    for (auto& [name, value] : response.headers) res->insert(name, value);
    res->body() = std::move(response.body);
    res->keep_alive(m_keep_alive && !m_server.draining);
    // An answer to HEAD says how long the GET's body would be, and sends none.
    bool head = m_method == "HEAD";
    std::size_t length = res->body().size();
    bool no_body_status = response.status < 200 || response.status == 204 || response.status == 304;
    if (head && !no_body_status) {
        res->body().clear();
        res->content_length(length);
    } else {
        if (head) res->body().clear();
        res->prepare_payload();
    }
    // Counted when the response is complete, before it is sent, so a client that reads /metrics right after its
    // response always sees its own request.
    double seconds = std::chrono::duration<double>(Clock::now() - m_started).count();
    m_server.request_metrics.record(m_method, route, response.status, seconds);
    if (m_server.options.access_log)
        log_access({m_method, m_path, response.status, seconds, res->body().size(), m_client});
    m_stream.expires_after(std::chrono::milliseconds(m_server.options.read_timeout_ms));
    bhttp::async_write(m_stream, *res, [self = shared_from_this(), res](beast::error_code ec, std::size_t) {
        self->m_stream.expires_never();
        if (ec || !res->keep_alive()) return self->close();
        self->wait_for_request();
    });
}

}  // namespace va::http
