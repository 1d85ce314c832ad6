#include "providers/common/ws_client.hpp"

#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include <openssl/ssl.h>

#include <atomic>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>

#include "core/util/strings.hpp"
#include "core/util/guard.hpp"
#include "providers/common/http_client.hpp"
#include "providers/common/net_guard.hpp"

namespace va {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace bws = boost::beast::websocket;
using tcp = net::ip::tcp;

Result<WsUrl> parse_ws_url(const std::string& url) {
    WsUrl out;
    std::string rest;
    if (url.rfind("wss://", 0) == 0) {
        out.tls = true;
        rest = url.substr(6);
    } else if (url.rfind("ws://", 0) == 0) {
        rest = url.substr(5);
    } else {
        return make_error(ErrorCode::invalid_request, "not a ws:// or wss:// URL");
    }
    auto slash = rest.find('/');
    std::string hostport = rest.substr(0, slash);
    out.target = slash == std::string::npos ? "/" : rest.substr(slash);
    auto split = split_host_port(hostport, out.tls ? "443" : "80");
    if (!split) return split.take_error();
    out.host = split->first;
    out.port = split->second;
    return out;
}

namespace {

// Made on the first wss:// connection: loading the system trust store costs most of a megabyte of memory, which a
// daemon whose providers are all plain ws:// (local servers, the fakes) never needs. Shared by every loop.
ssl::context& tls_context() {
    static ssl::context tls = [] {
        ssl::context c(ssl::context::tls_client);
        c.set_default_verify_paths();
        c.set_verify_mode(ssl::verify_peer);
        return c;
    }();
    return tls;
}

// The I/O thread shared by the provider WebSockets of threads that have no loop of their own, started on first
// use and joined at exit.
class SharedIo {
public:
    static SharedIo& get() {
        static SharedIo io;
        return io;
    }
    net::io_context& context() { return m_ioc; }

private:
    SharedIo() : m_work(net::make_work_guard(m_ioc)) {
        m_thread = std::thread([this] { run_loop_guarded("websocket client io", [this] { m_ioc.run(); }, 0); });
    }
    ~SharedIo() {
        m_work.reset();
        m_ioc.stop();
        if (m_thread.joinable()) m_thread.join();
    }
    net::io_context m_ioc;
    net::executor_work_guard<net::io_context::executor_type> m_work;
    std::thread m_thread;
};

net::io_context& context_of(const WsLoop& loop) {
    return loop.adopted() ? *loop.adopted() : SharedIo::get().context();
}

template <class Stream>
class Connection final : public WsClient, public std::enable_shared_from_this<Connection<Stream>> {
public:
    template <class... Args>
    Connection(WsClientOptions options, WsClientCallbacks callbacks, WsUrl url, Args&&... stream_args)
        : m_options(std::move(options)),
          m_callbacks(std::move(callbacks)),
          m_url(std::move(url)),
          m_ws(std::forward<Args>(stream_args)...),
          m_resolver(m_ws.get_executor()),
          m_ticker(m_ws.get_executor()) {}

    void start() {
        net::post(m_ws.get_executor(), [self = this->shared_from_this()] { self->resolve(); });
    }

    void send_text(std::string message) override { enqueue(false, std::move(message)); }
    void send_binary(std::string bytes) override { enqueue(true, std::move(bytes)); }

    void close(int code, std::string reason) override {
        net::post(m_ws.get_executor(), [self = this->shared_from_this(), code, reason = std::move(reason)] {
            self->start_close(code, reason);
        });
    }

    void abort() override {
        {
            std::lock_guard lock(m_callback_mutex);
            m_callbacks = {};
        }
        net::post(m_ws.get_executor(), [self = this->shared_from_this()] {
            self->m_closing = true;
            self->m_ticker.cancel();
            beast::error_code ec;
            self->m_resolver.cancel();
            beast::get_lowest_layer(self->m_ws).socket().close(ec);
        });
    }

    std::size_t queued() const override { return m_queued.load(); }

private:
    void resolve() {
        beast::get_lowest_layer(m_ws).expires_after(std::chrono::milliseconds(m_options.connect_timeout_ms));
        m_resolver.async_resolve(m_url.host, m_url.port,
                                 [self = this->shared_from_this()](beast::error_code ec, tcp::resolver::results_type r) {
                                     if (ec) return self->failed(ErrorCode::unavailable, "cannot resolve " + self->m_url.host + ": " + ec.message());
                                     self->connect(r);
                                 });
    }

    void connect(const tcp::resolver::results_type& results) {
        beast::get_lowest_layer(m_ws).async_connect(
            results, [self = this->shared_from_this()](beast::error_code ec, const tcp::endpoint&) {
                if (ec) return self->failed(ErrorCode::unavailable, "cannot connect to " + self->m_url.host + ": " + ec.message());
                self->secure();
            });
    }

