// Campaign slots in Redis: a sorted set per campaign, member -> lease expiry on Redis's clock. Taking a slot drops
// lapsed ones first, then adds the member only while fewer than the limit are held, in one Lua script, so daemons
// racing for the last slot get it once. The slots this daemon took are renewed by one thread every lease/3; a
// slot another daemon released is not brought back.
// Thread-safety: safe from any thread.
#pragma once

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "core/redis/redis_client.hpp"
#include "daemon/campaigns/campaign_slots.hpp"

namespace va {

class RedisCampaignSlots final : public CampaignSlots {
public:
    RedisCampaignSlots(std::shared_ptr<RedisPool> redis, int lease_ms, std::string prefix = "va:slots:");
    ~RedisCampaignSlots() override;
    RedisCampaignSlots(const RedisCampaignSlots&) = delete;
    RedisCampaignSlots& operator=(const RedisCampaignSlots&) = delete;

    Result<bool> acquire(const std::string& campaign_id, const std::string& member, int limit) override;
    void release(const std::string& campaign_id, const std::string& member) override;

    // How many slots of the campaign are held now (lapsed ones not counted).
    Result<int> held(const std::string& campaign_id);

private:
    void renew_loop();

    std::shared_ptr<RedisPool> m_redis;
    int m_lease_ms;
    std::string m_prefix;
    std::mutex m_mutex;
    std::condition_variable m_cv;
    std::map<std::string, std::set<std::string>> m_mine;  // key -> members this daemon renews
    bool m_stopping = false;
    std::thread m_thread;
};

}  // namespace va
