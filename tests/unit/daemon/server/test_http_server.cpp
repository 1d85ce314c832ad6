// The HTTP server on its own (port 0, a test router): security headers, CORS, error bodies, bounded metric labels,
// connection caps, the WebSocket send-queue cap, and the I/O threads' loops (a connection stays on one).
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <iterator>
#include <map>
#include <set>
#include <sstream>

#include <atomic>
#include <future>
#include <nlohmann/json.hpp>
#include <mutex>
#include <thread>

#include "daemon/server/connection_limits.hpp"
#include "daemon/server/http_server.hpp"
#include "support/eventually.hpp"
#include "support/http_client.hpp"

using namespace va;
using namespace va::http;
using va::test::eventually;
using va::test::RawConnection;

namespace {

struct TestServer {
    MetricsRegistry metrics;
    Router router;
    std::unique_ptr<HttpServer> server;
    std::thread thread;
    int io_threads = 1;

    explicit TestServer(ServerOptions options = quiet()) {
        router.add("GET", "/ok", [](Request&) {
            Response r;
            r.body = R"({"ok":true})";
            return r;
        });
        m_options = std::move(options);
    }
    void start() {
        m_options.port = 0;
        m_options.io_threads = io_threads;
        m_options.worker_threads = 1;
        m_options.shutdown_grace_ms = 500;
        server = std::make_unique<HttpServer>(m_options, router, metrics);
        server->start();
        thread = std::thread([this] { server->run(); });
    }
    ~TestServer() {
        if (!server) return;
        server->stop();
        thread.join();
    }
    int port() const { return server->port(); }
    // One request on its own connection (closed after the answer); the raw answer.
    std::string ask(const std::string& method, const std::string& target, const std::string& headers = "") const {
        return va::test::raw_exchange(port(), method + " " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" +
                                                  headers + "\r\n",
                                      5000);
    }

    static ServerOptions quiet() {
        ServerOptions o;
        o.access_log = false;
        return o;
    }

private:
    ServerOptions m_options;
};

// Captures what the server logs (the default spdlog logger) for the life of the object.
// Keeps every formatted line in memory: the daemon's log as the tests read it.
class LineSink : public spdlog::sinks::base_sink<std::mutex> {
public:
    std::vector<std::string> lines() {
        std::lock_guard lock(mutex_);
        return m_lines;
    }

protected:
    void sink_it_(const spdlog::details::log_msg& msg) override {
        spdlog::memory_buf_t formatted;
        formatter_->format(msg, formatted);
        m_lines.emplace_back(formatted.data(), formatted.size());
    }
    void flush_() override {}

private:
    std::vector<std::string> m_lines;
};

class LogCapture {
public:
    explicit LogCapture(spdlog::level::level_enum level = spdlog::level::info)
        : m_sink(std::make_shared<LineSink>()), m_old(spdlog::default_logger()) {
        auto logger = std::make_shared<spdlog::logger>("capture", m_sink);
        logger->set_pattern("%v");
        logger->set_level(level);
        spdlog::set_default_logger(logger);
    }
    ~LogCapture() { spdlog::set_default_logger(m_old); }
    std::vector<std::string> lines() const { return m_sink->lines(); }
    std::size_t count(const std::string& needle) const {
        std::size_t n = 0;
        for (const auto& line : lines()) n += line.find(needle) != std::string::npos;
        return n;
    }

private:
    std::shared_ptr<LineSink> m_sink;
    std::shared_ptr<spdlog::logger> m_old;
};

std::string body_of(const std::string& answer) {
    auto at = answer.find("\r\n\r\n");
    return at == std::string::npos ? "" : answer.substr(at + 4);
}

bool has_header(const std::string& answer, const std::string& line) {
    auto end = answer.find("\r\n\r\n");
    if (end == std::string::npos) return false;
    return answer.substr(0, end + 2).find("\r\n" + line + "\r\n") != std::string::npos;
}

}  // namespace

TEST_CASE("server: every answer carries the security headers, errors included") {
    TestServer s;
    s.start();
    for (auto answer : {s.ask("GET", "/ok"), s.ask("GET", "/missing"), s.ask("POST", "/ok"),
                        va::test::raw_exchange(s.port(), "GARBAGE\r\n\r\n", 5000)}) {
        INFO(answer);
        CHECK(has_header(answer, "X-Content-Type-Options: nosniff"));
        CHECK(has_header(answer, "Referrer-Policy: no-referrer"));
        CHECK(has_header(answer, "Content-Security-Policy: default-src 'none'; frame-ancestors 'none'"));
        CHECK(has_header(answer, "X-Frame-Options: DENY"));
        CHECK(answer.find("Access-Control-") == std::string::npos);  // no CORS unless origins are configured
    }
}