    void secure() {
        if constexpr (std::is_same_v<Stream, bws::stream<beast::ssl_stream<beast::tcp_stream>>>) {
            auto& tls = m_ws.next_layer();
            if (!SSL_set_tlsext_host_name(tls.native_handle(), m_url.host.c_str()))
                return failed(ErrorCode::unavailable, "cannot set the TLS server name");
            tls.set_verify_callback(ssl::host_name_verification(m_url.host));
            tls.async_handshake(ssl::stream_base::client, [self = this->shared_from_this()](beast::error_code ec) {
                if (ec) return self->failed(ErrorCode::unavailable, "TLS handshake with " + self->m_url.host + " failed: " + ec.message());
                self->upgrade();
            });
        } else {
            upgrade();
        }
    }

    void upgrade() {
        beast::get_lowest_layer(m_ws).expires_never();
        m_ws.set_option(bws::stream_base::timeout{std::chrono::milliseconds(m_options.connect_timeout_ms),
                                                  bws::stream_base::none(), false});
        m_ws.set_option(bws::stream_base::decorator([headers = m_options.headers](bws::request_type& req) {
            req.set(beast::http::field::user_agent, "voiceagent");
            for (const auto& [name, value] : headers) req.set(name, value);
        }));
        m_ws.read_message_max(16 * 1024 * 1024);
        std::string host = m_url.host;
        if (!((m_url.tls && m_url.port == "443") || (!m_url.tls && m_url.port == "80"))) host += ":" + m_url.port;
        m_ws.async_handshake(m_response, host, m_url.target, [self = this->shared_from_this()](beast::error_code ec) {
            if (ec) return self->refused(ec);
            // Once open, a silent peer is the protocol's business (keep-alives), not a transport timeout.
            self->m_ws.set_option(bws::stream_base::timeout{std::chrono::seconds(5), bws::stream_base::none(), false});
            self->m_open = true;
            if (auto cb = self->callback(&WsClientCallbacks::on_open)) cb();
            self->read_next();
            self->write_next();
            self->schedule_tick();
        });
    }

    void refused(beast::error_code ec) {
        int status = int(m_response.result_int());
        if (status == 0 || status == 101) return failed(ErrorCode::unavailable, "WebSocket upgrade failed: " + ec.message());
        std::string message = "upgrade refused with HTTP " + std::to_string(status);
        for (const char* name : {"dg-error", "x-error"})
            if (auto it = m_response.find(name); it != m_response.end())
                message += ": " + std::string(it->value());
        if (!m_response.body().empty()) message += ": " + m_response.body().substr(0, 300);
        failed(error_code_for_status(status), message);
    }

    void read_next() {
        m_ws.async_read(m_buffer, [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
            if (ec) {
                auto reason = self->m_ws.reason();
                int code = reason.code;
                std::string text(reason.reason.data(), reason.reason.size());
                if (ec == bws::error::closed || code != 0) return self->finish(code, text, std::nullopt);
                if (self->m_closing) return self->finish(1000, "", std::nullopt);
                return self->finish(0, "", make_error(ErrorCode::unavailable, "connection lost: " + ec.message()));
            }
            std::string data = beast::buffers_to_string(self->m_buffer.data());
            self->m_buffer.consume(self->m_buffer.size());
            if (auto cb = self->callback(&WsClientCallbacks::on_message)) cb(!self->m_ws.got_text(), std::move(data));
            self->read_next();
        });
    }

    void enqueue(bool binary, std::string payload) {
        ++m_queued;
        net::post(m_ws.get_executor(), [self = this->shared_from_this(), binary, p = std::move(payload)]() mutable {
            if (self->m_closing || self->m_finished) {
                --self->m_queued;
                return;
            }
            self->m_outbox.emplace_back(binary, std::move(p));
            if (self->m_open && !self->m_writing) self->write_next();
        });
    }

    void write_next() {
        if (m_outbox.empty() || m_finished) {
            m_writing = false;
            if (m_close_pending) send_close();
            return;
        }
        m_writing = true;
        m_ws.binary(m_outbox.front().first);
        m_ws.async_write(net::buffer(m_outbox.front().second), [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
            self->m_outbox.pop_front();
            --self->m_queued;
            if (ec) {
                self->m_queued -= self->m_outbox.size();
                self->m_outbox.clear();
                self->m_writing = false;
                return;  // the read side reports the end
            }
            self->write_next();
        });
    }

    void start_close(int code, const std::string& reason) {
        if (m_closing || m_finished) return;
        m_closing = true;
        m_close_code = code;
        m_close_reason = reason;
        if (!m_open) {
            beast::error_code ec;
            m_resolver.cancel();
            beast::get_lowest_layer(m_ws).socket().close(ec);
            return;
        }
        // What was queued before close() still goes out (a final CloseStream, an end-of-input message).
        m_close_pending = true;
        if (!m_writing) send_close();
    }

