// An Executor on a virtual clock, for tests and benchmarks of pipeline parts: time stands still until advance(),
// which runs every task that falls due, in time order (ties in the order they were posted). Blocking work runs
// inline, its continuation is posted, so a test sees the same interleaving the strand would give.
// Thread-safety: post() and post_after() may come from any thread (a provider's callback); advance() and run()
// from the test's thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <utility>

#include "core/pipeline/executor.hpp"

namespace va {

class VirtualExecutor final : public Executor {
public:
    explicit VirtualExecutor(std::int64_t start_ms = 1000) : m_now(start_ms) {}

    std::int64_t now_ms() const override {
        std::lock_guard lock(m_mutex);
        return m_now;
    }
    void post(std::function<void()> task) override { post_after(0, std::move(task)); }
    void post_after(int ms, std::function<void()> task) override {
        std::lock_guard lock(m_mutex);
        m_tasks.emplace(std::pair(m_now + (ms > 0 ? ms : 0), m_seq++), std::move(task));
    }
    void run_blocking(std::function<void()> work, std::function<void()> then) override {
        work();
        post(std::move(then));
    }

    // Runs what is due now (and what those tasks post for now), without moving the clock.
    void run() { advance(0); }
    // Moves the clock forward by `ms`, running each task at its own instant.
    void advance(std::int64_t ms) {
        std::int64_t until;
        {
            std::lock_guard lock(m_mutex);
            until = m_now + ms;
        }
        for (;;) {
            std::function<void()> task;
            {
                std::lock_guard lock(m_mutex);
                auto first = m_tasks.begin();
                if (first == m_tasks.end() || first->first.first > until) {
                    m_now = until;
                    return;
                }
                m_now = first->first.first;
                task = std::move(first->second);
                m_tasks.erase(first);
            }
            task();
        }
    }
    std::size_t pending() const {
        std::lock_guard lock(m_mutex);
        return m_tasks.size();
    }

private:
    mutable std::mutex m_mutex;
    std::int64_t m_now;
    std::uint64_t m_seq = 0;
    std::map<std::pair<std::int64_t, std::uint64_t>, std::function<void()>> m_tasks;
};

}  // namespace va
