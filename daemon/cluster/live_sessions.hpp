// The live call sessions of this daemon, published in Redis so that any daemon can tell where a call is live and
// what a carrier webhook or a hang-up for it needs: one hash per call, va:live:<call_id> -> {instance,
// workspace_id, channel, provider_call_id, started_at}, with a TTL of a few instance leases. One thread writes
// them all: it sets a session's hash when it goes live, renews every TTL together on a timer (one EVAL per batch,
// not one timer per call), writes a hash again when Redis has lost it (a restart), and deletes it when the call
// ends. A daemon that dies without deleting its hashes leaves them to expire, so a hash never outlives its owner
// by more than the TTL. add() and remove() only queue work: callers (sessions' strands) never wait on Redis.
// Thread-safety: start() and stop() from one thread; add(), remove() and lookup() from any thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "core/redis/redis_client.hpp"
#include "core/util/result.hpp"

namespace va {

struct LiveSession {
    std::string call_id;
    std::string instance;  // the daemon running the session
    std::string workspace_id;
    std::string channel;
    std::string provider_call_id;
    std::int64_t started_at = 0;  // epoch ms
};

struct LiveSessionSettings {
    std::string prefix = "va:live:";
    int ttl_ms = 45'000;      // three instance leases by default
    int refresh_ms = 7'500;   // how often every TTL is renewed
};

class RedisLiveSessions {
public:
    RedisLiveSessions(std::shared_ptr<RedisPool> redis, std::string instance, LiveSessionSettings settings = {});
    ~RedisLiveSessions();
    RedisLiveSessions(const RedisLiveSessions&) = delete;
    RedisLiveSessions& operator=(const RedisLiveSessions&) = delete;

    void start();
    // Deletes the hashes of sessions still here (for up to a second), then stops the writer.
    void stop();

    // A session went live here (its instance is this daemon's, whatever the argument says).
    void add(LiveSession session);
    // Its call ended.
    void remove(const std::string& call_id);
    // The session of a call on any daemon, as Redis has it (nullopt when it is live nowhere).
    Result<std::optional<LiveSession>> lookup(const std::string& call_id) const;

    std::string key(const std::string& call_id) const { return m_settings.prefix + call_id; }
    std::size_t size() const;

private:
    void write_loop();

    std::shared_ptr<RedisPool> m_redis;
    std::string m_instance;
    LiveSessionSettings m_settings;
    mutable std::mutex m_mutex;
    std::condition_variable m_cv;
    bool m_stopping = false;
    std::map<std::string, LiveSession> m_live;   // every session live here
    std::set<std::string> m_unwritten;           // live, hash not (known to be) in Redis yet
    std::set<std::string> m_ended;               // ended, hash not deleted yet
    std::thread m_writer;
};

}  // namespace va
