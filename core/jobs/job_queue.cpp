#include "core/jobs/job_queue.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "core/util/ids.hpp"
#include "core/util/time.hpp"
#include "core/util/guard.hpp"

namespace va {

namespace {

// Retrying cannot fix these: the job's input or its target is wrong.
bool permanent(const Error& e) {
    return e.code == ErrorCode::invalid_request || e.code == ErrorCode::unprocessable || e.code == ErrorCode::not_found ||
           e.code == ErrorCode::forbidden || e.code == ErrorCode::unauthenticated;
}

}  // namespace

std::int64_t JobQueue::backoff_ms(const JobQueueOptions& o, int attempt) {
    double base = double(o.backoff_base_ms) * std::pow(2.0, std::max(0, attempt - 1));
    base = std::min(base, double(o.backoff_max_ms));
    static thread_local std::mt19937 rng{std::random_device{}()};
    return std::int64_t(base * std::uniform_real_distribution<double>(0.5, 1.0)(rng));
}

JobQueue::JobQueue(JobStore& store, JobQueueOptions options) : m_store(store), m_options(std::move(options)) {
    if (m_options.owner.empty()) m_options.owner = default_instance_id();
    m_options.workers = std::max(1, m_options.workers);
}

JobQueue::~JobQueue() { stop(); }

void JobQueue::handle(std::string type, JobHandler handler) {
    m_types.push_back(type);
    m_handlers[std::move(type)] = std::move(handler);
}

Result<Job> JobQueue::enqueue(const std::string& type, const std::string& payload, const EnqueueOptions& o) {
    Job job;
    job.id = new_id("job");
    job.type = type;
    job.payload = payload;
    job.priority = o.priority;
    job.max_attempts = std::max(1, o.max_attempts);
    job.created_at = now_ms();
    job.run_after = o.run_after ? o.run_after : job.created_at;
    job.idempotency_key = o.idempotency_key;
    auto stored = m_store.enqueue_job(job);
    if (stored && stored->run_after <= now_ms()) wake();
    return stored;
}

void JobQueue::start() {
    std::lock_guard lock(m_mutex);
    if (m_started) return;
    m_started = true;
    for (int i = 0; i < m_options.workers; ++i) m_workers.emplace_back([this] { run_loop_guarded("jobs: worker", [this] { worker_loop(); }); });
    m_dispatcher = std::thread([this] { run_loop_guarded("jobs: dispatcher", [this] { dispatch_loop(); }); });
    m_heartbeat = std::thread([this] { run_loop_guarded("jobs: heartbeat", [this] { heartbeat_loop(); }); });
}

void JobQueue::wake() {
    {
        std::lock_guard lock(m_mutex);
        m_woken = true;
    }
    m_wake.notify_one();
}

JobQueueStats JobQueue::stats() const {
    std::lock_guard lock(m_mutex);
    return m_stats;
}

void JobQueue::dispatch_loop() {
    while (!m_stopping) {
        int free = 0;
        {
            std::lock_guard lock(m_mutex);
            // Claims run ahead of the workers by one round, so they never wait on the store between jobs.
            if (!m_draining) free = 2 * m_options.workers - int(m_ready.size() + m_running.size());
        }
        int wanted = std::min(free, m_options.claim_batch);
        std::size_t got = 0;
        if (wanted > 0 && !m_types.empty()) {
            auto now = now_ms();
            auto claimed = m_store.claim_jobs(m_types, m_options.owner, now, now + m_options.lease_ms, wanted);
            if (!claimed) {
                // Once per outage, not once per poll: a backend that is down (Redis restarting) is retried quietly.
                if (!m_claim_failing) spdlog::warn("jobs: cannot claim: {}", claimed.error().message);
                m_claim_failing = true;
            } else {
                if (m_claim_failing) spdlog::info("jobs: claiming again");
                m_claim_failing = false;
                got = claimed->size();
                std::lock_guard lock(m_mutex);
                for (auto& job : *claimed) {
                    ++m_stats.claimed;
                    m_ready.push_back(std::move(job));
                }
            }
            if (got) m_work.notify_all();
        }
        std::unique_lock lock(m_mutex);
        // A full batch means more may be due: claim again as soon as a worker is free.
        if (got && int(got) == wanted) {
            m_wake.wait_for(lock, std::chrono::milliseconds(m_options.poll_ms), [this] {
                return m_stopping || int(m_ready.size() + m_running.size()) <= m_options.workers;
            });
            continue;
        }
        m_wake.wait_for(lock, std::chrono::milliseconds(m_options.poll_ms), [this] { return m_stopping || m_woken; });
        m_woken = false;
    }
}

void JobQueue::worker_loop() {
    while (true) {
        Job job;
        {
            std::unique_lock lock(m_mutex);
            m_work.wait(lock, [this] { return m_stopping || !m_ready.empty(); });
            if (m_ready.empty()) return;  // stopping, and nothing claimed is left to start
            if (m_stopping) return;       // stop() hands the claimed-but-unstarted jobs back
            job = std::move(m_ready.front());
            m_ready.pop_front();
            m_running[job.id] = 1;
        }
        run(job);
        {
            std::lock_guard lock(m_mutex);
            m_running.erase(job.id);
        }
        m_idle.notify_all();
        m_wake.notify_one();  // a worker is free
    }
}

void JobQueue::run(const Job& job) {
    Status result = Ok{};
    if (job.attempts > job.max_attempts) {
        // Claimed again after its worker vanished once too often: nothing more is tried.
        result = make_error(ErrorCode::internal, "out of attempts (its worker stopped while running it)");
    } else if (auto it = m_handlers.find(job.type); it == m_handlers.end()) {
        result = make_error(ErrorCode::invalid_request, "no handler for job type " + job.type);
    } else {
        JobContext ctx{job, m_stopping};
        try {
            result = it->second(ctx);
        } catch (const std::exception& e) {
            result = make_error(ErrorCode::internal, std::string("handler threw: ") + e.what());
        } catch (...) {
            result = make_error(ErrorCode::internal, "handler threw");
        }
    }
    auto now = now_ms();
    Status stored = Ok{};
    std::string counter;
    if (result) {
        stored = m_store.complete_job(job.id, m_options.owner, now);
        counter = "completed";
    } else if (m_stopping && job.attempts <= job.max_attempts) {
        stored = m_store.release_job(job.id, m_options.owner, now);
        counter = "released";
    } else {
        bool dead = job.attempts >= job.max_attempts || permanent(result.error());
        stored = m_store.fail_job(job.id, m_options.owner, result.error().message,
                                  now + (dead ? 0 : backoff_ms(m_options, job.attempts)), dead, now);
        counter = dead ? "dead" : "retried";
        if (dead) spdlog::warn("jobs: {} ({}) is dead after {} attempts: {}", job.id, job.type, job.attempts, result.error().message);
    }
    std::lock_guard lock(m_mutex);
    if (!stored) {
        // Another worker holds it now (our lease ran out): its outcome is that worker's to record.
        ++m_stats.lost_leases;
        return;
    }
    if (counter == "completed") ++m_stats.completed;
    else if (counter == "released") ++m_stats.released;
    else if (counter == "dead") ++m_stats.dead;
    else ++m_stats.retried;
}

void JobQueue::heartbeat_loop() {
    std::unique_lock lock(m_mutex);
    while (!m_stopping) {
        m_idle.wait_for(lock, std::chrono::milliseconds(m_options.heartbeat_ms), [this] { return m_stopping.load(); });
        if (m_stopping) break;
        std::vector<std::string> ids;
        for (const auto& [id, _] : m_running) ids.push_back(id);
        lock.unlock();
        auto until = now_ms() + m_options.lease_ms;
        std::vector<std::pair<std::string, std::string>> refused;
        for (const auto& id : ids)
            if (auto s = m_store.renew_job_lease(id, m_options.owner, until); !s) refused.emplace_back(id, s.error().message);
        lock.lock();
        // A job that finished since the snapshot is no longer leased to anyone: only a job still running here lost it.
        for (const auto& [id, why] : refused)
            if (m_running.count(id)) spdlog::warn("jobs: lease of {} lost: {}", id, why);
    }
}

void JobQueue::stop(int grace_ms) {
    {
        std::lock_guard lock(m_mutex);
        if (!m_started || m_stopping) return;
    }
    // First stop claiming, then give running handlers the grace period before telling them to stop.
    std::deque<Job> unstarted;
    {
        std::unique_lock lock(m_mutex);
        m_draining = true;
        unstarted.swap(m_ready);
        m_idle.wait_for(lock, std::chrono::milliseconds(grace_ms), [this] { return m_running.empty(); });
        m_stopping = true;
    }
    m_wake.notify_all();
    m_work.notify_all();
    m_idle.notify_all();
    if (m_dispatcher.joinable()) m_dispatcher.join();
    for (auto& w : m_workers)
        if (w.joinable()) w.join();
    if (m_heartbeat.joinable()) m_heartbeat.join();
    // Claimed but never started: back to the queue, the attempt not counted.
    {
        std::lock_guard lock(m_mutex);
        for (auto& more : m_ready) unstarted.push_back(std::move(more));
        m_ready.clear();
    }
    auto now = now_ms();
    for (const auto& job : unstarted)
        if (m_store.release_job(job.id, m_options.owner, now)) {
            std::lock_guard lock(m_mutex);
            ++m_stats.released;
        }
}

}  // namespace va
