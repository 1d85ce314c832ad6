// The live-session registry through a real redis-server: a session's hash appears with its fields and a TTL, is
// renewed while the call lives, comes back after Redis loses it, and goes when the call ends or the daemon stops.
#include <catch2/catch.hpp>

#include <chrono>
#include <functional>
#include <thread>

#include "daemon/cluster/live_sessions.hpp"
#include "support/eventually.hpp"
#include "support/redis_server.hpp"

using va::LiveSession;
using va::LiveSessionSettings;
using va::RedisLiveSessions;
using va::RedisPool;
using va::test::RedisServer;
using va::test::eventually;
using Clock = std::chrono::steady_clock;

namespace {


std::int64_t pttl(const std::shared_ptr<RedisPool>& pool, const std::string& key) {
    auto r = pool->command({"PTTL", key});
    return r ? r->integer : -3;
}

LiveSessionSettings quick() {
    LiveSessionSettings s;
    s.ttl_ms = 1000;
    s.refresh_ms = 200;
    return s;
}

}  // namespace

TEST_CASE("live sessions: a live call's hash has its fields and a TTL, is renewed, and goes when the call ends") {
    RedisServer server;
    auto pool = server.pool();
    RedisLiveSessions registry(pool, "daemon-a", quick());
    registry.start();
    registry.add({"call_1", "ignored", "ws_1", "twilio", "CA123", 1'700'000'000'000});
    REQUIRE(eventually([&] { return pttl(pool, "va:live:call_1") > 0; }));
    auto found = registry.lookup("call_1");
    REQUIRE(found);
    REQUIRE(found->has_value());
    const LiveSession& s = **found;
    CHECK(s.instance == "daemon-a");  // always this daemon's
    CHECK(s.workspace_id == "ws_1");
    CHECK(s.channel == "twilio");
    CHECK(s.provider_call_id == "CA123");
    CHECK(s.started_at == 1'700'000'000'000);
    CHECK(pttl(pool, "va:live:call_1") <= 1000);

    // The writer renews it: its time to live, which only falls between renewals, goes back up (seen twice).
    for (int renewal = 0; renewal < 2; ++renewal) {
        std::int64_t seen = 0;  // read well after a renewal, so the next one is sure to set it higher
        REQUIRE(eventually([&] { return (seen = pttl(pool, "va:live:call_1")) > 0 && seen < 900; }));
        CHECK(eventually([&] { return pttl(pool, "va:live:call_1") > seen; }));
    }

    registry.remove("call_1");
    CHECK(eventually([&] { return pttl(pool, "va:live:call_1") == -2; }, std::chrono::seconds(1)));
    auto gone = registry.lookup("call_1");
    REQUIRE(gone);
    CHECK_FALSE(gone->has_value());
    CHECK(registry.size() == 0);
}

TEST_CASE("live sessions: a Redis that lost the hashes (a restart) gets them again, a stop deletes them") {
    RedisServer server;
    auto pool = server.pool();
    RedisLiveSessions registry(pool, "daemon-a", quick());
    registry.start();
    registry.add({"call_1", "", "ws_1", "local", "", 1});
    registry.add({"call_2", "", "ws_1", "chat", "", 2});
    REQUIRE(eventually([&] { return pttl(pool, "va:live:call_1") > 0 && pttl(pool, "va:live:call_2") > 0; }));

    server.kill();
    registry.remove("call_2");  // ends while Redis is down: deleted once it is back (it came back empty anyway)
    server.start();             // no persistence: every key is gone
    CHECK(eventually([&] { return pttl(pool, "va:live:call_1") > 0; }, std::chrono::seconds(5)));
    CHECK(pttl(pool, "va:live:call_2") == -2);

    registry.stop();
    CHECK(pttl(pool, "va:live:call_1") == -2);
}
