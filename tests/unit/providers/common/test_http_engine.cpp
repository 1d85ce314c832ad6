#include <catch2/catch.hpp>

#include <httplib.h>

#include <atomic>
#include <cstring>
#include <condition_variable>
#include <filesystem>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "providers/common/http_engine.hpp"
#include "support/eventually.hpp"

using namespace va;
using namespace std::chrono_literals;

namespace {

// A gate the test opens: a handler held on it stays in flight as long as the test wants, without a timed sleep.
class Gate {
public:
    void open() {
        std::lock_guard lock(m_mutex);
        m_open = true;
        m_cv.notify_all();
    }
    void wait() {
        std::unique_lock lock(m_mutex);
        m_cv.wait(lock, [&] { return m_open; });
    }

private:
    std::mutex m_mutex;
    std::condition_variable m_cv;
    bool m_open = false;
};

// A loopback server on a port of its own: /chunks streams three pieces, /held waits at the gate before answering,
// /stall sends one piece and then holds at the gate, /error answers 429 with a body.
struct Server {
    httplib::Server http;
    Gate gate;
    std::atomic<int> held{0}, entered{0}, peak_held{0};
    std::atomic<bool> stall_writer_failed{false};
    std::thread thread;
    int port = 0;

    Server() {
        http.new_task_queue = [] { return new httplib::ThreadPool(80); };
        http.Get("/chunks", [](const httplib::Request&, httplib::Response& res) {
            res.set_chunked_content_provider("text/plain", [](size_t offset, httplib::DataSink& sink) {
                for (const char* piece : {"one,", "two,", "three"}) sink.write(piece, std::strlen(piece));
                (void)offset;
                sink.done();
                return true;
            });
        });
        http.Get("/held", [this](const httplib::Request&, httplib::Response& res) {
            ++entered;
            int now = ++held;
            for (int peak = peak_held.load(); now > peak && !peak_held.compare_exchange_weak(peak, now);) {
            }
            gate.wait();
            --held;
            res.set_content("done", "text/plain");
        });
        http.Get("/stall", [this](const httplib::Request&, httplib::Response& res) {
            res.set_chunked_content_provider("text/plain", [this](size_t offset, httplib::DataSink& sink) {
                if (offset == 0) {
                    sink.write("first", 5);
                    return true;
                }
                ++entered;
                gate.wait();
                // The client is gone by now: this write fails, which is how the test sees the cancel reached the wire.
                for (int i = 0; i < 64 && sink.is_writable(); ++i) sink.write(std::string(16384, 'x').data(), 16384);
                stall_writer_failed = !sink.is_writable();
                sink.done();
                return true;
            });
        });
        http.Get("/error", [](const httplib::Request&, httplib::Response& res) {
            res.status = 429;
            res.set_content(R"({"error":{"message":"slow down"}})", "application/json");
        });
        port = http.bind_to_any_port("127.0.0.1");
        thread = std::thread([this] { http.listen_after_bind(); });
        // stop() does nothing to a server that is not listening yet: wait, so the destructor cannot hang.
        while (!http.is_running()) std::this_thread::sleep_for(1ms);
    }
    ~Server() {
        gate.open();
        http.stop();
        thread.join();
    }
    HttpRequest get(const std::string& path) const {
        HttpRequest r;
        r.url = "http://127.0.0.1:" + std::to_string(port) + path;
        r.timeout_ms = 60000;
        return r;
    }
};

int thread_count() {
    int n = 0;
    for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/task")) ++n;
    return n;
}

}  // namespace

TEST_CASE("http engine: a streamed body arrives in order, then one outcome") {
    Server server;
    HttpEngine engine;
    std::mutex mutex;
    std::string body;
    std::promise<Result<HttpResult>> done;
    auto handle = engine.stream(server.get("/chunks"),
                                {[&](const HttpResult& head, std::string_view piece) {
                                     CHECK(head.status == 200);
                                     std::lock_guard lock(mutex);
                                     body += piece;
                                     return true;
                                 },
                                 [&](Result<HttpResult> outcome) { done.set_value(std::move(outcome)); }});
    auto outcome = done.get_future().get();
    REQUIRE(outcome);
    CHECK(outcome->status == 200);
    std::lock_guard lock(mutex);
    CHECK(body == "one,two,three");
}

TEST_CASE("http engine: an error status's body comes whole with the outcome, a refused connection as an error") {
    Server server;
    HttpEngine engine;
    std::atomic<int> pieces{0};
    std::promise<Result<HttpResult>> error_done, refused_done;
    auto error = engine.stream(server.get("/error"), {[&](const HttpResult&, std::string_view) { ++pieces; return true; },
                                                      [&](Result<HttpResult> r) { error_done.set_value(std::move(r)); }});
    auto r = error_done.get_future().get();
    REQUIRE(r);
    CHECK(r->status == 429);
    CHECK(r->body == R"({"error":{"message":"slow down"}})");
    CHECK(pieces == 0);

    HttpRequest closed = server.get("/chunks");
    closed.url = "http://127.0.0.1:1/nothing?key=secret";
    auto refused = engine.stream(closed, {nullptr, [&](Result<HttpResult> o) { refused_done.set_value(std::move(o)); }});
    auto o = refused_done.get_future().get();
    REQUIRE_FALSE(o);
    CHECK(o.error().code == ErrorCode::unavailable);
    CHECK(o.error().message.find("secret") == std::string::npos);  // the query stays out of errors
}

