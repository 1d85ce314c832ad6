// Forwarded call commands through a real redis-server: a daemon's answer (value or error) reaches the sender; a
// sender learns at once that nobody listens, and soon that the listener has gone quiet while it waits; a slow
// owner costs the sender no more than its timeout, and a command whose sender gave up is not run late.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "core/util/time.hpp"
#include "daemon/cluster/call_commands.hpp"
#include "support/eventually.hpp"
#include "support/redis_server.hpp"

using va::CallCommand;
using va::CallCommands;
using va::CallCommandSettings;
using va::ErrorCode;
using va::RedisPool;
using va::test::RedisServer;
using va::test::eventually;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {


CallCommandSettings quick(int reply_timeout_ms = 2000) {
    CallCommandSettings s;
    s.reply_timeout_ms = reply_timeout_ms;
    s.block_ms = 200;
    s.presence_ttl_ms = 600;
    return s;
}

// Waits (up to 2 s) until daemon `instance` is seen listening.
void wait_listening(const std::shared_ptr<RedisPool>& pool, const std::string& instance) {
    auto until = Clock::now() + std::chrono::seconds(2);
    while (Clock::now() < until) {
        auto r = pool->command({"EXISTS", "va:cmd:" + instance + ":alive"});
        if (r && r->integer == 1) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    FAIL("daemon " << instance << " never listened");
}

// A handler's way to stay busy until the test lets it go, so what a test shows does not depend on how fast the
// machine is. Declare it before the CallCommands whose handler waits on it, and a Gate::Opener after them: the
// gate opens (also when an assertion ends the test early) before the listener is stopped and joined.
struct Gate {
    std::mutex mutex;
    std::condition_variable cv;
    bool open = false;
    void wait() {
        std::unique_lock lock(mutex);
        cv.wait(lock, [this] { return open; });
    }
    void release() {
        {
            std::lock_guard lock(mutex);
            open = true;
        }
        cv.notify_all();
    }
    struct Opener {
        Gate& gate;
        ~Opener() { gate.release(); }
    };
};

}  // namespace

TEST_CASE("call commands: the owner runs the command with the sender's workspace and its answer comes back") {
    RedisServer server;
    auto pool = server.pool();
    CallCommands a(pool, "daemon-a", quick()), b(pool, "daemon-b", quick());
    std::mutex mutex;
    std::vector<CallCommand> seen;
    a.start([&](const CallCommand& c) -> va::Result<json> {
        {
            std::lock_guard lock(mutex);
            seen.push_back(c);
        }
        if (c.op == "hangup") return json{{"status", "hanging up"}, {"instance_id", "daemon-a"}};
        va::Error e = va::invalid_field("to", "must be an E.164 number");
        e.message = "to: must be an E.164 number";
        return e;
    });
    wait_listening(pool, "daemon-a");

    auto ok = b.send("daemon-a", CallCommand{"hangup", "call_1", "ws_1", json::object()});
    REQUIRE(ok);
    CHECK(*ok == json{{"status", "hanging up"}, {"instance_id", "daemon-a"}});

    // An error keeps its code, message and field details, so the client sees what the owner said.
    auto refused = b.send("daemon-a", CallCommand{"transfer", "call_1", "ws_1", json{{"to", "0"}}});
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code == ErrorCode::invalid_request);
    CHECK(refused.error().message == "to: must be an E.164 number");
    REQUIRE(refused.error().details.size() == 1);
    CHECK(refused.error().details[0].field == "to");

    std::lock_guard lock(mutex);
    REQUIRE(seen.size() == 2);
    CHECK(seen[0].op == "hangup");
    CHECK(seen[0].call_id == "call_1");
    CHECK(seen[0].workspace_id == "ws_1");
    CHECK(seen[1].args == json{{"to", "0"}});
    CHECK(a.executed() == 2);
    // Nothing is left behind: the reply lists were taken, and the command list is empty.
    auto keys = pool->command({"KEYS", "va:cmd:reply:*"});
    REQUIRE(keys);
    CHECK(keys->elements.empty());
    CHECK(pool->command({"LLEN", "va:cmd:daemon-a"})->integer == 0);
}

TEST_CASE("call commands: a daemon that does not listen is reported at once, not after the timeout") {
    RedisServer server;
    auto pool = server.pool();
    CallCommands b(pool, "daemon-b", quick(5000));
    auto r = b.send("daemon-gone", CallCommand{"hangup", "call_1", "ws_1", json::object()});
    REQUIRE_FALSE(r);
    // Unavailable, not the timeout (504) that waiting for an answer would end in.
    CHECK(r.error().code == ErrorCode::unavailable);
    CHECK(r.error().message.find("daemon daemon-gone") != std::string::npos);
    CHECK(r.error().message.find("not answering") != std::string::npos);
    // Nothing was queued for it: a daemon that comes back under that name later runs no stale command.
    CHECK(pool->command({"EXISTS", "va:cmd:daemon-gone"})->integer == 0);
}