TEST_CASE("server: a path with control characters and invalid UTF-8 gets a 404 whose body is valid JSON") {
    LogCapture log;
    ServerOptions options = TestServer::quiet();
    options.access_log = true;
    TestServer s(options);
    s.start();
    auto answer = s.ask("GET", "/x%0aforged%22%ff%00");
    REQUIRE(answer.rfind("HTTP/1.1 404", 0) == 0);
    auto body = nlohmann::json::parse(body_of(answer), nullptr, false);
    REQUIRE_FALSE(body.is_discarded());
    CHECK(body["error"]["code"] == "not_found");
    CHECK(body["error"]["message"].get<std::string>().find("/x\nforged\"") != std::string::npos);
    // The access line is one line, its path escaped: the %0a forges nothing.
    CHECK(log.count(R"(http GET /x\x0aforged\"\xff\x00 404)") == 1);
    for (const auto& line : log.lines()) CHECK(line.find('\n') == line.size() - 1);  // the line's own end only
}

TEST_CASE("server: CORS echoes only configured origins and answers their preflight") {
    ServerOptions options = TestServer::quiet();
    options.cors_origins = {"https://console.example.com"};
    TestServer s(options);
    s.start();
    auto listed = s.ask("GET", "/ok", "Origin: https://console.example.com\r\n");
    CHECK(has_header(listed, "Access-Control-Allow-Origin: https://console.example.com"));
    CHECK(has_header(listed, "Vary: Origin"));
    auto other = s.ask("GET", "/ok", "Origin: https://evil.example.net\r\n");
    CHECK(other.rfind("HTTP/1.1 200", 0) == 0);
    CHECK(other.find("Access-Control-Allow-Origin") == std::string::npos);
    CHECK(has_header(other, "Vary: Origin"));

    auto preflight = s.ask("OPTIONS", "/ok",
                           "Origin: https://console.example.com\r\nAccess-Control-Request-Method: POST\r\n"
                           "Access-Control-Request-Headers: authorization, content-type\r\n");
    INFO(preflight);
    CHECK(preflight.rfind("HTTP/1.1 204", 0) == 0);
    CHECK(has_header(preflight, "Access-Control-Allow-Origin: https://console.example.com"));
    CHECK(has_header(preflight, "Access-Control-Allow-Methods: GET, POST, PUT, PATCH, DELETE"));
    CHECK(has_header(preflight, "Access-Control-Allow-Headers: Authorization, Content-Type"));
    CHECK(has_header(preflight, "X-Content-Type-Options: nosniff"));
    auto refused = s.ask("OPTIONS", "/ok", "Origin: https://evil.example.net\r\nAccess-Control-Request-Method: POST\r\n");
    CHECK(refused.rfind("HTTP/1.1 405", 0) == 0);
    CHECK(refused.find("Access-Control-Allow-Origin") == std::string::npos);
}

TEST_CASE("server: unknown methods and unmatched paths are one metrics label each") {
    TestServer s;
    s.start();
    for (int i = 0; i < 20; ++i) s.ask("M" + std::to_string(i) + "XYZ", "/path" + std::to_string(i));
    s.ask("GET", "/ok");
    auto text = s.metrics.render();
    INFO(text);
    CHECK(text.find("XYZ") == std::string::npos);
    CHECK(text.find("/path") == std::string::npos);
    CHECK(text.find(R"(voiceagent_http_requests_total{method="other",route="unmatched",status="404"} 20)") !=
          std::string::npos);
    CHECK(text.find(R"(voiceagent_http_requests_total{method="GET",route="/ok",status="200"} 1)") != std::string::npos);
}

