#include "providers/fake/stream_server.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>

#include <deque>
#include <optional>
#include <set>
#include <stdexcept>
#include <thread>

#include "providers/common/http_client.hpp"

namespace va::fake {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

std::string StreamRequest::header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? "" : it->second;
}

std::string StreamRequest::param(const std::string& name) const {
    auto it = query.find(name);
    return it == query.end() ? "" : it->second;
}

namespace {

struct Route {
    std::string method;
    std::regex pattern;
    StreamHandler handler;
};

const char* reason(int status) {
    switch (status) {
        case 200: return "OK";
        case 400: return "Bad Request";
        case 401: return "Unauthorized";
        case 404: return "Not Found";
        case 422: return "Unprocessable Entity";
        case 429: return "Too Many Requests";
        case 500: return "Internal Server Error";
        case 503: return "Service Unavailable";
        default: return "Status";
    }
}

class Connection;

// One answer on a connection. Holds its connection alive while a timer or blocking job refers to it.
class Reply final : public StreamReply, public std::enable_shared_from_this<Reply> {
public:
    Reply(std::shared_ptr<Connection> conn, asio::io_context& io, asio::thread_pool& pool, bool keep_alive)
        : m_conn(std::move(conn)), m_io(io), m_pool(pool), m_keep_alive(keep_alive) {}

    void send(int status, const std::string& content_type, std::string body, StreamHeaders extra) override;
    void begin(int status, const std::string& content_type, StreamHeaders extra) override;
    void write(std::string piece) override;
    void end() override;
    void drop() override;
    void after(int ms, std::function<void()> fn) override {
        at(std::chrono::steady_clock::now() + std::chrono::milliseconds(ms), std::move(fn));
    }
    void at(std::chrono::steady_clock::time_point when, std::function<void()> fn) override {
        if (m_closed) return;
        auto timer = std::make_shared<asio::steady_timer>(m_io, when);
        m_timers.insert(timer);
        timer->async_wait([self = shared_from_this(), timer, fn = std::move(fn)](boost::system::error_code ec) {
            self->m_timers.erase(timer);
            if (!ec && !self->m_closed) fn();
        });
    }
    void blocking(std::function<void()> work, std::function<void()> then) override {
        asio::post(m_pool, [self = shared_from_this(), work = std::move(work), then = std::move(then)]() mutable {
            work();
            asio::post(self->m_io, [self, then = std::move(then)] {
                if (!self->m_closed) then();
            });
        });
    }
    bool closed() const override { return m_closed; }
    void on_close(std::function<void()> fn) override {
        if (m_closed) return fn();
        m_on_close.push_back(std::move(fn));
    }

    // The answer is over (ended, dropped, or the connection failed): stop its timers, tell its watchers.
    void close() {
        if (m_closed) return;
        m_closed = true;
        for (const auto& t : m_timers) t->cancel();
        m_timers.clear();
        auto watchers = std::move(m_on_close);
        for (auto& fn : watchers) fn();
    }

private:
    void head(int status, const std::string& content_type, const StreamHeaders& extra, const std::string& length);

    std::shared_ptr<Connection> m_conn;
    asio::io_context& m_io;
    asio::thread_pool& m_pool;
    bool m_keep_alive;
    bool m_closed = false, m_chunked = false;
    std::set<std::shared_ptr<asio::steady_timer>> m_timers;
    std::vector<std::function<void()>> m_on_close;
};

class Connection final : public std::enable_shared_from_this<Connection> {
public:
    Connection(tcp::socket socket, StreamServer::Impl& server);
    void start() { read_next(); }

    // Bytes out, in order; `last` ends the answer (and the connection, unless it is kept alive).
    void out(std::string bytes) {
        if (m_dead) return;
        m_queue.push_back(std::move(bytes));
        if (m_queue.size() == 1) flush();
    }
    void answer_done(bool keep_alive) {
        m_current.reset();
        if (!keep_alive) {
            m_close_after_write = true;
            if (m_queue.empty()) shut();
            return;
        }
        dispatch_pending();
    }
    void shut() {
        if (m_dead) return;
        m_dead = true;
        boost::system::error_code ec;
        m_socket.shutdown(tcp::socket::shutdown_both, ec);
        m_socket.close(ec);
        if (auto r = m_current) {
            m_current.reset();
            r->close();
        }
    }

private:
    void flush() {
        asio::async_write(m_socket, asio::buffer(m_queue.front()),
                          [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                              if (ec) return self->shut();
                              self->m_queue.pop_front();
                              if (!self->m_queue.empty()) return self->flush();
                              if (self->m_close_after_write) self->shut();
                          });
    }

    // The read loop runs all the time, so a client that goes away mid-answer is seen at once.
    void read_next() {
        m_parser.emplace();
        m_parser->body_limit(8 * 1024 * 1024);
        beast::http::async_read(m_socket, m_buffer, *m_parser, [self = shared_from_this()](beast::error_code ec, std::size_t) {
            if (ec) return self->shut();
            self->m_pending.push_back(self->m_parser->release());
            self->dispatch_pending();
            if (!self->m_dead) self->read_next();
        });
    }

    void dispatch_pending();

