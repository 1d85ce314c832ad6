// A Redis client over hiredis for the scale-out backends (events, shared rate limits, later the job queue):
// connections that connect lazily, time out every command, and after a failure reconnect with capped exponential
// backoff instead of hammering a Redis that is down or restarting; and a small pool of them for commands.
// A failure that may pass (connection refused, reset, timed out, still backing off) is ErrorCode::unavailable or
// timeout (transient); a Redis error reply is ErrorCode::internal with Redis's message.
// Thread-safety: RedisConnection is single-owner (one thread at a time). RedisPool is safe from any thread: a
// command borrows one of its connections, waiting while all are busy.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/util/result.hpp"

struct redisContext;

namespace va {

struct RedisOptions {
    std::string host = "127.0.0.1";
    int port = 6379;
    std::string password;  // AUTH after connecting when set
    int db = 0;            // SELECT after connecting when not 0
    int pool_size = 4;
    int connect_timeout_ms = 1000;
    int command_timeout_ms = 2000;
    int backoff_initial_ms = 100;  // the wait after a failed connection, doubled per failure up to backoff_max_ms
    int backoff_max_ms = 5000;
};

// redis://[[user]:password@]host[:port][/db]; the options not in the URL keep `base`'s values.
Result<RedisOptions> parse_redis_url(std::string_view url, RedisOptions base = {});
// The URL again with the password masked, for logs.
std::string redacted_redis_url(const RedisOptions& options);

// One reply. Redis's status replies ("OK") and bulk strings are both strings here.
struct RedisValue {
    enum class Type { nil, integer, string, array };
    Type type = Type::nil;
    std::int64_t integer = 0;
    std::string str;
    std::vector<RedisValue> elements;

    bool is_nil() const { return type == Type::nil; }
};

class RedisConnection {
public:
    explicit RedisConnection(RedisOptions options);
    ~RedisConnection();
    RedisConnection(const RedisConnection&) = delete;
    RedisConnection& operator=(const RedisConnection&) = delete;

    // Runs one command, connecting first when needed. A broken connection is dropped, so the next command
    // reconnects (once the backoff has passed).
    Result<RedisValue> command(const std::vector<std::string>& args);
    // The same with its own reply timeout: blocking reads (XREAD BLOCK n) wait longer than a command may.
    Result<RedisValue> command(const std::vector<std::string>& args, int timeout_ms);
    bool connected() const { return m_ctx != nullptr; }
    // Connects now (subject to the backoff); Ok when connected.
    Status connect();

private:
    void drop();
    RedisOptions m_options;
    redisContext* m_ctx = nullptr;
    std::int64_t m_retry_at_ms = 0;  // no connection attempt before this (monotonic ms)
    int m_backoff_ms = 0;
    int m_timeout_ms = -1;           // the reply timeout set on m_ctx now
};

// A Lua script run by its SHA1 (EVALSHA), loaded again when Redis answers NOSCRIPT (after a restart or SCRIPT
// FLUSH), so the script's text crosses the wire once per Redis rather than on every call.
// Thread-safety: safe from any thread.
class RedisScript {
public:
    explicit RedisScript(std::string source) : m_source(std::move(source)) {}
    const std::string& source() const { return m_source; }
    std::string sha() const;
    void set_sha(std::string sha) const;

private:
    std::string m_source;
    mutable std::mutex m_mutex;
    mutable std::string m_sha;
};

class RedisPool {
public:
    explicit RedisPool(RedisOptions options);
    ~RedisPool();

    Result<RedisValue> command(const std::vector<std::string>& args);
    // Runs `script` with its KEYS and ARGV.
    Result<RedisValue> eval(const RedisScript& script, const std::vector<std::string>& keys,
                            const std::vector<std::string>& args);
    const RedisOptions& options() const { return m_options; }
    // A connection of its own for a blocking reader, outside the pool.
    std::unique_ptr<RedisConnection> dedicated() const { return std::make_unique<RedisConnection>(m_options); }

private:
    RedisOptions m_options;
    std::mutex m_mutex;
    std::condition_variable m_returned;
    std::vector<std::unique_ptr<RedisConnection>> m_idle;
};

}  // namespace va
