// The Redis job store against a real redis-server: the same job contract as the SQLite store, dead letters, the
// consumer group's pending list, two queues (two daemons) sharing one Redis, and a Redis that restarts.
#include <catch2/catch.hpp>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include "core/jobs/job_queue.hpp"
#include "core/jobs/redis_job_store.hpp"
#include "core/util/time.hpp"
#include "support/eventually.hpp"
#include "support/redis_server.hpp"
#include "unit/core/jobs/job_queue_options.hpp"
#include "unit/core/store/store_contract.hpp"

using namespace va;

namespace {

std::shared_ptr<RedisPool> pool(const test::RedisServer& server, int size = 4) { return server.pool(size); }

}  // namespace

TEST_CASE("redis jobs: the job contract holds") {
    test::RedisServer server;
    RedisJobStore store(pool(server));
    SECTION("claimed by priority, leased, retried, released and kept dead") { contract::jobs(store); }
    SECTION("claimed by several workers at once, each job to one") { contract::jobs_claimed_once(store); }
}

TEST_CASE("redis jobs: dead jobs land in the dead-letter stream, finished ones leave the group's pending list") {
    test::RedisServer server;
    auto redis = pool(server);
    RedisJobStore store(redis, {"t", 60000, 100});
    auto a = store.enqueue_job(contract::job("dial"));
    auto b = store.enqueue_job(contract::job("dial"));
    REQUIRE((a && b));
    auto claimed = store.claim_jobs({"dial"}, "w1", now_ms(), now_ms() + 5000, 10);
    REQUIRE(claimed);
    REQUIRE(claimed->size() == 2);
    auto pending = redis->command({"XPENDING", "t:stream:dial:0", "workers"});
    REQUIRE(pending);
    CHECK(pending->elements.at(0).integer == 2);

    REQUIRE(store.complete_job(a->id, "w1", now_ms()));
    REQUIRE(store.fail_job(b->id, "w1", "number unreachable", 0, true, now_ms()));
    pending = redis->command({"XPENDING", "t:stream:dial:0", "workers"});
    CHECK(pending->elements.at(0).integer == 0);
    CHECK(redis->command({"XLEN", "t:stream:dial:0"})->integer == 0);  // acknowledged entries are deleted

    auto letters = redis->command({"XRANGE", store.dead_letters_key(), "-", "+"});
    REQUIRE(letters);
    REQUIRE(letters->elements.size() == 1);
    std::map<std::string, std::string> fields;
    const auto& kv = letters->elements[0].elements.at(1).elements;
    for (std::size_t i = 0; i + 1 < kv.size(); i += 2) fields[kv[i].str] = kv[i + 1].str;
    CHECK(fields["id"] == b->id);
    CHECK(fields["type"] == "dial");
    CHECK(fields["error"] == "number unreachable");
    // The finished job expires after done_ttl_ms; the dead one is kept.
    CHECK(redis->command({"PTTL", "t:job:" + a->id})->integer > 0);
    CHECK(redis->command({"PTTL", "t:job:" + b->id})->integer == -1);
}

TEST_CASE("redis jobs: a retry waits for its backoff, then is claimed again") {
    test::RedisServer server;
    RedisJobStore store(pool(server));
    auto j = store.enqueue_job(contract::job("webhook"));
    REQUIRE(j);
    REQUIRE(store.claim_jobs({"webhook"}, "w1", now_ms(), now_ms() + 5000, 1)->size() == 1);
    REQUIRE(store.fail_job(j->id, "w1", "503 from receiver", now_ms() + 300, false, now_ms()));
    CHECK(store.get_job(j->id)->state == "queued");
    CHECK(store.claim_jobs({"webhook"}, "w2", now_ms(), now_ms() + 5000, 1)->empty());
    std::this_thread::sleep_for(std::chrono::milliseconds(350));
    auto again = store.claim_jobs({"webhook"}, "w2", now_ms(), now_ms() + 5000, 1);
    REQUIRE(again);
    REQUIRE(again->size() == 1);
    CHECK(again->at(0).attempts == 2);
    CHECK(again->at(0).last_error == "503 from receiver");
}

