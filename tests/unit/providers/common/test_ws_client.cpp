#include <catch2/catch.hpp>

#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "providers/common/ws_client.hpp"

using namespace va;

TEST_CASE("ws client: URLs split into scheme, host, port and target") {
    auto plain = parse_ws_url("ws://127.0.0.1:9000/v1/listen?model=nova-2");
    REQUIRE(plain);
    CHECK(!plain->tls);
    CHECK(plain->host == "127.0.0.1");
    CHECK(plain->port == "9000");
    CHECK(plain->target == "/v1/listen?model=nova-2");
    auto tls = parse_ws_url("wss://api.deepgram.com/v1/listen");
    REQUIRE(tls);
    CHECK(tls->tls);
    CHECK(tls->port == "443");
    auto v6 = parse_ws_url("ws://[::1]:8080");
    REQUIRE(v6);
    CHECK(v6->host == "::1");
    CHECK(v6->port == "8080");
    CHECK(v6->target == "/");
    CHECK(!parse_ws_url("http://example.com/"));
    CHECK(!parse_ws_url("ws://:80/"));
}

TEST_CASE("ws client: a connection that cannot be made is reported once, with a transient error") {
    std::mutex m;
    std::condition_variable cv;
    std::optional<Error> error;
    int closes = 0;
    WsClientCallbacks cb;
    cb.on_closed = [&](int code, std::string, std::optional<Error> e) {
        std::lock_guard lock(m);
        CHECK(code == 0);
        error = e;
        ++closes;
        cv.notify_all();
    };
    // Port 1 on loopback: nothing listens there.
    auto client = WsClient::connect({"ws://127.0.0.1:1/x", {}, 2000, 0}, cb);
    std::unique_lock lock(m);
    REQUIRE(cv.wait_for(lock, std::chrono::seconds(5), [&] { return closes > 0; }));
    REQUIRE(error);
    CHECK(error->transient());
    client->send_text("dropped: the connection is gone");
    CHECK(closes == 1);
}

// Deadlines of WebSocket protocols (the ElevenLabs sentence's quiet time) run as timers on the shared I/O thread.
TEST_CASE("ws client: ws_after timers run on the I/O thread, and a destroyed one never runs") {
    std::mutex m;
    std::condition_variable cv;
    std::vector<int> fired;
    std::thread::id ran_on;
    auto record = [&](int n) {
        return [&, n] {
            std::lock_guard lock(m);
            fired.push_back(n);
            ran_on = std::this_thread::get_id();
            cv.notify_all();
        };
    };
    auto dropped = ws_after(0, record(9));
    dropped.reset();  // destroyed before it could run
    // Armed after the dropped one and due later: once it has run, the dropped one's moment has passed.
    auto later = ws_after(40, record(2));
    std::unique_lock lock(m);
    REQUIRE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return !fired.empty(); }));
    CHECK(fired == std::vector<int>{2});
    CHECK(ran_on != std::this_thread::get_id());
}
