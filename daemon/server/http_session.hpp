// Internal to daemon/server: one HTTP/1.1 connection with keep-alive on its own strand. It reads a request within
// the header and body limits and timeouts, routes it (inline or on the worker pool), answers with the security and
// CORS headers, counts it and writes the access log line; a WebSocket upgrade hands the stream (and the connection's
// slot) to a WsSession.
// Thread-safety: everything runs on the connection's strand; drain() and close() are posted onto it.
#pragma once

#include <boost/beast/http.hpp>

#include <memory>
#include <optional>
#include <string>

#include "daemon/server/server_impl.hpp"

namespace va::http {

namespace bhttp = boost::beast::http;

class Session : public std::enable_shared_from_this<Session> {
public:
    Session(tcp::socket socket, std::string remote, std::unique_ptr<ConnectionSlot> slot,
            HttpServer::Impl& server);
    ~Session();

    void start();
    // The server drains: idle connections close now, busy ones after their response.
    void drain();
    net::any_io_executor get_executor_for_drain() { return m_stream.get_executor(); }
    void close();

private:
    void wait_for_request();
    void read_request();
    void on_header(beast::error_code ec);
    void read_body();
    void on_read_error(beast::error_code ec);
    void send_error_and_close(int status, const char* code, const std::string& message);
    void handle();
    void upgrade_websocket(const WsAccept& accept, std::shared_ptr<Request> request);
    void finish_upgrade(Result<std::unique_ptr<WsHandler>> handler, Request& request);
    void write(Response response, const std::string& route, const Request* request = nullptr);

    beast::tcp_stream m_stream;
    HttpServer::Impl& m_server;
    std::unique_ptr<ConnectionSlot> m_slot;
    net::steady_timer m_idle_timer;
    beast::flat_buffer m_buffer;
    std::optional<bhttp::request_parser<bhttp::string_body>> m_parser;
    std::string m_remote;
    std::string m_client;  // the client's address: m_remote, or who a trusted proxy forwarded for
    bool m_idle = false;
    bool m_keep_alive = false;
    unsigned m_version = 11;
    Clock::time_point m_started;
    std::string m_method;
    std::string m_path;
};

}  // namespace va::http
