#include "daemon/cluster/redis_campaign_slots.hpp"
#include "core/util/guard.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <vector>

namespace va {

namespace {

// Redis's clock, in ms: daemons whose clocks differ still agree on when a lease lapses.
constexpr const char* kNow = R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
)lua";

// KEYS[1] the campaign's set; ARGV member, limit, lease ms. 1 when the member holds a slot, else 0.
const RedisScript kAcquire(std::string(kNow) + R"lua(
local lease = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. now)
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], now + lease, ARGV[1])
redis.call('PEXPIRE', KEYS[1], lease * 4)
return 1
)lua");

// KEYS[1] the campaign's set; ARGV lease ms, members. Returns the members that are no longer held (released by
// another daemon, or lapsed), which stop being renewed.
const RedisScript kRenew(std::string(kNow) + R"lua(
local lease = tonumber(ARGV[1])
local gone = {}
for i = 2, #ARGV do
  local score = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if score and tonumber(score) >= now then
    redis.call('ZADD', KEYS[1], now + lease, ARGV[i])
  else
    redis.call('ZREM', KEYS[1], ARGV[i])
    gone[#gone + 1] = ARGV[i]
  end
end
if #gone < #ARGV - 1 then redis.call('PEXPIRE', KEYS[1], lease * 4) end
return gone
)lua");

const RedisScript kHeld(std::string(kNow) + R"lua(
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. now)
return redis.call('ZCARD', KEYS[1])
)lua");

}  // namespace

RedisCampaignSlots::RedisCampaignSlots(std::shared_ptr<RedisPool> redis, int lease_ms, std::string prefix)
    : m_redis(std::move(redis)), m_lease_ms(std::max(300, lease_ms)), m_prefix(std::move(prefix)) {
    m_thread = std::thread([this] { run_loop_guarded("campaign slots: renewer", [this] { renew_loop(); }); });
}

RedisCampaignSlots::~RedisCampaignSlots() {
    {
        std::lock_guard lock(m_mutex);
        m_stopping = true;
    }
    m_cv.notify_all();
    if (m_thread.joinable()) m_thread.join();
}

Result<bool> RedisCampaignSlots::acquire(const std::string& campaign_id, const std::string& member, int limit) {
    std::string key = m_prefix + campaign_id;
    auto r = m_redis->eval(kAcquire, {key}, {member, std::to_string(limit), std::to_string(m_lease_ms)});
    if (!r) return r.take_error();
    if (r->integer != 1) return false;
    std::lock_guard lock(m_mutex);
    m_mine[key].insert(member);
    return true;
}

void RedisCampaignSlots::release(const std::string& campaign_id, const std::string& member) {
    std::string key = m_prefix + campaign_id;
    {
        std::lock_guard lock(m_mutex);
        if (auto it = m_mine.find(key); it != m_mine.end()) {
            it->second.erase(member);
            if (it->second.empty()) m_mine.erase(it);
        }
    }
    // Whoever ends the attempt releases the slot, whichever daemon took it. Failing that, its lease lapses.
    if (auto r = m_redis->command({"ZREM", key, member}); !r)
        spdlog::warn("campaign {}: cannot release the slot of {}: {}", campaign_id, member, r.error().message);
}

Result<int> RedisCampaignSlots::held(const std::string& campaign_id) {
    auto r = m_redis->eval(kHeld, {m_prefix + campaign_id}, {});
    if (!r) return r.take_error();
    return int(r->integer);
}

void RedisCampaignSlots::renew_loop() {
    std::unique_lock lock(m_mutex);
    while (!m_stopping) {
        m_cv.wait_for(lock, std::chrono::milliseconds(m_lease_ms / 3), [this] { return m_stopping; });
        if (m_stopping) break;
        auto mine = m_mine;
        lock.unlock();
        for (const auto& [key, members] : mine) {
            std::vector<std::string> args{std::to_string(m_lease_ms)};
            args.insert(args.end(), members.begin(), members.end());
            auto gone = m_redis->eval(kRenew, {key}, args);
            if (!gone) {
                spdlog::warn("campaign slots: cannot renew {}: {}", key, gone.error().message);
                continue;
            }
            std::lock_guard relock(m_mutex);
            auto it = m_mine.find(key);
            if (it == m_mine.end()) continue;
            for (const auto& g : gone->elements) it->second.erase(g.str);
            if (it->second.empty()) m_mine.erase(it);
        }
        lock.lock();
    }
}

}  // namespace va
