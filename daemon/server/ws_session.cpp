#include "daemon/server/ws_session.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "core/util/guard.hpp"
#include "daemon/server/access_log.hpp"

namespace va::http {

WsSession::WsSession(beast::tcp_stream&& stream, std::unique_ptr<WsHandler> handler, std::string remote,
                     std::unique_ptr<ConnectionSlot> slot, HttpServer::Impl& server)
    : m_ws(std::move(stream)),
      m_handler(std::move(handler)),
      m_remote(std::move(remote)),
      m_slot(std::move(slot)),
      m_server(server) {}

WsSession::~WsSession() {
    std::lock_guard lock(m_server.sessions_mutex);
    m_server.ws_sessions.erase(this);
    if (m_server.draining && m_server.sessions.empty() && m_server.ws_sessions.empty())
        net::post(m_server.ioc, [impl = &m_server] { impl->finish_if_drained(); });
}

void WsSession::start(bhttp::request<bhttp::string_body> upgrade) {
    {
        std::lock_guard lock(m_server.sessions_mutex);
        m_server.ws_sessions.emplace(this, weak_from_this());
    }
    beast::get_lowest_layer(m_ws).expires_never();
    // Beast's idle timeout re-arms its timer at every read, a cancelled wait and a new one through the strand
    // fifty times a second per call; the same limit is kept by one timer that wakes once per timeout.
    auto timeouts = bws::stream_base::timeout::suggested(beast::role_type::server);
    m_idle_timeout = timeouts.idle_timeout;
    timeouts.idle_timeout = bws::stream_base::none();
    m_ws.set_option(timeouts);
    m_ws.set_option(bws::stream_base::decorator([](bws::response_type& res) {
        res.set(bhttp::field::server, "voiceagentd");
        for (const auto& [name, value] : security_headers()) res.set(name, value);
    }));
    m_ws.read_message_max(m_server.options.max_body_bytes);
    auto req = std::make_shared<bhttp::request<bhttp::string_body>>(std::move(upgrade));
    m_ws.async_accept(*req, [self = shared_from_this(), req](beast::error_code ec) {
        if (ec) return self->finish();
        self->m_open = true;
        self->m_handler->on_open(self);
        self->m_last_read = Clock::now();
        auto idle = std::make_shared<net::steady_timer>(self->m_ws.get_executor());
        self->m_timers.push_back(idle);  // cancelled with the others when the connection ends
        self->watch_idle(std::move(idle), self->m_idle_timeout);
        self->read(self);
    });
}

void WsSession::close(int code, std::string reason) {
    net::post(m_ws.get_executor(), [self = shared_from_this(), code, reason = std::move(reason)]() mutable {
        if (!self->m_open || self->m_closing) return;
        bws::close_reason why;
        why.code = static_cast<std::uint16_t>(code);
        why.reason = std::string_view(reason).substr(0, 123);  // a close frame's limit
        self->begin_close(std::move(why));
    });
}

void WsSession::post(std::function<void()> fn) {
    net::post(m_ws.get_executor(), [self = shared_from_this(), fn = std::move(fn)] { run_guarded("websocket session", fn); });
}

void WsSession::post_after(int ms, std::function<void()> fn) {
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
        if (!ec) run_guarded("websocket session", fn);
    });
}

// One steady_timer, re-armed: a pacer wakes fifty times a second, and a new timer (with its registration on the
// strand) per wake-up was a good part of the daemon's work at a thousand calls. The state is shared with the pending
// wait, so a wait that completes after the timer was re-armed, cancelled or destroyed finds a newer generation and
// does nothing (a cancelled wait may already have been queued as a success).
class WsSession::StrandTimer final : public Timer {
public:
    StrandTimer(const std::shared_ptr<WsSession>& session, std::function<void()> fn)
        : m_session(session), m_state(std::make_shared<State>(session->m_ws.get_executor(), std::move(fn))) {}
    ~StrandTimer() override { cancel(); }

    void arm(int ms) override {
        auto session = m_session.lock();
        if (!session || !session->m_open) return;
        if (!m_state->registered) {  // cancelled with the connection's other timers when it ends
            session->m_timers.emplace_back(std::shared_ptr<net::steady_timer>(m_state, &m_state->timer));
            m_state->registered = true;
        }
        m_state->timer.expires_after(std::chrono::milliseconds(std::max(0, ms)));  // cancels a pending wait
        m_state->timer.async_wait([state = m_state, generation = ++m_state->generation](beast::error_code ec) {
            if (!ec && state->generation == generation) run_guarded("websocket session", state->fn);
        });
    }
    void cancel() override {
        ++m_state->generation;
        m_state->timer.cancel();
    }

private:
    struct State {
        State(net::any_io_executor executor, std::function<void()> task) : timer(std::move(executor)), fn(std::move(task)) {}
        net::steady_timer timer;
        std::function<void()> fn;
        std::uint64_t generation = 0;  // of the one wait that may run fn
        bool registered = false;       // in the session's m_timers
    };
    std::weak_ptr<WsSession> m_session;
    std::shared_ptr<State> m_state;
};

std::unique_ptr<Timer> WsSession::make_timer(std::function<void()> fn) {
    return std::make_unique<StrandTimer>(shared_from_this(), std::move(fn));
}

std::int64_t WsSession::monotonic_ms() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch()).count();
}

