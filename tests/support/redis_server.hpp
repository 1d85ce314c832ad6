// Test support: a real redis-server (Debian's) on a free loopback port with no persistence, in a temporary
// directory, started by the test that needs it and stopped when it goes out of scope. It can be stopped and started
// again on the same port (a Redis restart mid-run).
// Thread-safety: single-owner.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "core/redis/redis_client.hpp"

namespace va::test {

class RedisServer {
public:
    // Starts redis-server and waits (up to 10 s) until it answers PING; throws when it does not.
    RedisServer();
    ~RedisServer();
    RedisServer(const RedisServer&) = delete;
    RedisServer& operator=(const RedisServer&) = delete;

    int port() const { return m_port; }
    std::string url() const { return "redis://127.0.0.1:" + std::to_string(m_port); }
    // Client options for this server, with quick reconnects and short timeouts (a test waits less on a restart).
    RedisOptions options(int pool_size = 4) const;
    std::shared_ptr<RedisPool> pool(int pool_size = 4) const { return std::make_shared<RedisPool>(options(pool_size)); }
    // Kills the server (SIGKILL: as if it crashed) and waits for it to exit.
    void kill();
    // Starts it again on the same port (after kill()).
    void start();
    bool running() const { return m_pid > 0; }

private:
    bool launch();  // false when it exited at once (the port was taken)
    std::string m_dir;
    int m_port = 0;
    pid_t m_pid = -1;
};

}  // namespace va::test
