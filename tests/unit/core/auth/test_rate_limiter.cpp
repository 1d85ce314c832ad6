#include <catch2/catch.hpp>

#include "core/auth/rate_limiter.hpp"

using namespace va;

namespace {
constexpr std::int64_t kStart = 1'000'000;
}

TEST_CASE("rate limiter: a burst is allowed, then refused with the seconds to wait") {
    RateLimiter limiter(3, 6);  // 3 at once, then one every 10 s
    CHECK(limiter.acquire("ip", kStart) == 0);
    CHECK(limiter.acquire("ip", kStart) == 0);
    CHECK(limiter.acquire("ip", kStart) == 0);
    CHECK(limiter.acquire("ip", kStart) == 10);
    CHECK(limiter.acquire("ip", kStart + 4'000) == 6);  // partly refilled: rounds up
    CHECK(limiter.acquire("ip", kStart + 9'999) == 1);  // never 0 while refused
}

TEST_CASE("rate limiter: tokens refill over simulated time, capped at the burst") {
    RateLimiter limiter(2, 60);  // one per second
    std::int64_t t = kStart;
    CHECK(limiter.acquire("k", t) == 0);
    CHECK(limiter.acquire("k", t) == 0);
    CHECK(limiter.acquire("k", t) > 0);
    t += 1'000;
    CHECK(limiter.acquire("k", t) == 0);
    CHECK(limiter.acquire("k", t) > 0);
    // A long pause refills only up to the burst, not beyond.
    t += 30'000;
    CHECK(limiter.acquire("k", t) == 0);
    CHECK(limiter.acquire("k", t) == 0);
    CHECK(limiter.acquire("k", t) > 0);
    // Refused attempts do not consume anything: a steady one per second keeps working.
    for (int i = 0; i < 10; ++i) {
        t += 1'000;
        CHECK(limiter.acquire("k", t) == 0);
    }
}

TEST_CASE("rate limiter: keys are independent and reset forgets one") {
    RateLimiter limiter(1, 1);
    CHECK(limiter.acquire("ip:10.0.0.1", kStart) == 0);
    CHECK(limiter.acquire("ip:10.0.0.1", kStart) == 60);
    CHECK(limiter.acquire("ip:10.0.0.2", kStart) == 0);
    CHECK(limiter.acquire("account:alice", kStart) == 0);
    CHECK(limiter.acquire("account:alice", kStart) > 0);
    limiter.reset("account:alice");
    CHECK(limiter.acquire("account:alice", kStart) == 0);
    CHECK(limiter.acquire("ip:10.0.0.1", kStart) > 0);  // reset touched only its key
}

TEST_CASE("rate limiter: pruning forgets only buckets that have refilled completely") {
    RateLimiter limiter(2, 6);  // full again 20 s after emptying
    CHECK(limiter.acquire("a", kStart) == 0);
    CHECK(limiter.acquire("a", kStart) == 0);
    CHECK(limiter.acquire("b", kStart + 50'000) == 0);
    CHECK(limiter.acquire("b", kStart + 50'000) == 0);
    // A prune runs at kStart + 61 s: "a" (idle 61 s) goes, "b" (emptied 11 s ago, 1.1 tokens) must stay.
    CHECK(limiter.acquire("b", kStart + 61'000) == 0);
    CHECK(limiter.acquire("b", kStart + 61'000) == 9);
    CHECK(limiter.acquire("a", kStart + 61'000) == 0);
    CHECK(limiter.acquire("a", kStart + 61'000) == 0);
    CHECK(limiter.acquire("a", kStart + 61'000) > 0);
}