TEST_CASE("redis jobs: lists page newest first and filter by state and type") {
    test::RedisServer server;
    RedisJobStore store(pool(server));
    std::vector<std::string> ids;
    for (int i = 0; i < 7; ++i) ids.push_back(store.enqueue_job(contract::job(i % 2 ? "a" : "b"))->id);
    std::vector<std::string> seen;
    std::string cursor;
    do {
        auto page = store.list_jobs("", "", {3, cursor});
        REQUIRE(page);
        CHECK(page->items.size() <= 3);
        for (const auto& j : page->items) seen.push_back(j.id);
        cursor = page->next_cursor;
    } while (!cursor.empty());
    std::vector<std::string> newest_first(ids.rbegin(), ids.rend());
    CHECK(seen == newest_first);
    CHECK(store.list_jobs("", "a", {})->items.size() == 3);
    CHECK(store.list_jobs("queued", "b", {})->items.size() == 4);
    CHECK(store.list_jobs("running", "", {})->items.empty());
}

TEST_CASE("redis jobs: two queues sharing a Redis run every job once, and one that dies leaves nothing behind") {
    test::RedisServer server;
    RedisJobStore store_a(pool(server)), store_b(pool(server));
    std::mutex mutex;
    std::map<std::string, int> runs;  // payload -> runs
    std::atomic<bool> a_dead{false};
    auto handler = [&](const char* who) {
        return [&, who](JobContext& ctx) -> Status {
            // Queue "a" dies (its handlers hang and its leases are never renewed) after its first few jobs.
            if (std::string(who) == "a" && a_dead) {
                while (!ctx.stopping) std::this_thread::sleep_for(std::chrono::milliseconds(5));
                return make_error(ErrorCode::unavailable, "gone");
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
            std::lock_guard lock(mutex);
            ++runs[ctx.job.payload];
            return Ok{};
        };
    };
    auto opts_a = test::fast_queue(2, "daemon-a", 1000);
    opts_a.heartbeat_ms = 60000;  // a hung daemon renews nothing
    JobQueue a(store_a, opts_a), b(store_b, test::fast_queue(2, "daemon-b", 1000));
    a.handle("dial", handler("a"));
    b.handle("dial", handler("b"));
    for (int i = 0; i < 200; ++i) REQUIRE(a.enqueue("dial", "contact-" + std::to_string(i)));
    a.start();
    REQUIRE(test::eventually([&] {
        std::lock_guard lock(mutex);
        return runs.size() >= 20;
    }));
    a_dead = true;
    b.start();
    REQUIRE(test::eventually([&] {
        std::lock_guard lock(mutex);
        return runs.size() == 200;
    }, std::chrono::seconds(20)));
    {
        std::lock_guard lock(mutex);
        for (const auto& [payload, n] : runs) CHECK(n == 1);
    }
    // A handler counts its run before its worker records the completion: stopping waits for the last ones.
    b.stop(1000);
    a.stop(0);
    CHECK(b.stats().completed + a.stats().completed == 200);
    // What A held when it hung was claimed again by B after A's lease: nothing is left queued or running.
    CHECK(store_b.list_jobs("queued", "", {})->items.empty());
    CHECK(store_b.list_jobs("running", "", {})->items.empty());
}

TEST_CASE("redis jobs: a Redis that restarts is reconnected to, and the queue goes on") {
    test::RedisServer server;
    RedisJobStore store(pool(server));
    std::atomic<int> runs{0};
    JobQueue queue(store, test::fast_queue(2, "daemon-a", 1000));
    queue.handle("ping", [&](JobContext&) -> Status {
        ++runs;
        return Ok{};
    });
    queue.start();
    REQUIRE(queue.enqueue("ping", "1"));
    REQUIRE(test::eventually([&] { return runs == 1; }));
    server.kill();
    CHECK_FALSE(queue.enqueue("ping", "lost"));  // Redis is down: the caller hears so
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    server.start();
    REQUIRE(test::eventually([&] { return bool(queue.enqueue("ping", "2")); }));
    REQUIRE(test::eventually([&] { return runs == 2; }));
    queue.stop(1000);
}
