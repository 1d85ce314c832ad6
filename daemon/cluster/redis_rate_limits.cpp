#include "daemon/cluster/redis_rate_limits.hpp"

#include <cstdio>

namespace va {

namespace {

// KEYS[1] the bucket; ARGV burst, tokens per ms. Returns 0 when a token was taken, else the seconds to wait (>= 1).
// The same arithmetic as RateLimiter's own buckets.
const RedisScript kTakeScript(R"lua(
local burst = tonumber(ARGV[1])
local per_ms = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local b = redis.call('HMGET', KEYS[1], 'tokens', 'updated')
local tokens = tonumber(b[1]) or burst
local updated = tonumber(b[2]) or now
if now > updated then tokens = math.min(burst, tokens + (now - updated) * per_ms) end
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
elseif per_ms <= 0 then
  wait = 3600
else
  wait = math.max(1, math.ceil((1 - tokens) / per_ms / 1000))
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'updated', tostring(now))
local full_after = per_ms > 0 and math.ceil(burst / per_ms) or 3600000
redis.call('PEXPIRE', KEYS[1], full_after + 1000)
return wait
)lua");

std::string number(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    return buf;
}

}  // namespace

RedisBuckets::RedisBuckets(std::shared_ptr<RedisPool> redis, std::string prefix)
    : m_redis(std::move(redis)), m_prefix(std::move(prefix)) {}

Result<int> RedisBuckets::take(const std::string& key, double burst, double per_ms) {
    auto r = m_redis->eval(kTakeScript, {m_prefix + key}, {number(burst), number(per_ms)});
    if (!r) return r.take_error();
    return int(r->integer);
}

Status RedisBuckets::reset(const std::string& key) {
    auto r = m_redis->command({"DEL", m_prefix + key});
    if (!r) return r.take_error();
    return Ok{};
}

}  // namespace va