void WsSession::run_blocking(std::function<void()> work, std::function<void()> then) {
    net::post(*m_server.workers, [self = shared_from_this(), work = std::move(work), then = std::move(then),
                                  guard = net::make_work_guard(m_server.ioc)]() mutable {
        run_guarded("blocking work", work);
        net::post(self->m_ws.get_executor(), [self, then = std::move(then)] { run_guarded("websocket session", then); });
    });
}

void WsSession::enqueue(std::string message, bool binary) {
    net::post(m_ws.get_executor(), [self = shared_from_this(), message = std::move(message), binary]() mutable {
        if (!self->m_open || self->m_closing) return;
        self->m_queued_bytes += message.size();
        self->m_queue.emplace_back(std::move(message), binary);
        const auto& o = self->m_server.options;
        if ((o.ws_max_queue_messages && self->m_queue.size() > o.ws_max_queue_messages) ||
            (o.ws_max_queue_bytes && self->m_queued_bytes > o.ws_max_queue_bytes))
            return self->slow_consumer();
        if (!self->m_writing) self->write_next();
    });
}

// The peer reads slower than we send: what is queued is dropped (the message being written stays, its buffer is in
// use), the peer is told 1008, and if even that cannot be written in the grace period the socket is torn down.
void WsSession::slow_consumer() {
    spdlog::warn("websocket from {}: slow consumer ({} messages, {} bytes queued), closing with 1008",
                 escape_log_field(m_remote, 64), m_queue.size(), m_queued_bytes);
    m_server.request_metrics.slow_consumer();
    while (m_queue.size() > (m_writing ? 1u : 0u)) {
        m_queued_bytes -= m_queue.back().first.size();
        m_queue.pop_back();
    }
    begin_close(bws::close_reason(bws::close_code::policy_error, "slow consumer"));
    auto timer = std::make_shared<net::steady_timer>(m_ws.get_executor(),
                                                     std::chrono::milliseconds(m_server.options.ws_close_grace_ms));
    m_timers.push_back(timer);
    timer->async_wait([self = shared_from_this(), timer](beast::error_code ec) {
        if (!ec && !self->m_finished) self->abort();
    });
}

void WsSession::write_next() {
    if (m_queue.empty()) {
        m_writing = false;
        if (m_closing) do_close();
        return;
    }
    m_writing = true;
    m_ws.binary(m_queue.front().second);
    m_ws.async_write(net::buffer(m_queue.front().first), [self = shared_from_this()](beast::error_code ec, std::size_t) {
        self->m_queued_bytes -= self->m_queue.front().first.size();
        self->m_queue.pop_front();
        if (ec) {
            self->m_queue.clear();
            self->m_queued_bytes = 0;
            self->m_writing = false;
            return;
        }
        self->write_next();
    });
}

void WsSession::begin_close(bws::close_reason reason) {
    m_closing = true;
    m_close_reason = std::move(reason);
    if (!m_writing) do_close();
}

void WsSession::do_close() {
    m_ws.async_close(m_close_reason, [self = shared_from_this()](beast::error_code) { self->finish(); });
}

// The session's own reference travels from one read to the next: no reference count traffic per message.
void WsSession::read(std::shared_ptr<WsSession> self) {
    m_ws.async_read(m_buffer, [self = std::move(self)](beast::error_code ec, std::size_t) mutable {
        if (ec) return self->finish();
        self->m_last_read = Clock::now();
        std::string_view data(static_cast<const char*>(self->m_buffer.cdata().data()), self->m_buffer.size());
        try {
            if (self->m_ws.got_text()) self->m_handler->on_text(data);
            else self->m_handler->on_binary(data);
        } catch (const std::exception& e) {
            spdlog::error("websocket handler failed: {}", e.what());
            self->m_buffer.consume(self->m_buffer.size());
            if (!self->m_closing) self->begin_close(bws::close_reason(bws::close_code::internal_error, "internal error"));
            return;
        }
        self->m_buffer.consume(self->m_buffer.size());
        auto& session = *self;
        session.read(std::move(self));
    });
}

// Beast's idle timeout, kept by one timer: it wakes when the timeout would end if nothing more had arrived, and
// sleeps again for what is left when something did. A peer silent that long is cut off as Beast would (the socket
// is closed, the pending read fails, the connection finishes).
void WsSession::watch_idle(std::shared_ptr<net::steady_timer> timer, Clock::duration delay) {
    if (m_idle_timeout == bws::stream_base::none()) return;
    timer->expires_after(delay);
    timer->async_wait([weak = weak_from_this(), timer](beast::error_code ec) mutable {
        auto self = weak.lock();  // the timer does not keep a connection alive
        if (ec || !self || !self->m_open || self->m_closing) return;
        auto idle = Clock::now() - self->m_last_read;
        if (idle < self->m_idle_timeout) return self->watch_idle(std::move(timer), self->m_idle_timeout - idle);
        beast::close_socket(beast::get_lowest_layer(self->m_ws));
    });
}

void WsSession::finish() {
    m_open = false;
    for (auto& weak : m_timers)
        if (auto timer = weak.lock()) timer->cancel();
    m_timers.clear();
    if (m_handler && !m_finished) {
        m_finished = true;
        m_handler->on_close();
    }
}

void WsSession::drain() {
    if (m_open && !m_closing) begin_close(bws::close_reason(bws::close_code::going_away, "server shutting down"));
}

void WsSession::abort() {
    beast::error_code ec;
    auto& socket = beast::get_lowest_layer(m_ws).socket();
    // A reset rather than a FIN: the kernel drops what the peer never read instead of holding it for minutes.
    socket.set_option(net::socket_base::linger(true, 0), ec);
    socket.close(ec);
}

}  // namespace va::http
