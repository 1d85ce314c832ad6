// Internal to daemon/server: one upgraded WebSocket connection. Reads run continuously; sends from any thread are
// queued onto the connection's strand and written one at a time. The queue is capped by messages and bytes
// (server.ws_max_queue_messages, server.ws_max_queue_bytes): a peer that does not read (a stalled event subscriber)
// is closed with 1008 "slow consumer" and one log line, and torn down after a short grace when even the close frame
// cannot be written, so it cannot grow the daemon's memory.
// Thread-safety: the WsConnection methods are safe from any thread; everything else runs on the strand.
#pragma once

#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <deque>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "daemon/server/server_impl.hpp"
#include "daemon/server/websocket.hpp"

namespace va::http {

namespace bhttp = boost::beast::http;
namespace bws = boost::beast::websocket;

class WsSession : public WsConnection, public std::enable_shared_from_this<WsSession> {
public:
    WsSession(beast::tcp_stream&& stream, std::unique_ptr<WsHandler> handler, std::string remote,
              std::unique_ptr<ConnectionSlot> slot, HttpServer::Impl& server);
    ~WsSession() override;

    void start(bhttp::request<bhttp::string_body> upgrade);

    void send_text(std::string message) override { enqueue(std::move(message), false); }
    void send_binary(std::string message) override { enqueue(std::move(message), true); }
    void close(int code, std::string reason) override;
    const std::string& remote_address() const override { return m_remote; }
    void post(std::function<void()> fn) override;
    void post_after(int ms, std::function<void()> fn) override;
    std::int64_t monotonic_ms() const override;
    void run_blocking(std::function<void()> work, std::function<void()> then) override;
    std::unique_ptr<Timer> make_timer(std::function<void()> fn) override;

    // The server is stopping: tell the peer we are going away (on the strand).
    void drain();
    net::any_io_executor executor() { return m_ws.get_executor(); }
    // The peer has not answered our close in time (or cannot be written to): drop the connection.
    void abort();

private:
    class StrandTimer;
    void enqueue(std::string message, bool binary);
    void slow_consumer();
    void write_next();
    void begin_close(bws::close_reason reason);
    void do_close();
    void read(std::shared_ptr<WsSession> self);
    void watch_idle(std::shared_ptr<net::steady_timer> timer, Clock::duration delay);
    void finish();

    bws::stream<beast::tcp_stream> m_ws;
    std::unique_ptr<WsHandler> m_handler;
    std::string m_remote;
    std::unique_ptr<ConnectionSlot> m_slot;
    HttpServer::Impl& m_server;
    beast::flat_buffer m_buffer;
    std::deque<std::pair<std::string, bool>> m_queue;  // the front one is being written while m_writing
    std::size_t m_queued_bytes = 0;
    std::vector<std::weak_ptr<net::steady_timer>> m_timers;
    bws::close_reason m_close_reason;
    Clock::duration m_idle_timeout{};  // a peer that sends nothing for this long is cut off
    Clock::time_point m_last_read;
    bool m_open = false;
    bool m_writing = false;
    bool m_closing = false;
    bool m_finished = false;
};

}  // namespace va::http
