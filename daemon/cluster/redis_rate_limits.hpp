// Rate-limit buckets in Redis, shared by every daemon: one Lua script takes a token atomically, timed by Redis's
// own clock (so daemons whose clocks differ agree), and lets an idle bucket expire once it would be full again.
// Thread-safety: safe from any thread (commands go through a RedisPool).
#pragma once

#include <memory>
#include <string>

#include "core/auth/rate_limiter.hpp"
#include "core/redis/redis_client.hpp"

namespace va {

class RedisBuckets : public SharedBuckets {
public:
    // Keys are `prefix` + the limiter's key (for example "va:rl:login-address:").
    RedisBuckets(std::shared_ptr<RedisPool> redis, std::string prefix);

    Result<int> take(const std::string& key, double burst, double per_ms) override;
    Status reset(const std::string& key) override;

private:
    std::shared_ptr<RedisPool> m_redis;
    std::string m_prefix;
};

}  // namespace va