// The point of the engine: requests in flight are sockets, not threads.
TEST_CASE("http engine: 64 requests in flight at once on no more threads than before") {
    Server server;
    HttpEngine engine;
    // One request first, so the server's pool and the engine's thread are up before threads are counted.
    std::promise<Result<HttpResult>> warm;
    auto first = engine.stream(server.get("/chunks"), {nullptr, [&](Result<HttpResult> r) { warm.set_value(std::move(r)); }});
    REQUIRE(warm.get_future().get());
    int threads_before = thread_count();
    std::atomic<int> done{0}, ok{0};
    std::vector<std::unique_ptr<HttpEngine::Handle>> handles;
    for (int i = 0; i < 64; ++i)
        handles.push_back(engine.stream(server.get("/held"), {nullptr, [&](Result<HttpResult> r) {
                                                                 if (r && r->status == 200) ++ok;
                                                                 ++done;
                                                             }}));
    REQUIRE(va::test::eventually([&] { return server.held.load() == 64; }, 60s));
    CHECK(engine.in_flight() == 64);
    CHECK(thread_count() == threads_before);
    server.gate.open();
    REQUIRE(va::test::eventually([&] { return done.load() == 64; }, 60s));
    CHECK(ok == 64);
    CHECK(engine.in_flight() == 0);
    CHECK(engine.peak_in_flight() == 64);
}

TEST_CASE("http engine: after cancel returns no callback runs, and the transfer is dropped on the wire") {
    Server server;
    HttpEngine engine;
    std::atomic<int> pieces{0}, outcomes{0};
    auto handle = engine.stream(server.get("/stall"), {[&](const HttpResult&, std::string_view) { ++pieces; return true; },
                                                       [&](Result<HttpResult>) { ++outcomes; }});
    REQUIRE(va::test::eventually([&] { return pieces.load() >= 1 && server.entered.load() == 1; }));
    handle->cancel();
    int seen = pieces.load();
    REQUIRE(va::test::eventually([&] { return engine.in_flight() == 0; }));
    server.gate.open();
    // The server's writes fail once the engine has closed the socket: proof the cancel reached the wire.
    REQUIRE(va::test::eventually([&] { return server.stall_writer_failed.load(); }));
    CHECK(pieces == seen);
    CHECK(outcomes == 0);
}

TEST_CASE("http engine: a reader that stops gets the status so far, and a throwing callback harms nobody else") {
    Server server;
    HttpEngine engine;
    std::promise<Result<HttpResult>> stopped;
    auto first = engine.stream(server.get("/chunks"), {[](const HttpResult&, std::string_view) { return false; },
                                                       [&](Result<HttpResult> r) { stopped.set_value(std::move(r)); }});
    auto r = stopped.get_future().get();
    REQUIRE(r);
    CHECK(r->status == 200);

    std::promise<Result<HttpResult>> thrown;
    auto second = engine.stream(server.get("/chunks"),
                                {[](const HttpResult&, std::string_view) -> bool { throw std::runtime_error("reader bug"); },
                                 [&](Result<HttpResult> o) { thrown.set_value(std::move(o)); }});
    CHECK(thrown.get_future().get());  // stopped like a reader that had enough
    std::promise<std::string> next;
    std::string body;
    auto third = engine.stream(server.get("/chunks"), {[&](const HttpResult&, std::string_view p) { body += p; return true; },
                                                       [&](Result<HttpResult>) { next.set_value(body); }});
    CHECK(next.get_future().get() == "one,two,three");
}

TEST_CASE("http engine: timers fire in order on the engine thread, and a cancelled one never does") {
    HttpEngine engine;
    std::mutex mutex;
    std::vector<int> fired;
    std::promise<void> last;
    auto record = [&](int n) {
        return [&, n] {
            std::lock_guard lock(mutex);
            fired.push_back(n);
            if (n == 3) last.set_value();
        };
    };
    auto cancelled = engine.after(0, record(9));
    cancelled->cancel();
    // Deadlines count from each call, so their gaps must dwarf a stall of this thread between the calls (a
    // loaded machine paused it 30 ms once, and the order swapped).
    auto third = engine.after(2000, record(3));
    auto first = engine.after(0, record(1));
    auto second = engine.after(1000, record(2));
    last.get_future().get();
    std::lock_guard lock(mutex);
    CHECK(fired == std::vector<int>{1, 2, 3});
}

TEST_CASE("http engine: a handle may cancel itself from its own callback") {
    Server server;
    HttpEngine engine;
    std::unique_ptr<HttpEngine::Handle> handle;
    std::mutex mutex;
    std::atomic<int> pieces{0}, outcomes{0};
    std::promise<void> cancelled;
    {
        std::lock_guard lock(mutex);  // the callback must not see `handle` before it is set
        handle = engine.stream(server.get("/chunks"), {[&](const HttpResult&, std::string_view) {
                                                           std::lock_guard l(mutex);
                                                           ++pieces;
                                                           handle->cancel();
                                                           cancelled.set_value();
                                                           return true;
                                                       },
                                                       [&](Result<HttpResult>) { ++outcomes; }});
    }
    cancelled.get_future().get();
    REQUIRE(va::test::eventually([&] { return engine.in_flight() == 0; }));
    CHECK(pieces == 1);
    CHECK(outcomes == 0);
}
