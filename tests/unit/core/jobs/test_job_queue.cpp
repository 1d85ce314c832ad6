// The job queue on each backend, a real SQLite file and a real redis-server: handlers, retries, dead jobs, leases
// that run out and are claimed again, heartbeats that keep a long job's lease, graceful shutdown, idempotency keys
// and priorities. Each test case runs once per backend (GENERATE).
#include <catch2/catch.hpp>

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>

#include "core/jobs/job_queue.hpp"
#include "core/jobs/redis_job_store.hpp"
#include "core/util/time.hpp"
#include "support/eventually.hpp"
#include "support/redis_server.hpp"
#include "unit/core/jobs/job_queue_options.hpp"

using namespace va;
namespace fs = std::filesystem;

namespace {

// The backend a test case runs on this time round.
#if VA_WITH_REDIS
#define JOB_BACKEND GENERATE(as<std::string>{}, "sqlite", "redis")
#else
#define JOB_BACKEND GENERATE(as<std::string>{}, "sqlite")
#endif

struct Db {
    fs::path dir;
    std::unique_ptr<Store> sqlite;
    std::unique_ptr<test::RedisServer> redis_server;
    std::unique_ptr<RedisJobStore> redis;
    JobStore* store = nullptr;
    explicit Db(const std::string& backend) {
        INFO("backend " << backend);
        if (backend == "redis") {
            redis_server = std::make_unique<test::RedisServer>();
            redis = std::make_unique<RedisJobStore>(redis_server->pool(8));
            store = redis.get();
            return;
        }
        char tmpl[] = "/tmp/va-jobs-XXXXXX";
        REQUIRE(mkdtemp(tmpl));
        dir = tmpl;
        auto opened = open_sqlite_store({(dir / "jobs.db").string(), 5000, 8});
        REQUIRE(opened);
        sqlite = std::move(opened).value();
        store = sqlite.get();
    }
    ~Db() {
        sqlite.reset();
        if (!dir.empty()) {
            std::error_code ec;
            fs::remove_all(dir, ec);
        }
    }
};

}  // namespace

TEST_CASE("jobs: handlers run each job, failures are retried with backoff, then dead") {
    Db db(JOB_BACKEND);
    JobQueue queue(*db.store, test::fast_queue());
    std::atomic<int> ok_runs{0}, flaky_runs{0}, doomed_runs{0}, bad_runs{0};
    queue.handle("ok", [&](JobContext&) -> Status {
        ++ok_runs;
        return Ok{};
    });
    queue.handle("flaky", [&](JobContext& ctx) -> Status {
        ++flaky_runs;
        if (ctx.job.attempts < 3) return make_error(ErrorCode::unavailable, "not yet");
        return Ok{};
    });
    queue.handle("doomed", [&](JobContext&) -> Status {
        ++doomed_runs;
        return make_error(ErrorCode::unavailable, "never works");
    });
    queue.handle("bad", [&](JobContext&) -> Status {
        ++bad_runs;
        return make_error(ErrorCode::invalid_request, "payload is wrong");
    });
    queue.start();
    for (int i = 0; i < 20; ++i) REQUIRE(queue.enqueue("ok", "{}"));
    auto flaky = queue.enqueue("flaky", "{}", {0, 0, 5, ""});
    auto doomed = queue.enqueue("doomed", "{}", {0, 0, 3, ""});
    auto bad = queue.enqueue("bad", "{}", {0, 0, 5, ""});
    REQUIRE((flaky && doomed && bad));
    REQUIRE(test::eventually([&] {
        return db.store->get_job(flaky->id)->state == "done" && db.store->get_job(doomed->id)->state == "dead" &&
               db.store->get_job(bad->id)->state == "dead" && ok_runs == 20;
    }));
    CHECK(flaky_runs == 3);
    CHECK(doomed_runs == 3);  // its max_attempts
    CHECK(bad_runs == 1);     // retrying cannot fix bad input
    auto dead = db.store->get_job(doomed->id);
    CHECK(dead->attempts == 3);
    CHECK(dead->last_error == "never works");
    // The counters move just after the store records an outcome: wait for the last one.
    test::eventually([&] { return queue.stats().completed == 21 && queue.stats().dead == 2; });
    auto stats = queue.stats();
    CHECK(stats.completed == 21);
    CHECK(stats.dead == 2);
    CHECK(stats.retried == 4);
}

TEST_CASE("jobs: a job whose worker died is claimed again once its lease runs out") {
    Db db(JOB_BACKEND);
    JobQueue first(*db.store, test::fast_queue());
    auto job = first.enqueue("dial", R"({"contact":"c1"})");
    REQUIRE(job);
    // A worker claims it and dies without a word: its lease is all that is left.
    const std::int64_t lease_until = now_ms() + 300;
    auto ghost = db.store->claim_jobs({"dial"}, "ghost", now_ms(), lease_until, 1);
    REQUIRE(ghost);
    REQUIRE(ghost->size() == 1);
    std::atomic<int> runs{0};
    std::atomic<int> attempt_seen{0};
    std::atomic<std::int64_t> ran_at{0};
    JobQueue second(*db.store, test::fast_queue());
    second.handle("dial", [&](JobContext& ctx) -> Status {
        ran_at = now_ms();
        ++runs;
        attempt_seen = ctx.job.attempts;
        return Ok{};
    });
    second.start();
    REQUIRE(test::eventually([&] { return db.store->get_job(job->id)->state == "done"; }));
    CHECK(ran_at >= lease_until);  // not before the lease ran out
    CHECK(runs == 1);
    CHECK(attempt_seen == 2);
}

