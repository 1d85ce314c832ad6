#include "daemon/server/connection_limits.hpp"

namespace va::http {

ConnectionSlot::~ConnectionSlot() { m_limiter.release(m_address); }

std::unique_ptr<ConnectionSlot> ConnectionLimiter::try_acquire(const std::string& address, Refusal& why) {
    std::lock_guard lock(m_mutex);
    why = Refusal::none;
    if (m_max_total && m_total >= m_max_total) {
        why = Refusal::max_connections;
        return nullptr;
    }
    auto& count = m_per_address[address];
    if (m_max_per_address && count >= m_max_per_address) {
        why = Refusal::max_connections_per_ip;
        return nullptr;
    }
    ++count;
    ++m_total;
    return std::make_unique<ConnectionSlot>(*this, address);
}

void ConnectionLimiter::release(const std::string& address) {
    std::lock_guard lock(m_mutex);
    --m_total;
    auto it = m_per_address.find(address);
    if (it != m_per_address.end() && --it->second == 0) m_per_address.erase(it);
}

std::size_t ConnectionLimiter::open() const {
    std::lock_guard lock(m_mutex);
    return m_total;
}

bool LogRateLimiter::allow(Clock::time_point now, std::uint64_t& suppressed) {
    std::lock_guard lock(m_mutex);
    if (m_logged && now - m_last < m_interval) {
        ++m_suppressed;
        return false;
    }
    m_logged = true;
    m_last = now;
    suppressed = m_suppressed;
    m_suppressed = 0;
    return true;
}

}  // namespace va::http
