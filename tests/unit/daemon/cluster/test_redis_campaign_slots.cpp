// Campaign slots in a real redis-server: two daemons racing for slots never hold more than the limit between them,
// a held slot is kept when taken again, a released one frees at once, slots a daemon renews outlive their lease,
// and a dead daemon's slots lapse after it.
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>
#include <vector>

#include "daemon/cluster/redis_campaign_slots.hpp"
#include "support/eventually.hpp"
#include "support/redis_server.hpp"

using va::RedisCampaignSlots;
using va::RedisPool;
using va::test::RedisServer;

TEST_CASE("campaign slots: two daemons racing for slots hold at most the limit between them") {
    RedisServer server;
    RedisCampaignSlots a(server.pool(), 5000), b(server.pool(), 5000);
    std::atomic<int> taken{0};
    std::vector<std::thread> racers;
    for (int t = 0; t < 4; ++t)
        racers.emplace_back([&, t] {
            auto& slots = t % 2 ? b : a;
            for (int i = 0; i < 25; ++i) {
                auto got = slots.acquire("cmp_1", "contact-" + std::to_string(t * 100 + i) + ":1", 7);
                REQUIRE(got);
                if (*got) ++taken;
            }
        });
    for (auto& r : racers) r.join();
    CHECK(taken == 7);
    CHECK(*a.held("cmp_1") == 7);
    CHECK(*a.acquire("cmp_2", "contact-x:1", 1));  // campaigns are separate
}

TEST_CASE("campaign slots: taken again is kept, released frees at once") {
    RedisServer server;
    RedisCampaignSlots a(server.pool(), 5000), b(server.pool(), 5000);
    REQUIRE(*a.acquire("cmp", "c1:1", 2));
    REQUIRE(*a.acquire("cmp", "c2:1", 2));
    CHECK_FALSE(*b.acquire("cmp", "c3:1", 2));
    CHECK(*b.acquire("cmp", "c1:1", 2));  // the same attempt on another daemon (its dial job) keeps its slot
    CHECK(*b.held("cmp") == 2);
    b.release("cmp", "c1:1");             // whoever ends the attempt releases it
    CHECK(*b.acquire("cmp", "c3:1", 2));
    CHECK(*a.held("cmp") == 2);
}

TEST_CASE("campaign slots: renewed slots outlive their lease, a dead daemon's lapse") {
    RedisServer server;
    auto alive = std::make_unique<RedisCampaignSlots>(server.pool(), 600);
    auto dying = std::make_unique<RedisCampaignSlots>(server.pool(), 600);
    REQUIRE(*alive->acquire("cmp", "kept:1", 2));
    REQUIRE(*dying->acquire("cmp", "lost:1", 2));
    // A slot is a member of the campaign's sorted set, scored with the end of its lease.
    auto lease_end = [&](const char* member) -> long long {
        auto r = server.pool()->command({"ZSCORE", "va:slots:cmp", member});
        return r && !r->is_nil() ? std::stoll(r->str) : -1;
    };
    const long long lost_until = lease_end("lost:1");
    REQUIRE(lost_until > 0);
    dying.reset();  // stops renewing, as a killed daemon would
    // Once the unrenewed slot has lapsed (by Redis's clock, as held() counts), the other, taken earlier, is still
    // held, with a lease renewed past the point where the first lapsed.
    REQUIRE(va::test::eventually([&] { return *alive->held("cmp") == 1; }));
    CHECK(lease_end("lost:1") == -1);
    CHECK(lease_end("kept:1") > lost_until);
    RedisCampaignSlots other(server.pool(), 600);
    CHECK(*other.acquire("cmp", "next:1", 2));
    CHECK_FALSE(*other.acquire("cmp", "more:1", 2));
}

TEST_CASE("campaign slots: an unreachable Redis is an error, not a slot") {
    RedisServer server;
    RedisCampaignSlots slots(server.pool(), 5000);
    server.kill();
    CHECK_FALSE(slots.acquire("cmp", "c1:1", 3));
}
