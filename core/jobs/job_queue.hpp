// A durable job queue on the Store (SQLite by default): handlers by job type run on a pool of worker threads.
// Jobs are claimed with a lease that a heartbeat renews while they run; a job whose worker died is claimed again
// once its lease runs out, so every job runs at least once (handlers make their effects idempotent, for example
// with the job's id or an idempotency key). A failure is retried with exponential backoff and jitter until the
// job's max_attempts, then kept as dead for inspection; an error that retrying cannot fix (invalid input) is dead
// at once. Shutdown stops claiming, lets running jobs finish within a grace period, and hands back the jobs whose
// handlers gave up because of it, without counting the attempt.
// Thread-safety: handle() before start(); enqueue(), wake() and stats() are safe from any thread; stop() from
// one thread (the destructor calls it).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/store/store.hpp"
#include "core/util/result.hpp"

namespace va {

struct JobQueueOptions {
    std::string owner;               // this worker's name in leases; empty: host-pid-random
    int workers = 4;
    int lease_ms = 30000;            // a claim lasts this long unless renewed
    int heartbeat_ms = 10000;        // running jobs' leases are renewed this often
    int poll_ms = 250;               // how often to look for due jobs when nothing wakes the queue
    int backoff_base_ms = 1000;      // first retry after about this long, doubling per attempt
    int backoff_max_ms = 300000;
    int claim_batch = 32;            // jobs claimed per store round trip at most
};

struct EnqueueOptions {
    int priority = 0;
    std::int64_t run_after = 0;      // epoch ms; 0: now
    int max_attempts = 5;
    std::string idempotency_key;     // a second enqueue with the same key returns the first job
};

// What a handler sees: its job, and whether the queue is shutting down (a long handler should then return an
// error soon, and the job is handed back rather than counted as failed).
struct JobContext {
    const Job& job;
    const std::atomic<bool>& stopping;
};

// Ok: the job is done. An error: retried (or dead once out of attempts, or at once when not worth retrying).
using JobHandler = std::function<Status(JobContext&)>;

struct JobQueueStats {
    std::uint64_t claimed = 0, completed = 0, retried = 0, dead = 0, released = 0, lost_leases = 0;
};

class JobQueue {
public:
    JobQueue(JobStore& store, JobQueueOptions options);
    ~JobQueue();
    JobQueue(const JobQueue&) = delete;
    JobQueue& operator=(const JobQueue&) = delete;

    void handle(std::string type, JobHandler handler);
    Result<Job> enqueue(const std::string& type, const std::string& payload, const EnqueueOptions& options = {});
    void start();
    // Stops claiming; waits up to `grace_ms` for running jobs, then for their handlers to return (they see
    // `stopping`); jobs whose handlers failed while stopping are handed back.
    void stop(int grace_ms = 10000);
    void wake();
    JobQueueStats stats() const;
    const std::string& owner() const { return m_options.owner; }

    // The delay before retry `attempt` (1-based): base * 2^(attempt-1), capped, then 50..100% of it (jitter).
    static std::int64_t backoff_ms(const JobQueueOptions& options, int attempt);

private:
    void dispatch_loop();
    void worker_loop();
    void heartbeat_loop();
    void run(const Job& job);

    JobStore& m_store;
    JobQueueOptions m_options;
    std::map<std::string, JobHandler> m_handlers;
    std::vector<std::string> m_types;

    mutable std::mutex m_mutex;
    std::condition_variable m_wake;       // the dispatcher: new jobs or free workers
    std::condition_variable m_work;       // the workers: claimed jobs
    std::condition_variable m_idle;       // stop(): running jobs finished
    std::deque<Job> m_ready;              // claimed, waiting for a worker
    std::map<std::string, int> m_running; // job id -> 1 while a handler runs it (leases to renew)
    bool m_woken = false;
    bool m_draining = false;              // stop() has begun: no more claims
    std::atomic<bool> m_stopping{false};
    bool m_started = false;
    bool m_claim_failing = false;         // the dispatcher's own: the last claim failed
    JobQueueStats m_stats;

    std::thread m_dispatcher, m_heartbeat;
    std::vector<std::thread> m_workers;
};

}  // namespace va
