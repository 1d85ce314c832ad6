#include "daemon/cluster/instance_monitor.hpp"

#include <spdlog/spdlog.h>

#include <chrono>

#include "core/util/time.hpp"

namespace va {

InstanceMonitor::InstanceMonitor(Store& store, CallManager& calls, std::string base_url, InstanceSettings settings)
    : m_store(store), m_calls(calls), m_base_url(std::move(base_url)), m_settings(settings) {}

InstanceMonitor::~InstanceMonitor() { stop(); }

void InstanceMonitor::start() {
    m_started_at = now_ms();
    // Nothing is live yet: every call still open under this name belongs to a run that has gone.
    if (auto n = settle_open_calls(m_calls.instance(), "interrupted: the daemon restarted during the call"))
        spdlog::warn("instance {}: {} calls left open by its previous run were marked failed", m_calls.instance(), n);
    tick(m_started_at);
    m_thread = std::thread([this] {
        std::unique_lock lock(m_mutex);
        while (!m_cv.wait_for(lock, std::chrono::milliseconds(m_settings.heartbeat_ms), [this] { return m_stopping; })) {
            lock.unlock();
            try {
                tick(now_ms());
            } catch (const std::exception& e) {
                spdlog::error("instance monitor: {}", e.what());
            }
            lock.lock();
        }
    });
}

void InstanceMonitor::stop() {
    {
        std::lock_guard lock(m_mutex);
        if (m_stopping) return;
        m_stopping = true;
    }
    m_cv.notify_all();
    if (!m_thread.joinable()) return;
    m_thread.join();
    (void)m_store.remove_instance(m_calls.instance());
}

std::size_t InstanceMonitor::tick(std::int64_t now) {
    if (auto s = m_store.heartbeat_instance({m_calls.instance(), m_base_url, m_started_at, now}); !s)
        spdlog::warn("instance {}: cannot renew its heartbeat: {}", m_calls.instance(), s.error().message);
    auto instances = m_store.list_instances();
    if (!instances) return 0;
    std::size_t settled = 0;
    for (const auto& other : *instances) {
        if (other.id == m_calls.instance() || now - other.heartbeat_at <= m_settings.lease_ms) continue;
        spdlog::warn("instance {}: daemon {} ({}) has been silent for {} ms; settling its calls", m_calls.instance(),
                     other.id, other.base_url, now - other.heartbeat_at);
        settled += settle_open_calls(other.id, "interrupted: daemon " + other.id + " stopped during the call");
        (void)m_store.remove_instance(other.id);
    }
    return settled;
}

std::size_t InstanceMonitor::settle_open_calls(const std::string& instance, const std::string& reason) {
    auto open = m_store.list_open_calls(instance);
    if (!open) {
        spdlog::error("instance monitor: cannot list the open calls of {}: {}", instance, open.error().message);
        return 0;
    }
    std::size_t n = 0;
    for (const auto& call : *open) {
        if (m_calls.is_live(call.id)) continue;
        m_calls.settle(call.id, "failed", -1, reason);
        ++n;
    }
    return n;
}

}  // namespace va
