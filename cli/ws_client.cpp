#include "cli/ws_client.hpp"
#include "core/util/json.hpp"
#include "core/util/guard.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <httplib.h>

#include <deque>
#include <optional>
#include <thread>

#include "cli/client.hpp"

namespace va::cli {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bws = boost::beast::websocket;
using tcp = net::ip::tcp;

struct WsClient::Impl {
    net::io_context ioc;
    bws::stream<tcp::socket> ws{ioc};

    // Duplex mode: everything below is touched only on io_thread.
    std::thread io_thread;
    std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
    beast::flat_buffer read_buffer;
    std::deque<std::pair<bool, std::string>> outbox;  // (binary, payload)
    bool writing = false;
    bool closing = false;
    std::function<void(Message)> on_message;
    std::function<void(std::string)> on_closed;

    void read_next() {
        ws.async_read(read_buffer, [this](beast::error_code ec, std::size_t) {
            if (ec) {
                std::string reason(ws.reason().reason.data(), ws.reason().reason.size());
                if (reason.empty() && ec != bws::error::closed) reason = ec.message();
                drop_queued();
                work.reset();
                if (on_closed) on_closed(std::move(reason));
                on_closed = nullptr;
                return;
            }
            Message m{!ws.got_text(), beast::buffers_to_string(read_buffer.data())};
            read_buffer.consume(read_buffer.size());
            on_message(std::move(m));
            read_next();
        });
    }

    void enqueue(bool binary, std::string payload) {
        if (closing) return;
        outbox.emplace_back(binary, std::move(payload));
        if (!writing) write_next();
    }

    // Forgets what is waiting to be written, but not a message being written now: its buffer belongs to the
    // write in flight until its handler runs.
    void drop_queued() {
        if (writing && !outbox.empty()) outbox.erase(outbox.begin() + 1, outbox.end());
        else outbox.clear();
    }

    void write_next() {
        if (outbox.empty()) {
            writing = false;
            return;
        }
        writing = true;
        ws.binary(outbox.front().first);
        ws.async_write(net::buffer(outbox.front().second), [this](beast::error_code ec, std::size_t) {
            if (!outbox.empty()) outbox.pop_front();
            if (ec) {
                outbox.clear();
                writing = false;
                return;  // the read side reports the end
            }
            if (closing) {  // the close waited for this write to finish
                outbox.clear();
                writing = false;
                ws.async_close(bws::close_code::normal, [](beast::error_code) {});
                return;
            }
            write_next();
        });
    }

