// Provider WebSockets on an adopted loop (io_loop.hpp): a connection started from a thread that runs a loop of its
// own delivers its callbacks on that thread, and an owner's timers on the owner's loop run there too, in one order
// with its connection's messages.
#include <catch2/catch.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <algorithm>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "providers/common/io_loop.hpp"
#include "providers/common/ws_client.hpp"
#include "providers/fake/fake_server.hpp"
#include "support/eventually.hpp"

using namespace va;
using va::test::eventually;

namespace {

// Sends "1", "2", "3" as soon as the client is connected.
class Counter final : public http::WsHandler {
public:
    void on_open(std::shared_ptr<http::WsConnection> connection) override {
        for (const char* n : {"1", "2", "3"}) connection->send_text(n);
    }
    void on_text(std::string_view) override {}
    void on_binary(std::string_view) override {}
    void on_close() override {}
};

struct CountingServer {
    fake::LoopbackServer server;
    CountingServer() {
        server.router().add_websocket("/count", [](http::Request&) -> Result<std::unique_ptr<http::WsHandler>> {
            return std::unique_ptr<http::WsHandler>(std::make_unique<Counter>());
        });
        server.start(0, 1);
    }
    std::string url() const { return "ws://127.0.0.1:" + std::to_string(server.port()) + "/count"; }
};

// A thread running a loop it has adopted, as the daemon's I/O threads do.
struct LoopThread {
    boost::asio::io_context loop{1};
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{loop.get_executor()};
    std::thread thread{[this] {
        adopt_thread_loop(&loop);
        loop.run();
    }};
    ~LoopThread() {
        work.reset();
        thread.join();
    }
};

// What ran where, in the order it ran.
struct Log {
    std::mutex mutex;
    std::vector<std::string> events;
    std::vector<std::thread::id> threads;
    void add(std::string event) {
        std::lock_guard lock(mutex);
        events.push_back(std::move(event));
        threads.push_back(std::this_thread::get_id());
    }
    std::size_t size() {
        std::lock_guard lock(mutex);
        return events.size();
    }
};

}  // namespace

TEST_CASE("io loop: a connection made from a thread that adopted a loop runs its callbacks on that thread") {
    CountingServer server;
    Log log;  // outlives the loop's thread, which may still be running a callback
    LoopThread io;
    std::mutex connected;
    std::shared_ptr<WsClient> client;
    WsClientCallbacks cb;
    cb.on_open = [&] { log.add("open"); };
    cb.on_message = [&](bool, std::string data) { log.add(data); };
    boost::asio::post(io.loop, [&] {
        std::lock_guard lock(connected);
        client = WsClient::connect({server.url(), {}, 5000, 0}, cb);  // no loop given: the thread's own
    });
    REQUIRE(eventually([&] { return log.size() >= 4; }));
    {
        std::lock_guard lock(log.mutex);
        CHECK(log.events == std::vector<std::string>{"open", "1", "2", "3"});
        for (auto id : log.threads) CHECK(id == io.thread.get_id());
    }
    std::lock_guard lock(connected);
    client->abort();
}

TEST_CASE("io loop: an owner's ws_after on its loop runs on its connection's thread, after the messages before it") {
    CountingServer server;
    Log log;
    std::mutex m;
    LoopThread io;
    WsLoop owner;  // captured on the loop's thread when it connects, as the providers' owners do
    std::shared_ptr<WsClient> client;
    std::unique_ptr<WsTimer> in_callback, from_outside;
    WsClientCallbacks cb;
    cb.on_message = [&](bool, std::string data) {
        log.add(data);
        if (data != "1") return;
        // Armed from the connection's own callback: it cannot overtake the message that armed it.
        std::lock_guard lock(m);
        in_callback = ws_after(0, [&] { log.add("timer after 1"); }, owner);
    };
    boost::asio::post(io.loop, [&] {
        std::lock_guard lock(m);
        owner = WsLoop::current();
        client = WsClient::connect({server.url(), {}, 5000, 0}, cb, owner);
    });
    REQUIRE(eventually([&] {
        std::lock_guard lock(log.mutex);
        return std::count(log.events.begin(), log.events.end(), "3") == 1;
    }));
    {
        // Armed by a thread that has no loop of its own: the owner's loop still runs it.
        std::lock_guard lock(m);
        REQUIRE(owner.adopted() == &io.loop);
        from_outside = ws_after(0, [&] { log.add("timer from outside"); }, owner);
    }
    REQUIRE(eventually([&] { return log.size() >= 5; }));
    std::lock_guard lock(log.mutex);
    auto at = [&](const std::string& e) { return std::find(log.events.begin(), log.events.end(), e) - log.events.begin(); };
    CHECK(at("timer after 1") > at("1"));
    CHECK(at("timer from outside") > at("3"));
    for (auto id : log.threads) CHECK(id == io.thread.get_id());
    std::lock_guard hold(m);
    client->abort();
}
