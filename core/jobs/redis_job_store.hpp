// The job queue's records on Redis, for several daemons sharing one queue (docs/scale-out.md): a hash per job,
// a stream per job type and priority read through one consumer group, so each entry is delivered to one worker and
// stays in the group's pending list until acknowledged; leases in a sorted set, and an entry whose lease ran out
// is XCLAIMed by the next claimer (its worker died). Delayed jobs (run_after, retries with backoff) wait in a sorted
// set until due; dead jobs are kept and also appended to a dead-letter stream. Every operation is one Lua script,
// so two daemons never both take a job. It passes the same JobStore contract as the Store's SQLite tables.
// Thread-safety: safe from any thread (each call borrows a pooled connection).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/redis/redis_client.hpp"
#include "core/store/store.hpp"

namespace va {

struct RedisJobStoreOptions {
    std::string prefix = "va:jobs";               // every key starts with it: several deployments can share a Redis
    std::int64_t done_ttl_ms = 24 * 3600 * 1000;  // finished jobs (and their idempotency keys) are kept this long
    int dead_letters_max = 10000;                 // the dead-letter stream is trimmed to about this many entries
};

class RedisJobStore final : public JobStore {
public:
    RedisJobStore(std::shared_ptr<RedisPool> redis, RedisJobStoreOptions options = {});

    Result<Job> enqueue_job(const Job& job) override;
    Result<std::vector<Job>> claim_jobs(const std::vector<std::string>& types, const std::string& owner,
                                        std::int64_t now, std::int64_t lease_until, int limit) override;
    Status renew_job_lease(const std::string& id, const std::string& owner, std::int64_t lease_until) override;
    Status complete_job(const std::string& id, const std::string& owner, std::int64_t at) override;
    Status fail_job(const std::string& id, const std::string& owner, const std::string& error,
                    std::int64_t run_after, bool dead, std::int64_t at) override;
    Status release_job(const std::string& id, const std::string& owner, std::int64_t at) override;
    Result<Job> get_job(const std::string& id) override;
    Result<Page<Job>> list_jobs(const std::string& state, const std::string& type, const PageRequest& page) override;

    // The dead-letter stream's key: one entry (id, type, error, at) per job that died.
    std::string dead_letters_key() const { return m_options.prefix + ":dead"; }

private:
    Status leased(const char* what, const std::string& id, Result<RedisValue> reply);

    std::shared_ptr<RedisPool> m_redis;
    RedisJobStoreOptions m_options;
};

}  // namespace va