    void start_close() {
        if (closing || !ws.is_open()) return;
        closing = true;
        drop_queued();
        if (writing) return;  // a close frame may not overlap a write: it follows the write in flight
        ws.async_close(bws::close_code::normal, [](beast::error_code) {});
    }
};

WsClient::WsClient(const std::string& url, const std::string& token) : m_impl(std::make_unique<Impl>()) {
    auto scheme_end = url.find("://");
    std::string rest = scheme_end == std::string::npos ? url : url.substr(scheme_end + 3);
    auto slash = rest.find('/');
    std::string hostport = rest.substr(0, slash);
    std::string target = slash == std::string::npos ? "/" : rest.substr(slash);
    std::string host = hostport, port = "80";
    if (!hostport.empty() && hostport.front() == '[') {
        auto close = hostport.find(']');
        host = hostport.substr(1, close - 1);
        if (close + 1 < hostport.size()) port = hostport.substr(close + 2);
    } else if (auto colon = hostport.rfind(':'); colon != std::string::npos) {
        host = hostport.substr(0, colon);
        port = hostport.substr(colon + 1);
    }
    try {
        tcp::resolver resolver(m_impl->ioc);
        net::connect(m_impl->ws.next_layer(), resolver.resolve(host, port));
        m_impl->ws.set_option(bws::stream_base::decorator([&token](bws::request_type& req) {
            req.set(beast::http::field::authorization, "Bearer " + token);
            req.set(beast::http::field::user_agent, "vactl");
        }));
        bws::response_type response;
        beast::error_code ec;
        m_impl->ws.handshake(response, hostport, target, ec);
        if (ec) {
            // Beast 1.74 does not hand back the refusing response; ask again over plain HTTP with the same upgrade
            // headers, which the daemon answers with the same error before any upgrade.
            httplib::Client http(host, std::stoi(port));
            http.set_connection_timeout(5, 0);
            auto refused = http.Get(target, {{"Authorization", "Bearer " + token},
                                             {"Connection", "Upgrade"},
                                             {"Upgrade", "websocket"},
                                             {"Sec-WebSocket-Version", "13"},
                                             {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="}});
            int status = refused ? refused->status : 0;
            std::string message = "cannot open " + target + ": " + (status ? "HTTP " + std::to_string(status) : ec.message());
            if (refused) {
                auto body = parse_json(refused->body);
                if (body.is_object() && body.contains("error")) message += ": " + body["error"].value("message", "");
            }
            int code = status == 401 || status == 403 ? kAuth : status == 404 ? kNotFound : kError;
            throw CliError(code, message);
        }
    } catch (const boost::system::system_error& e) {
        throw CliError(kError, "cannot reach server at " + hostport + ": " + e.code().message());
    }
}

WsClient::~WsClient() {
    if (m_impl->io_thread.joinable()) {
        net::post(m_impl->ioc, [impl = m_impl.get()] {
            impl->start_close();
            impl->work.reset();
        });
        m_impl->io_thread.join();
        return;
    }
    beast::error_code ec;
    if (m_impl->ws.is_open()) m_impl->ws.close(bws::close_code::normal, ec);
}

void WsClient::start_duplex(std::function<void(Message)> on_message, std::function<void(std::string)> on_closed) {
    m_impl->on_message = std::move(on_message);
    m_impl->on_closed = std::move(on_closed);
    m_impl->work.emplace(net::make_work_guard(m_impl->ioc));
    // Bounds the closing handshake, so a peer that never answers the close frame cannot hang vactl.
    bws::stream_base::timeout timeouts{std::chrono::seconds(5), bws::stream_base::none(), false};
    m_impl->ws.set_option(timeouts);
    m_impl->ioc.restart();
    net::post(m_impl->ioc, [impl = m_impl.get()] { impl->read_next(); });
    m_impl->io_thread = std::thread([impl = m_impl.get()] { run_loop_guarded("websocket io", [impl] { impl->ioc.run(); }, 0); });
}

void WsClient::post_text(std::string message) {
    net::post(m_impl->ioc, [impl = m_impl.get(), m = std::move(message)]() mutable { impl->enqueue(false, std::move(m)); });
}

void WsClient::post_binary(std::string bytes) {
    net::post(m_impl->ioc, [impl = m_impl.get(), b = std::move(bytes)]() mutable { impl->enqueue(true, std::move(b)); });
}

void WsClient::send_text(const std::string& message) {
    beast::error_code ec;
    m_impl->ws.text(true);
    m_impl->ws.write(net::buffer(message), ec);
    if (ec) throw CliError(kError, "connection lost: " + ec.message());
}

std::optional<WsClient::Message> WsClient::read_message() {
    beast::flat_buffer buffer;
    beast::error_code ec;
    m_impl->ws.read(buffer, ec);
    if (ec) {
        m_close_reason = std::string(m_impl->ws.reason().reason.data(), m_impl->ws.reason().reason.size());
        if (m_close_reason.empty() && ec != bws::error::closed) m_close_reason = ec.message();
        return std::nullopt;
    }
    return Message{!m_impl->ws.got_text(), beast::buffers_to_string(buffer.data())};
}

std::optional<std::string> WsClient::read() {
    while (auto m = read_message())
        if (!m->binary) return std::move(m->data);
    return std::nullopt;
}

void WsClient::send_binary(const std::string& bytes) {
    beast::error_code ec;
    m_impl->ws.binary(true);
    m_impl->ws.write(net::buffer(bytes), ec);
    if (ec) throw CliError(kError, "connection lost: " + ec.message());
}

void WsClient::close() {
    if (m_impl->io_thread.joinable()) {
        net::post(m_impl->ioc, [impl = m_impl.get()] { impl->start_close(); });
        return;
    }
    beast::error_code ec;
    if (m_impl->ws.is_open()) m_impl->ws.close(bws::close_code::normal, ec);
}

}  // namespace va::cli
