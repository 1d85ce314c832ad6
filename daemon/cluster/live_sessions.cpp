#include "daemon/cluster/live_sessions.hpp"
#include "core/util/guard.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdlib>
#include <vector>

namespace va {

namespace {

// The whole hash and its TTL in one step: a hash is never left without its TTL.
constexpr const char* kWriteScript =
    "redis.call('DEL', KEYS[1]) redis.call('HSET', KEYS[1], unpack(ARGV, 2)) "
    "redis.call('PEXPIRE', KEYS[1], ARGV[1]) return 1";
// Renews every key given; answers the (1-based) positions of those Redis no longer has, to be written again.
constexpr const char* kRefreshScript =
    "local missing = {} for i, k in ipairs(KEYS) do "
    "if redis.call('PEXPIRE', k, ARGV[1]) == 0 then missing[#missing + 1] = i end end return missing";
constexpr std::size_t kBatch = 256;
constexpr int kRetryMs = 200;

}  // namespace

RedisLiveSessions::RedisLiveSessions(std::shared_ptr<RedisPool> redis, std::string instance,
                                     LiveSessionSettings settings)
    : m_redis(std::move(redis)), m_instance(std::move(instance)), m_settings(std::move(settings)) {}

RedisLiveSessions::~RedisLiveSessions() { stop(); }

void RedisLiveSessions::start() { m_writer = std::thread([this] { run_loop_guarded("live sessions: writer", [this] { write_loop(); }); }); }

void RedisLiveSessions::stop() {
    {
        std::lock_guard lock(m_mutex);
        if (m_stopping) return;
        m_stopping = true;
    }
    m_cv.notify_all();
    if (m_writer.joinable()) m_writer.join();
}

void RedisLiveSessions::add(LiveSession session) {
    session.instance = m_instance;
    {
        std::lock_guard lock(m_mutex);
        if (m_stopping) return;
        m_unwritten.insert(session.call_id);
        m_ended.erase(session.call_id);
        m_live[session.call_id] = std::move(session);
    }
    m_cv.notify_all();
}

void RedisLiveSessions::remove(const std::string& call_id) {
    {
        std::lock_guard lock(m_mutex);
        if (!m_live.erase(call_id)) return;
        m_unwritten.erase(call_id);
        m_ended.insert(call_id);
    }
    m_cv.notify_all();
}

std::size_t RedisLiveSessions::size() const {
    std::lock_guard lock(m_mutex);
    return m_live.size();
}

Result<std::optional<LiveSession>> RedisLiveSessions::lookup(const std::string& call_id) const {
    auto reply = m_redis->command({"HGETALL", key(call_id)});
    if (!reply) return reply.take_error();
    if (reply->elements.empty()) return std::optional<LiveSession>{};
    LiveSession s;
    s.call_id = call_id;
    for (std::size_t i = 0; i + 1 < reply->elements.size(); i += 2) {
        const std::string& field = reply->elements[i].str;
        const std::string& value = reply->elements[i + 1].str;
        if (field == "instance") s.instance = value;
        else if (field == "workspace_id") s.workspace_id = value;
        else if (field == "channel") s.channel = value;
        else if (field == "provider_call_id") s.provider_call_id = value;
        else if (field == "started_at") s.started_at = std::strtoll(value.c_str(), nullptr, 10);
    }
    return std::optional<LiveSession>{std::move(s)};
}

void RedisLiveSessions::write_loop() {
    RedisConnection redis(m_redis->options());
    const std::string ttl = std::to_string(m_settings.ttl_ms);
    auto next_refresh = std::chrono::steady_clock::now() + std::chrono::milliseconds(m_settings.refresh_ms);
    bool failing = false;
    auto failed = [&](const Error& e) {
        if (!failing) spdlog::warn("live sessions: cannot update Redis ({}); retrying", e.message);
        failing = true;
    };
    while (true) {
        std::vector<LiveSession> writes;
        std::vector<std::string> deletes, refresh;
        bool stopping = false;
        {
            std::unique_lock lock(m_mutex);
            // While Redis fails, what is pending is retried every kRetryMs rather than at once.
            auto until = failing ? std::min(next_refresh, std::chrono::steady_clock::now() +
                                                              std::chrono::milliseconds(kRetryMs))
                                 : next_refresh;
            m_cv.wait_until(lock, until, [&] {
                return m_stopping || (!failing && (!m_unwritten.empty() || !m_ended.empty()));
            });
            stopping = m_stopping;
            if (stopping) {
                // Sessions still here end with the daemon: their hashes go too (best effort, bounded below).
                for (const auto& [id, s] : m_live) deletes.push_back(id);
                deletes.insert(deletes.end(), m_ended.begin(), m_ended.end());
                m_live.clear();
                m_unwritten.clear();
                m_ended.clear();
            } else {
                for (const auto& id : m_unwritten) writes.push_back(m_live.at(id));
                deletes.assign(m_ended.begin(), m_ended.end());
                m_unwritten.clear();
                m_ended.clear();
                if (std::chrono::steady_clock::now() >= next_refresh) {
                    for (const auto& [id, s] : m_live) refresh.push_back(id);
                    next_refresh = std::chrono::steady_clock::now() + std::chrono::milliseconds(m_settings.refresh_ms);
                }
            }
        }
        bool ok = true;
        std::vector<LiveSession> unwritten;
        for (const auto& s : writes) {
            if (!ok) {
                unwritten.push_back(s);
                continue;
            }
            auto r = redis.command({"EVAL", kWriteScript, "1", key(s.call_id), ttl, "instance", s.instance,
                                    "workspace_id", s.workspace_id, "channel", s.channel, "provider_call_id",
                                    s.provider_call_id, "started_at", std::to_string(s.started_at)});
            if (!r) {
                failed(r.error());
                ok = false;
                unwritten.push_back(s);
            }
        }
        std::vector<std::string> undeleted;
        for (std::size_t at = 0; at < deletes.size(); at += kBatch) {
            std::vector<std::string> args{"DEL"};
            for (std::size_t i = at; i < std::min(deletes.size(), at + kBatch); ++i) args.push_back(key(deletes[i]));
            auto r = ok ? redis.command(args) : Result<RedisValue>(make_error(ErrorCode::unavailable, "skipped"));
            if (!r) {
                if (ok) failed(r.error());
                ok = false;
                undeleted.insert(undeleted.end(), deletes.begin() + std::ptrdiff_t(at),
                                 deletes.begin() + std::ptrdiff_t(std::min(deletes.size(), at + kBatch)));
            }
        }
        if (stopping) return;  // one attempt: a daemon that is stopping does not wait for a Redis that is down
        std::vector<std::string> missing;
        for (std::size_t at = 0; ok && at < refresh.size(); at += kBatch) {
            std::size_t end = std::min(refresh.size(), at + kBatch);
            std::vector<std::string> args{"EVAL", kRefreshScript, std::to_string(end - at)};
            for (std::size_t i = at; i < end; ++i) args.push_back(key(refresh[i]));
            args.push_back(ttl);
            auto r = redis.command(args);
            if (!r) {
                failed(r.error());
                ok = false;
                // Whatever was not renewed is written whole once Redis answers again.
                missing.insert(missing.end(), refresh.begin() + std::ptrdiff_t(at), refresh.end());
                break;
            }
            for (const auto& position : r->elements)
                if (position.integer >= 1 && std::size_t(position.integer) <= end - at)
                    missing.push_back(refresh[at + std::size_t(position.integer) - 1]);
        }
        bool attempted = !writes.empty() || !deletes.empty() || !refresh.empty();
        if (attempted && ok && failing) spdlog::info("live sessions: Redis is reachable again");
        {
            std::lock_guard lock(m_mutex);
            for (const auto& s : unwritten)
                if (m_live.count(s.call_id)) m_unwritten.insert(s.call_id);
            for (const auto& id : missing)
                if (m_live.count(id)) m_unwritten.insert(id);
            m_ended.insert(undeleted.begin(), undeleted.end());
        }
        if (attempted) failing = !ok;
    }
}

}  // namespace va
