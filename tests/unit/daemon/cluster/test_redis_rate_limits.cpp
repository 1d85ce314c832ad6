// Login rate limits shared through a real redis-server: two limiters (two daemons) draw from one bucket, a reset
// clears it for both, and with Redis gone each falls back to limiting on its own.
#include <catch2/catch.hpp>

#include "daemon/cluster/redis_rate_limits.hpp"
#include "support/redis_server.hpp"

using va::RateLimiter;
using va::RedisBuckets;
using va::RedisPool;
using va::test::RedisServer;

TEST_CASE("redis rate limits: two daemons share one allowance per key") {
    RedisServer server;
    auto buckets = std::make_shared<RedisBuckets>(server.pool(), "va:rl:test:");
    RateLimiter a(3, 1, buckets), b(3, 1, buckets);  // 3 at once, then one a minute
    std::int64_t now = 1'000'000;
    CHECK(a.acquire("1.2.3.4", now) == 0);
    CHECK(b.acquire("1.2.3.4", now) == 0);
    CHECK(a.acquire("1.2.3.4", now) == 0);
    int wait = b.acquire("1.2.3.4", now);  // the fourth, on either daemon, waits
    CHECK(wait >= 1);
    CHECK(wait <= 60);
    CHECK(a.acquire("1.2.3.4", now) >= 1);
    CHECK(a.acquire("5.6.7.8", now) == 0);  // keys are separate
    b.reset("1.2.3.4");
    CHECK(a.acquire("1.2.3.4", now) == 0);

    // The bucket expires once it would be full again (burst / rate, plus a second).
    auto ttl = server.pool()->command({"PTTL", "va:rl:test:1.2.3.4"});
    REQUIRE(ttl);
    CHECK(ttl->integer > 0);
    CHECK(ttl->integer <= 3 * 60'000 + 1000);
}

TEST_CASE("redis rate limits: with Redis down, each daemon still limits on its own") {
    RedisServer server;
    auto buckets = std::make_shared<RedisBuckets>(server.pool(), "va:rl:test:");
    RateLimiter a(2, 1, buckets);
    server.kill();
    std::int64_t now = 1'000'000;
    CHECK(a.acquire("k", now) == 0);
    CHECK(a.acquire("k", now) == 0);
    CHECK(a.acquire("k", now) >= 1);
}
