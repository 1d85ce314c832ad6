// The Redis client against a real redis-server on loopback: replies of each type, errors, timeouts, a server
// that is down and one that restarts (reconnect with backoff), and the pool shared by threads.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "core/redis/redis_client.hpp"
#include "support/redis_server.hpp"

using va::ErrorCode;
using va::RedisConnection;
using va::RedisOptions;
using va::RedisPool;
using va::test::RedisServer;

namespace {

RedisOptions options_for(const RedisServer& server) {
    auto o = va::parse_redis_url(server.url());
    REQUIRE(o);
    o->backoff_initial_ms = 50;
    o->backoff_max_ms = 200;
    o->command_timeout_ms = 1000;
    return *o;
}

// Runs `args` until it succeeds (a connection backing off after a failure) or `within` passes.
va::Result<va::RedisValue> eventually(RedisConnection& redis, const std::vector<std::string>& args,
                                      std::chrono::seconds within) {
    auto deadline = std::chrono::steady_clock::now() + within;
    auto r = redis.command(args);
    while (!r && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        r = redis.command(args);
    }
    return r;
}

}  // namespace

TEST_CASE("redis url: host, port, password and database, with clear errors") {
    auto o = va::parse_redis_url("redis://:s3cret@cache.internal:6380/2");
    REQUIRE(o);
    CHECK(o->host == "cache.internal");
    CHECK(o->port == 6380);
    CHECK(o->password == "s3cret");
    CHECK(o->db == 2);
    CHECK(va::redacted_redis_url(*o) == "redis://:***@cache.internal:6380/2");
    auto plain = va::parse_redis_url("redis://127.0.0.1");
    REQUIRE(plain);
    CHECK(plain->port == 6379);
    CHECK(plain->db == 0);
    CHECK(plain->password.empty());
    auto user = va::parse_redis_url("redis://default:pw@h:1");
    REQUIRE(user);
    CHECK(user->password == "pw");
    for (const char* bad : {"http://h:1", "redis://", "redis://h:port", "redis://h:0", "redis://h:70000", "redis://h/x"}) {
        INFO(bad);
        auto r = va::parse_redis_url(bad);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == ErrorCode::invalid_request);
    }
}

TEST_CASE("redis: strings, integers, nil, arrays and error replies") {
    RedisServer server;
    RedisConnection redis(options_for(server));
    REQUIRE(redis.command({"SET", "greeting", std::string("hello\0world", 11)}));
    auto got = redis.command({"GET", "greeting"});
    REQUIRE(got);
    CHECK(got->type == va::RedisValue::Type::string);
    CHECK(got->str == std::string("hello\0world", 11));  // binary-safe
    auto n = redis.command({"INCRBY", "counter", "41"});
    REQUIRE(n);
    CHECK(n->type == va::RedisValue::Type::integer);
    CHECK(n->integer == 41);
    auto missing = redis.command({"GET", "nothing-here"});
    REQUIRE(missing);
    CHECK(missing->is_nil());
    REQUIRE(redis.command({"RPUSH", "list", "a", "b", "c"}));
    auto list = redis.command({"LRANGE", "list", "0", "-1"});
    REQUIRE(list);
    REQUIRE(list->elements.size() == 3);
    CHECK(list->elements[2].str == "c");
    auto wrong = redis.command({"INCR", "greeting"});
    REQUIRE_FALSE(wrong);
    CHECK(wrong.error().code == ErrorCode::internal);
    CHECK(wrong.error().message.find("not an integer") != std::string::npos);
    CHECK(redis.command({"PING"}));  // an error reply leaves the connection usable
}

TEST_CASE("redis: a server that is down fails fast, backs off, and is used again once it is back") {
    RedisServer server;
    RedisConnection redis(options_for(server));
    REQUIRE(redis.command({"SET", "k", "v"}));
    server.kill();
    auto down = redis.command({"GET", "k"});
    REQUIRE_FALSE(down);
    CHECK(down.error().transient());
    // Within the backoff no connection is even tried.
    auto early = redis.command({"GET", "k"});
    REQUIRE_FALSE(early);
    CHECK(early.error().code == ErrorCode::unavailable);
    server.start();
    auto back = eventually(redis, {"PING"}, std::chrono::seconds(5));
    REQUIRE(back);
    CHECK(back->str == "PONG");
    CHECK(redis.command({"GET", "k"})->is_nil());  // a restart without persistence forgets
}

TEST_CASE("redis: a reply slower than the timeout is a timeout, and the next command works") {
    RedisServer server;
    RedisConnection redis(options_for(server));
    // BLPOP with 0 blocks for ever: only the client's own timeout can end the command.
    auto slow = redis.command({"BLPOP", "empty", "0"}, 200);
    REQUIRE_FALSE(slow);
    CHECK(slow.error().code == ErrorCode::timeout);
    CHECK(eventually(redis, {"PING"}, std::chrono::seconds(3)));
}

TEST_CASE("redis: a wrong password is refused with Redis's reason") {
    RedisServer server;
    RedisConnection admin(options_for(server));
    REQUIRE(admin.command({"CONFIG", "SET", "requirepass", "right"}));
    auto o = options_for(server);
    o.password = "not-the-password-42";
    RedisConnection redis(o);
    auto r = redis.command({"PING"});
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("AUTH failed") != std::string::npos);
    CHECK(r.error().message.find("not-the-password-42") == std::string::npos);  // the password is not echoed
    o.password = "right";
    RedisConnection good(o);
    CHECK(good.command({"PING"}));
}

TEST_CASE("redis pool: threads share a few connections") {
    RedisServer server;
    auto o = options_for(server);
    o.pool_size = 3;
    RedisPool pool(o);
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < 200; ++i)
                if (!pool.command({"INCR", "shared"})) ++failures;
        });
    for (auto& t : threads) t.join();
    CHECK(failures == 0);
    auto total = pool.command({"GET", "shared"});
    REQUIRE(total);
    CHECK(total->str == "1600");
    auto clients = pool.command({"CLIENT", "LIST"});
    REQUIRE(clients);
    std::size_t lines = 0;
    for (char c : clients->str) lines += c == '\n';
    CHECK(lines <= 3);  // the pool's connections, no more
}