TEST_CASE("call commands: a stopped listener says so, and senders stop waiting for it") {
    RedisServer server;
    auto pool = server.pool();
    CallCommands a(pool, "daemon-a", quick()), b(pool, "daemon-b", quick());
    a.start([](const CallCommand&) -> va::Result<json> { return json::object(); });
    wait_listening(pool, "daemon-a");
    a.stop();
    auto r = b.send("daemon-a", CallCommand{"hangup", "call_1", "ws_1", json::object()});
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::unavailable);
}

TEST_CASE("call commands: an owner that goes quiet while a sender waits is noticed within its presence TTL") {
    RedisServer server;
    auto pool = server.pool();
    // The owner is stuck in a command (as good as dead) until the test lets it go: its presence lapses after
    // 600 ms, while the sender would wait up to 60 s for the answer.
    Gate stuck;
    CallCommands a(pool, "daemon-a", quick()), b(pool, "daemon-b", quick(60'000));
    Gate::Opener opens_at_exit{stuck};
    a.start([&](const CallCommand&) -> va::Result<json> {
        stuck.wait();
        return json::object();
    });
    wait_listening(pool, "daemon-a");
    auto r = b.send("daemon-a", CallCommand{"hangup", "call_1", "ws_1", json::object()});
    REQUIRE_FALSE(r);
    // Unavailable while the owner is still stuck: neither its answer nor the sender's timeout (504) ended the wait.
    CHECK(r.error().code == ErrorCode::unavailable);
    CHECK(r.error().message.find("stopped answering") != std::string::npos);
    CHECK(a.executed() == 0);
    stuck.release();
}

TEST_CASE("call commands: a slow owner costs the sender its timeout, and a command that waited too long is skipped") {
    RedisServer server;
    auto pool = server.pool();
    CallCommandSettings slow_owner = quick();
    slow_owner.presence_ttl_ms = 5000;  // busy, not gone
    std::atomic<std::int64_t> ahead_ms{0};  // how far the owner's wall clock is moved forward
    slow_owner.clock_ms = [&ahead_ms] { return va::now_ms() + ahead_ms.load(); };
    std::atomic<int> ran{0};
    Gate busy;  // the owner's first command runs until the test lets it end
    CallCommands a(pool, "daemon-a", slow_owner), b(pool, "daemon-b", quick(300));
    Gate::Opener opens_at_exit{busy};
    a.start([&](const CallCommand&) -> va::Result<json> {
        ++ran;
        busy.wait();
        return json::object();
    });
    wait_listening(pool, "daemon-a");
    auto first = b.send("daemon-a", CallCommand{"hangup", "call_1", "ws_1", json::object()});
    REQUIRE_FALSE(first);
    CHECK(first.error().code == ErrorCode::timeout);  // 504
    CHECK(first.error().message.find("did not answer within 300 ms") != std::string::npos);
    // Queued behind the first; by the time the owner is free its sender has given up.
    auto second = b.send("daemon-a", CallCommand{"hangup", "call_2", "ws_1", json::object()});
    REQUIRE_FALSE(second);
    CHECK(second.error().code == ErrorCode::timeout);
    // The owner comes free once the second command's deadline (passed: its sender gave up) and the listener's
    // allowance for clock skew between daemons (500 ms) are both behind it, by the wall clock the listener reads:
    // moved a minute on rather than waited for.
    ahead_ms = 60'000;
    busy.release();
    REQUIRE(eventually([&] { return a.expired() == 1; }));
    CHECK(ran == 1);
}

TEST_CASE("call commands: with Redis down a sender fails fast with 503, and the listener recovers after") {
    RedisServer server;
    auto pool = server.pool();
    CallCommands a(pool, "daemon-a", quick()), b(pool, "daemon-b", quick());
    a.start([](const CallCommand& c) -> va::Result<json> { return json{{"call", c.call_id}}; });
    wait_listening(pool, "daemon-a");
    server.kill();
    auto r = b.send("daemon-a", CallCommand{"hangup", "call_1", "ws_1", json::object()});
    REQUIRE_FALSE(r);
    // Unavailable, naming Redis: not the timeout (504) that waiting for an answer would end in.
    CHECK(r.error().code == ErrorCode::unavailable);
    CHECK(r.error().message.find("Redis") != std::string::npos);
    server.start();
    // Reconnections back off; the next commands go through once both sides are connected again.
    va::Result<json> again = va::make_error(ErrorCode::unavailable, "not yet");
    auto until = Clock::now() + std::chrono::seconds(8);
    while (!again && Clock::now() < until) {
        again = b.send("daemon-a", CallCommand{"hangup", "call_2", "ws_1", json::object()});
        if (!again) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    REQUIRE(again);
    CHECK(*again == json{{"call", "call_2"}});
}