    void send_close() {
        m_close_pending = false;
        m_ws.async_close(bws::close_reason(bws::close_code(m_close_code), m_close_reason), [](beast::error_code) {});
    }

    void schedule_tick() {
        if (m_options.tick_ms <= 0 || m_finished) return;
        m_ticker.expires_after(std::chrono::milliseconds(m_options.tick_ms));
        m_ticker.async_wait([self = this->shared_from_this()](beast::error_code ec) {
            if (ec || self->m_finished || self->m_closing) return;
            if (auto cb = self->callback(&WsClientCallbacks::on_tick)) cb();
            self->schedule_tick();
        });
    }

    void failed(ErrorCode code, std::string message) { finish(0, "", make_error(code, std::move(message))); }

    void finish(int code, std::string reason, std::optional<Error> error) {
        if (m_finished) return;
        m_finished = true;
        m_open = false;
        m_ticker.cancel();
        // A write still in flight owns the front message's buffer: its completion pops it.
        std::size_t keep = m_writing && !m_outbox.empty() ? 1 : 0;
        m_queued -= m_outbox.size() - keep;
        m_outbox.erase(m_outbox.begin() + std::ptrdiff_t(keep), m_outbox.end());
        auto cb = callback(&WsClientCallbacks::on_closed);
        {
            std::lock_guard lock(m_callback_mutex);
            m_callbacks = {};
        }
        if (cb) cb(code, std::move(reason), std::move(error));
    }

    template <class F>
    F callback(F WsClientCallbacks::*member) {
        std::lock_guard lock(m_callback_mutex);
        return m_callbacks.*member;
    }

    WsClientOptions m_options;
    std::mutex m_callback_mutex;
    WsClientCallbacks m_callbacks;
    WsUrl m_url;
    Stream m_ws;
    tcp::resolver m_resolver;
    net::steady_timer m_ticker;
    bws::response_type m_response;
    beast::flat_buffer m_buffer;
    std::deque<std::pair<bool, std::string>> m_outbox;
    std::atomic<std::size_t> m_queued{0};
    bool m_open = false, m_writing = false, m_closing = false, m_close_pending = false, m_finished = false;
    int m_close_code = 1000;
    std::string m_close_reason;
};

class Timer final : public WsTimer {
public:
    Timer(int delay_ms, std::function<void()> fn, net::io_context& loop)
        : m_state(std::make_shared<State>(std::move(fn), loop)) {
        // The timer object is only touched on its loop's thread (Asio timers are not thread-safe).
        net::post(loop, [state = m_state, delay_ms] {
            state->timer.expires_after(std::chrono::milliseconds(std::max(0, delay_ms)));
            state->timer.async_wait([state](beast::error_code ec) {
                if (ec || state->cancelled.load()) return;
                run_guarded("websocket timer", state->fn);
            });
        });
    }
    ~Timer() override {
        m_state->cancelled = true;
        net::post(m_state->timer.get_executor(), [state = m_state] { state->timer.cancel(); });
    }

private:
    struct State {
        State(std::function<void()> f, net::io_context& loop) : timer(loop), fn(std::move(f)) {}
        net::steady_timer timer;
        std::function<void()> fn;
        std::atomic<bool> cancelled{false};
    };
    std::shared_ptr<State> m_state;
};

}  // namespace

std::unique_ptr<WsTimer> ws_after(int delay_ms, std::function<void()> fn, WsLoop loop) {
    return std::make_unique<Timer>(delay_ms, std::move(fn), context_of(loop));
}

std::shared_ptr<WsClient> WsClient::connect(WsClientOptions options, WsClientCallbacks callbacks, WsLoop loop) {
    auto url = parse_ws_url(options.url);
    // Every loop is run by exactly one thread, so the loop's own executor already runs a connection's handlers one
    // at a time, in order: a strand on top would only add a lock and a queue hop to every 20 ms frame.
    auto executor = context_of(loop).get_executor();
    if (!url) {
        // Reported like any other failure, through on_closed, so callers have one path.
        using Plain = bws::stream<beast::tcp_stream>;
        auto c = std::make_shared<Connection<Plain>>(std::move(options), WsClientCallbacks{}, WsUrl{}, executor);
        if (callbacks.on_closed) {
            auto error = url.error();
            net::post(executor, [cb = std::move(callbacks.on_closed), error] { cb(0, "", error); });
        }
        return c;
    }
    if (url->tls) {
        using Tls = bws::stream<beast::ssl_stream<beast::tcp_stream>>;
        auto c = std::make_shared<Connection<Tls>>(std::move(options), std::move(callbacks), *url, executor, tls_context());
        c->start();
        return c;
    }
    using Plain = bws::stream<beast::tcp_stream>;
    auto c = std::make_shared<Connection<Plain>>(std::move(options), std::move(callbacks), *url, executor);
    c->start();
    return c;
}

}  // namespace va