TEST_CASE("server: one client address may hold at most max_connections_per_ip connections") {
    ServerOptions options = TestServer::quiet();
    options.max_connections_per_ip = 2;
    TestServer s(options);
    s.start();
    const std::string keep_alive = "GET /ok HTTP/1.1\r\nHost: x\r\n\r\n";
    auto first = std::make_unique<RawConnection>(s.port());
    RawConnection second(s.port());
    // Answers on both show the server holds both connections.
    for (auto* c : {first.get(), &second}) {
        REQUIRE(c->send(keep_alive));
        std::string got;
        REQUIRE(eventually([&] {
            got += c->read_all(20);
            return got.find(R"({"ok":true})") != std::string::npos;
        }));
    }
    RawConnection third(s.port());
    std::string refused;
    REQUIRE(third.wait_closed(5000, &refused));
    INFO(refused);
    CHECK(refused.rfind("HTTP/1.1 503", 0) == 0);
    CHECK(has_header(refused, "X-Content-Type-Options: nosniff"));
    CHECK(s.metrics.render().find(
              R"(voiceagent_http_connections_refused_total{reason="max_connections_per_ip"} 1)") != std::string::npos);
    // The admitted ones still work, and a closed one frees its place.
    REQUIRE(second.send("GET /ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
    CHECK(second.read_all(5000).rfind("HTTP/1.1 200", 0) == 0);
    first.reset();
    CHECK(eventually([&] { return s.ask("GET", "/ok").rfind("HTTP/1.1 200", 0) == 0; }));
}

TEST_CASE("connection limiter: global and per-address caps, released slots count again") {
    ConnectionLimiter limiter(3, 2);
    ConnectionLimiter::Refusal why;
    auto a1 = limiter.try_acquire("10.0.0.1", why);
    auto a2 = limiter.try_acquire("10.0.0.1", why);
    REQUIRE((a1 && a2));
    CHECK_FALSE(limiter.try_acquire("10.0.0.1", why));
    CHECK(why == ConnectionLimiter::Refusal::max_connections_per_ip);
    auto b1 = limiter.try_acquire("10.0.0.2", why);
    REQUIRE(b1);
    CHECK_FALSE(limiter.try_acquire("10.0.0.3", why));
    CHECK(why == ConnectionLimiter::Refusal::max_connections);
    a1.reset();
    CHECK(limiter.open() == 2);
    CHECK(limiter.try_acquire("10.0.0.3", why));
    ConnectionLimiter unlimited(0, 0);
    std::vector<std::unique_ptr<ConnectionSlot>> many;
    for (int i = 0; i < 100; ++i) many.push_back(unlimited.try_acquire("10.0.0.1", why));
    CHECK(unlimited.open() == 100);
}

TEST_CASE("log rate limiter: one line per interval, then the count held back") {
    LogRateLimiter limiter(std::chrono::seconds(5));
    auto t0 = LogRateLimiter::Clock::time_point{} + std::chrono::hours(1);
    std::uint64_t suppressed = 99;
    CHECK(limiter.allow(t0, suppressed));
    CHECK(suppressed == 0);
    for (int i = 0; i < 1000; ++i) CHECK_FALSE(limiter.allow(t0 + std::chrono::milliseconds(i), suppressed));
    CHECK(limiter.allow(t0 + std::chrono::seconds(5), suppressed));
    CHECK(suppressed == 1000);
}

namespace {

class FloodHandler final : public WsHandler {
public:
    explicit FloodHandler(std::promise<void>& closed) : m_closed(closed) {}
    void on_open(std::shared_ptr<WsConnection> connection) override {
        for (int i = 0; i < 200; ++i) connection->send_binary(std::string(64 * 1024, 'x'));
    }
    void on_text(std::string_view) override {}
    void on_binary(std::string_view) override {}
    void on_close() override { m_closed.set_value(); }

private:
    std::promise<void>& m_closed;
};

// A TCP connection to 127.0.0.1:port with a tiny receive buffer, so the server's writes stall at once.
int tiny_window_socket(int port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int size = 4096;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

}  // namespace

TEST_CASE("server: a WebSocket peer that does not read is closed as a slow consumer and torn down") {
    std::promise<void> closed;
    ServerOptions options = TestServer::quiet();
    options.ws_max_queue_bytes = 1024 * 1024;
    options.ws_close_grace_ms = 200;
    TestServer s(options);
    s.router.add_websocket("/flood", [&closed](Request&) -> Result<std::unique_ptr<WsHandler>> {
        return std::unique_ptr<WsHandler>(std::make_unique<FloodHandler>(closed));
    });
    s.start();
    int fd = tiny_window_socket(s.port());
    REQUIRE(fd >= 0);
    std::string upgrade = "GET /flood HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    REQUIRE(::send(fd, upgrade.data(), upgrade.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(upgrade.size()));
    // The client never reads; the server must give up on it by itself.
    auto gone = closed.get_future();
    REQUIRE(gone.wait_for(std::chrono::seconds(20)) == std::future_status::ready);
    CHECK(s.metrics.render().find("voiceagent_websocket_slow_consumers_total 1") != std::string::npos);
    // What the client finally reads ends in a close (reset or EOF), not an open socket.
    bool ended = false;
    std::string received;
    char buf[65536];
    ended = eventually([&] {
        pollfd p{fd, POLLIN, 0};
        while (poll(&p, 1, 0) > 0) {
            ssize_t n = recv(fd, buf, sizeof buf, 0);
            if (n <= 0) return true;
            if (received.size() < 1024) received.append(buf, static_cast<std::size_t>(std::min<ssize_t>(n, 1024)));
        }
        return false;
    });
    close(fd);
    CHECK(ended);
    // A reset may discard what was still unread; when the upgrade answer was read, it had the security headers.
    if (!received.empty()) {
        CHECK(received.rfind("HTTP/1.1 101", 0) == 0);
        CHECK(has_header(received, "X-Content-Type-Options: nosniff"));
    }
}

TEST_CASE("server: out of descriptors, accepting pauses instead of spinning, then serves again") {
    // Logging is off while descriptors are out: UBSan's own checks of a log call need a pipe (two descriptors) and
    // would report a false "invalid vptr". The rate limit of the failure line has its own test (log rate limiter).
    LogCapture log(spdlog::level::off);
    TestServer s;
    RouteOptions offloaded;
    offloaded.offload = true;
    s.router.add("GET", "/worker", [](Request&) { return Response{}; }, offloaded);
    s.start();
    // Served once on the I/O thread and once on the worker first: every thread of the server has started. A thread
    // that first runs with no descriptor left makes UBSan report a false "invalid vptr" too, and on a loaded machine
    // the worker's thread may not have been scheduled yet when only the I/O thread has answered.
    REQUIRE(s.ask("GET", "/ok").rfind("HTTP/1.1 200", 0) == 0);
    REQUIRE(s.ask("GET", "/worker").rfind("HTTP/1.1 200", 0) == 0);
    Counter* failures = s.metrics.counter("voiceagent_http_accept_failures_total", {});
    // Client sockets are made while descriptors are plenty; connecting them later needs no new descriptor.
    std::vector<int> clients;
    for (int i = 0; i < 40; ++i) clients.push_back(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    rlimit saved{};
    REQUIRE(getrlimit(RLIMIT_NOFILE, &saved) == 0);
    auto open_fds = std::distance(std::filesystem::directory_iterator("/proc/self/fd"),
                                  std::filesystem::directory_iterator());
    rlimit low = saved;
    low.rlim_cur = static_cast<rlim_t>(open_fds + 8);  // room for a few accepted connections, not for 40
    REQUIRE(setrlimit(RLIMIT_NOFILE, &low) == 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(s.port()));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int fd : clients) connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);  // into the backlog
    // Three failures mean three pauses (50, 100, 200 ms) have begun; a loop that spun would have failed
    // thousands of times by then instead of a handful.
    bool failed = eventually([&] { return failures->value() >= 3; }, std::chrono::seconds(20));
    double seen = failures->value();
    for (int fd : clients) close(fd);
    setrlimit(RLIMIT_NOFILE, &saved);
    REQUIRE(failed);
    INFO(seen << " accept failures");
    CHECK(seen <= 10);
    // Served again once descriptors are free.
    REQUIRE(eventually([&] { return s.ask("GET", "/ok").rfind("HTTP/1.1 200", 0) == 0; }, std::chrono::seconds(10)));
}

namespace {

class QuietHandler final : public WsHandler {
public:
    void on_open(std::shared_ptr<WsConnection>) override {}
    void on_text(std::string_view) override {}
    void on_binary(std::string_view) override {}
    void on_close() override {}
};

}  // namespace

TEST_CASE("server: a WebSocket accept runs off the I/O thread, which answers other requests meanwhile") {
    // One I/O thread: an accept that ran on it (a call's start-up work: the store, the agent's templates) would
    // hold every other connection until it returned.
    std::promise<void> gate;
    std::shared_future<void> open = gate.get_future().share();
    std::atomic<bool> accepting{false};
    TestServer s;
    s.router.add_websocket("/held", [open, &accepting](Request&) -> Result<std::unique_ptr<WsHandler>> {
        accepting = true;
        open.wait();
        return std::unique_ptr<WsHandler>(std::make_unique<QuietHandler>());
    });
    s.start();
    std::string upgrade = "GET /held HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    auto upgraded = std::async(std::launch::async, [&] { return va::test::raw_exchange(s.port(), upgrade, 10000); });
    REQUIRE(eventually([&] { return accepting.load(); }));
    std::string answer = s.ask("GET", "/ok");  // while the accept is held
    gate.set_value();
    CHECK(answer.rfind("HTTP/1.1 200", 0) == 0);
    CHECK(upgraded.get().rfind("HTTP/1.1 101", 0) == 0);
}

namespace {

// Notes the thread each WebSocket opened on and counts the ones that closed.
class WhereHandler final : public WsHandler {
public:
    WhereHandler(std::mutex& m, std::vector<std::thread::id>& opened, std::atomic<int>& closed)
        : m_mutex(m), m_opened(opened), m_closed(closed) {}
    void on_open(std::shared_ptr<WsConnection>) override {
        std::lock_guard lock(m_mutex);
        m_opened.push_back(std::this_thread::get_id());
    }
    void on_text(std::string_view) override {}
    void on_binary(std::string_view) override {}
    void on_close() override { ++m_closed; }

private:
    std::mutex& m_mutex;
    std::vector<std::thread::id>& m_opened;
    std::atomic<int>& m_closed;
};

std::string thread_name() {
    std::ostringstream out;
    out << std::this_thread::get_id();
    return out.str();
}

}  // namespace

TEST_CASE("server: with two I/O threads each runs a loop of its own, and connections land on both") {
    std::mutex m;
    std::map<boost::asio::io_context*, std::string> hooked;  // each loop, and the thread the hook saw it on
    ServerOptions options = TestServer::quiet();
    options.on_loop_thread = [&](boost::asio::io_context& loop) {
        std::lock_guard lock(m);
        hooked[&loop] = thread_name();
    };
    TestServer s(options);
    s.io_threads = 2;
    s.router.add("GET", "/thread", [](Request&) {
        Response r;
        r.content_type = "text/plain";
        r.body = thread_name();  // served inline: the thread of the connection's loop
        return r;
    });
    s.start();
    std::set<std::string> served_on;
    for (int i = 0; i < 6; ++i) served_on.insert(body_of(s.ask("GET", "/thread")));
    CHECK(served_on.size() == 2);
    std::lock_guard lock(m);
    REQUIRE(hooked.size() == 2);
    std::set<std::string> hook_threads;
    for (const auto& [loop, thread] : hooked) hook_threads.insert(thread);
    CHECK(hook_threads == served_on);
}

TEST_CASE("server: stop() drains a WebSocket on a secondary loop as on the first") {
    std::mutex m;
    std::vector<std::thread::id> opened;
    std::atomic<int> closed{0};
    TestServer s;
    s.io_threads = 2;
    s.router.add_websocket("/where", [&](Request&) -> Result<std::unique_ptr<WsHandler>> {
        return std::unique_ptr<WsHandler>(std::make_unique<WhereHandler>(m, opened, closed));
    });
    s.start();
    std::string upgrade = "GET /where HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    // Round robin: two connections in a row are on the two loops.
    RawConnection first(s.port()), second(s.port());
    REQUIRE(first.send(upgrade));
    REQUIRE(second.send(upgrade));
    REQUIRE(eventually([&] {
        std::lock_guard lock(m);
        return opened.size() == 2;
    }));
    {
        std::lock_guard lock(m);
        CHECK(opened[0] != opened[1]);
        // run()'s own thread runs loop 0; the other one is the secondary loop's.
        CHECK((opened[0] != s.thread.get_id() || opened[1] != s.thread.get_id()));
    }
    // Both clients read all along: the reset that ends a close the client never answers may discard unread bytes.
    auto read_until_closed = [](RawConnection& c) {
        std::string received;
        bool ended = c.wait_closed(10000, &received);
        return ended ? received : std::string();
    };
    s.server->stop();
    auto on_first = std::async(std::launch::async, read_until_closed, std::ref(first));
    auto on_second = std::async(std::launch::async, read_until_closed, std::ref(second));
    s.thread.join();  // run() returned: every loop is out of work
    s.server.reset();
    CHECK(closed == 2);
    // Each client was told why (1001 going away) before its connection ended.
    const std::string going_away = std::string("\x03\xe9") + "server shutting down";
    CHECK(on_first.get().find(going_away) != std::string::npos);
    CHECK(on_second.get().find(going_away) != std::string::npos);
}