TEST_CASE("jobs: the heartbeat keeps a long job's lease, so nobody else runs it meanwhile") {
    Db db(JOB_BACKEND);
    auto options = test::fast_queue(1);
    options.lease_ms = 300;
    options.heartbeat_ms = 100;
    JobQueue queue(*db.store, options);
    std::atomic<int> runs{0};
    // The job runs until the test lets it end, however slow the machine: its lease must outlive it.
    std::atomic<bool> release{false};
    queue.handle("long", [&](JobContext&) -> Status {
        ++runs;
        while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(10));
        return Ok{};
    });
    struct Release {
        std::atomic<bool>& flag;
        ~Release() { flag = true; }  // also when a REQUIRE fails, so the queue can stop
    } released_at_exit{release};
    auto job = queue.enqueue("long", "{}");
    REQUIRE(job);
    queue.start();
    REQUIRE(test::eventually([&] { return runs == 1; }));
    // Seen renewed past twice its first lease: the first lease has run out, so only the heartbeat keeps the job.
    auto first = db.store->get_job(job->id);
    REQUIRE(first);
    const std::int64_t first_lease = first->lease_expires;
    REQUIRE(first_lease > 0);
    REQUIRE(test::eventually([&] { return db.store->get_job(job->id)->lease_expires > first_lease + 2 * options.lease_ms; }));
    auto stolen = db.store->claim_jobs({"long"}, "thief", now_ms(), now_ms() + 1000, 1);
    REQUIRE(stolen);
    CHECK(stolen->empty());
    release = true;
    REQUIRE(test::eventually([&] { return db.store->get_job(job->id)->state == "done"; }));
    CHECK(runs == 1);
    CHECK(queue.stats().lost_leases == 0);
}

TEST_CASE("jobs: shutdown stops claiming, lets short jobs finish and hands long ones back") {
    Db db(JOB_BACKEND);
    JobQueue queue(*db.store, test::fast_queue(2));
    std::atomic<int> started{0};
    // The short job ends as soon as the stop begins, within its grace; the long one only once told to stop.
    std::atomic<bool> stop_begun{false};
    queue.handle("short", [&](JobContext&) -> Status {
        ++started;
        while (!stop_begun) std::this_thread::sleep_for(std::chrono::milliseconds(10));
        return Ok{};
    });
    queue.handle("long", [&](JobContext& ctx) -> Status {
        ++started;
        while (!ctx.stopping) std::this_thread::sleep_for(std::chrono::milliseconds(10));
        return make_error(ErrorCode::unavailable, "stopped");
    });
    auto brief = queue.enqueue("short", "{}");
    auto endless = queue.enqueue("long", "{}");
    REQUIRE((brief && endless));
    queue.start();
    REQUIRE(test::eventually([&] { return started == 2; }));
    stop_begun = true;
    queue.stop(300);
    CHECK(db.store->get_job(brief->id)->state == "done");
    auto handed_back = db.store->get_job(endless->id);
    CHECK(handed_back->state == "queued");
    CHECK(handed_back->attempts == 0);  // not counted against it
    CHECK(handed_back->last_error.empty());
    // Nothing is claimed after stop(): a job enqueued now is left for another queue, which runs it.
    auto late = queue.enqueue("short", "{}");
    REQUIRE(late);
    std::atomic<int> ran_elsewhere{0};
    JobQueue other(*db.store, test::fast_queue(1));
    other.handle("short", [&](JobContext& ctx) -> Status {
        if (ctx.job.id == late->id) ++ran_elsewhere;
        return Ok{};
    });
    other.start();
    REQUIRE(test::eventually([&] { return db.store->get_job(late->id)->state == "done"; }));
    CHECK(ran_elsewhere == 1);
    CHECK(started == 2);  // the stopped queue's handlers ran nothing more
}

TEST_CASE("jobs: an idempotency key enqueues once, and priorities come first") {
    Db db(JOB_BACKEND);
    JobQueue queue(*db.store, test::fast_queue(1));
    auto a = queue.enqueue("dial", R"({"contact":"c1"})", {0, 0, 3, "c1/attempt-1"});
    auto b = queue.enqueue("dial", R"({"contact":"c1"})", {0, 0, 3, "c1/attempt-1"});
    REQUIRE((a && b));
    CHECK(a->id == b->id);
    auto low = queue.enqueue("order", "low", {0, 0, 3, ""});
    auto high = queue.enqueue("order", "high", {10, 0, 3, ""});
    auto later = queue.enqueue("order", "later", {20, now_ms() + 400, 3, ""});
    REQUIRE((low && high && later));
    std::mutex mutex;
    std::vector<std::string> order;
    std::atomic<int> dials{0};
    queue.handle("dial", [&](JobContext&) -> Status {
        ++dials;
        return Ok{};
    });
    queue.handle("order", [&](JobContext& ctx) -> Status {
        std::lock_guard lock(mutex);
        order.push_back(ctx.job.payload);
        return Ok{};
    });
    queue.start();
    REQUIRE(test::eventually([&] {
        std::lock_guard lock(mutex);
        return order.size() == 3;
    }));
    CHECK(order == std::vector<std::string>{"high", "low", "later"});
    CHECK(dials == 1);
}

TEST_CASE("jobs: backoff doubles up to its cap, with jitter") {
    JobQueueOptions o;
    o.backoff_base_ms = 1000;
    o.backoff_max_ms = 10000;
    for (int i = 0; i < 50; ++i) {
        auto first = JobQueue::backoff_ms(o, 1);
        CHECK((first >= 500 && first <= 1000));
        auto third = JobQueue::backoff_ms(o, 3);
        CHECK((third >= 2000 && third <= 4000));
        auto capped = JobQueue::backoff_ms(o, 20);
        CHECK((capped >= 5000 && capped <= 10000));
    }
}
