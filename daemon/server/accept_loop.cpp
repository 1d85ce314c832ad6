// The listener's accept chain: one accept outstanding at a time. Running out of descriptors (EMFILE, ENFILE) or
// kernel memory pauses accepting with a growing back-off (50 ms doubling to 500 ms) instead of retrying at once,
// which would spin a core and flood the log; the failure line is written at most once per 5 s with a count of the
// ones held back. Each accepted connection must get a slot under the global and per-address caps, else it gets a
// short 503 and is closed. Each accept names the loop the connection will live on, the next one in turn, so the
// connections spread over the I/O threads while each stays on one.
#include <sys/socket.h>

#include <spdlog/spdlog.h>

#include <cerrno>

#include "daemon/server/access_log.hpp"
#include "daemon/server/http_session.hpp"
#include "daemon/server/server_impl.hpp"

namespace va::http {

namespace {

constexpr std::chrono::milliseconds kFirstBackoff{50};
constexpr std::chrono::milliseconds kMaxBackoff{500};

bool out_of_resources(const beast::error_code& ec) {
    return ec == net::error::no_descriptors || ec == net::error::no_buffer_space || ec == net::error::no_memory ||
           (ec.category() == boost::system::system_category() && ec.value() == ENFILE);
}

// Written without waiting (the socket buffer of a new connection has room for it); built once.
const std::string& refusal_response() {
    static const std::string text = [] {
        std::string body = error_response(503, "unavailable", "too many connections").body;
        std::string head = "HTTP/1.1 503 Service Unavailable\r\nServer: voiceagentd\r\nContent-Type: application/json\r\n"
                           "Retry-After: 1\r\nConnection: close\r\n";
        for (const auto& [name, value] : security_headers()) head += name + ": " + value + "\r\n";
        return head + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    }();
    return text;
}

}  // namespace

void HttpServer::Impl::do_accept() {
    // A connection's handlers run on its loop's executor, without a strand: each loop is run by exactly one thread
    // (make_loops), which already serializes them in order, and a strand would cost a lock and a queue hop on
    // every frame.
    acceptor.async_accept(next_loop().get_executor(), [this](beast::error_code ec, tcp::socket socket) {
        if (ec) {
            if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
            request_metrics.accept_failed();
            bool pause = out_of_resources(ec);
            if (pause) accept_backoff = accept_backoff.count() ? std::min(accept_backoff * 2, kMaxBackoff) : kFirstBackoff;
            std::uint64_t suppressed = 0;
            if (accept_log.allow(Clock::now(), suppressed))
                spdlog::warn("accept failed: {}{} ({} similar failures not logged in the last 5 s)", ec.message(),
                             pause ? "; pausing new connections for " + std::to_string(accept_backoff.count()) + " ms"
                                   : "",
                             suppressed);
            if (pause) {
                accept_timer.expires_after(accept_backoff);
                accept_timer.async_wait([this](beast::error_code wait_ec) {
                    if (!wait_ec && acceptor.is_open()) do_accept();
                });
                return;
            }
        } else {
            accept_backoff = std::chrono::milliseconds(0);
            admit(std::move(socket));
        }
        if (acceptor.is_open()) do_accept();
    });
}

void HttpServer::Impl::admit(tcp::socket socket) {
    std::string remote;
    beast::error_code ec;
    auto endpoint = socket.remote_endpoint(ec);
    if (!ec) {
        auto address = endpoint.address();
        if (address.is_v6() && address.to_v6().is_v4_mapped())
            address = net::ip::make_address_v4(net::ip::v4_mapped, address.to_v6());
        remote = address.to_string();
    }
    ConnectionLimiter::Refusal why;
    auto slot = limiter.try_acquire(remote, why);
    if (!slot) {
        const char* reason = why == ConnectionLimiter::Refusal::max_connections ? "max_connections"
                                                                                 : "max_connections_per_ip";
        request_metrics.connection_refused(reason);
        const auto& text = refusal_response();
        // Best effort and never blocking: a client that does not read gets only the close.
        [[maybe_unused]] auto sent = ::send(socket.native_handle(), text.data(), text.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
        socket.shutdown(tcp::socket::shutdown_both, ec);
        socket.close(ec);
        std::uint64_t suppressed = 0;
        if (refusal_log.allow(Clock::now(), suppressed))
            spdlog::warn("connection from {} refused: {} reached ({} similar events not logged in the last 5 s)",
                         escape_log_field(remote, 64), reason, suppressed);
        return;
    }
    socket.set_option(tcp::no_delay(true), ec);
    std::make_shared<Session>(std::move(socket), std::move(remote), std::move(slot), *this)->start();
}

}  // namespace va::http