    tcp::socket m_socket;
    StreamServer::Impl& m_server;
    beast::flat_buffer m_buffer;
    std::optional<beast::http::request_parser<beast::http::string_body>> m_parser;
    std::deque<beast::http::request<beast::http::string_body>> m_pending;
    std::deque<std::string> m_queue;
    std::shared_ptr<Reply> m_current;
    bool m_dead = false, m_close_after_write = false;
};

}  // namespace

struct StreamServer::Impl {
    asio::io_context io;
    asio::thread_pool pool{2};
    tcp::acceptor acceptor{io};
    std::vector<Route> routes;
    std::thread thread;
    std::vector<std::weak_ptr<Connection>> connections;  // to close them all at stop (answers hold their connection)

    void accept() {
        acceptor.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
            if (!acceptor.is_open()) return;
            if (!ec) {
                socket.set_option(tcp::no_delay(true), ec);
                auto conn = std::make_shared<Connection>(std::move(socket), *this);
                std::erase_if(connections, [](const auto& w) { return w.expired(); });
                connections.push_back(conn);
                conn->start();
            }
            accept();
        });
    }
};

namespace {

Connection::Connection(tcp::socket socket, StreamServer::Impl& server) : m_socket(std::move(socket)), m_server(server) {}

void Connection::dispatch_pending() {
    if (m_current || m_dead || m_pending.empty()) return;
    auto message = std::move(m_pending.front());
    m_pending.pop_front();
    StreamRequest request;
    request.method = std::string(message.method_string());
    request.target = std::string(message.target());
    request.body = std::move(message.body());
    auto q = request.target.find('?');
    request.path = request.target.substr(0, q);
    if (q != std::string::npos)
        for (auto& [k, v] : parse_form(std::string_view(request.target).substr(q + 1))) request.query[k] = v;
    for (const auto& field : message) {
        std::string name(field.name_string());
        for (auto& c : name) c = char(std::tolower(static_cast<unsigned char>(c)));
        request.headers[name] = std::string(field.value());
    }
    m_current = std::make_shared<Reply>(shared_from_this(), m_server.io, m_server.pool, message.keep_alive());
    for (const auto& route : m_server.routes) {
        std::smatch m;
        if (route.method != request.method || !std::regex_match(request.path, m, route.pattern)) continue;
        for (std::size_t i = 1; i < m.size(); ++i) request.matches.push_back(m[i].str());
        route.handler(request, m_current);
        return;
    }
    m_current->send(404, "application/json", R"({"error":"no such route"})", {});
}

void Reply::head(int status, const std::string& content_type, const StreamHeaders& extra, const std::string& length) {
    std::string h = "HTTP/1.1 " + std::to_string(status) + " " + reason(status) + "\r\nContent-Type: " + content_type + "\r\n";
    for (const auto& [k, v] : extra) h += k + ": " + v + "\r\n";
    h += length.empty() ? "Transfer-Encoding: chunked\r\n" : "Content-Length: " + length + "\r\n";
    if (!m_keep_alive) h += "Connection: close\r\n";
    m_conn->out(h + "\r\n");
}

void Reply::send(int status, const std::string& content_type, std::string body, StreamHeaders extra) {
    if (m_closed || m_chunked) return;
    head(status, content_type, extra, std::to_string(body.size()));
    if (!body.empty()) m_conn->out(std::move(body));
    close();
    m_conn->answer_done(m_keep_alive);
}

void Reply::begin(int status, const std::string& content_type, StreamHeaders extra) {
    if (m_closed || m_chunked) return;
    m_chunked = true;
    head(status, content_type, extra, "");
}

void Reply::write(std::string piece) {
    if (m_closed || !m_chunked || piece.empty()) return;
    char size[20];
    std::snprintf(size, sizeof size, "%zx\r\n", piece.size());
    m_conn->out(size + std::move(piece) + "\r\n");
}

void Reply::end() {
    if (m_closed || !m_chunked) return;
    m_conn->out("0\r\n\r\n");
    close();
    m_conn->answer_done(m_keep_alive);
}

void Reply::drop() {
    if (m_closed) return;
    close();
    m_conn->answer_done(false);  // what was written goes out first, then the connection ends mid-answer
}

}  // namespace

StreamServer::StreamServer() : m_impl(std::make_unique<Impl>()) {}

StreamServer::~StreamServer() {
    if (m_impl->thread.joinable()) {
        asio::post(m_impl->io, [this] {
            boost::system::error_code ec;
            m_impl->acceptor.close(ec);
            for (const auto& w : m_impl->connections)
                if (auto c = w.lock()) c->shut();
            m_impl->io.stop();
        });
        m_impl->thread.join();
    }
    m_impl->pool.join();
}

void StreamServer::route(std::string method, std::string path_pattern, StreamHandler handler) {
    m_impl->routes.push_back({std::move(method), std::regex(path_pattern), std::move(handler)});
}

void StreamServer::start(int port) {
    tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port));
    boost::system::error_code ec;
    m_impl->acceptor.open(endpoint.protocol(), ec);
    if (!ec) m_impl->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) m_impl->acceptor.bind(endpoint, ec);
    if (!ec) m_impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) throw std::runtime_error("fake cannot listen on 127.0.0.1:" + std::to_string(port) + ": " + ec.message());
    m_port = m_impl->acceptor.local_endpoint().port();
    m_impl->accept();
    m_impl->thread = std::thread([this] { m_impl->io.run(); });
}

}  // namespace va::fake
