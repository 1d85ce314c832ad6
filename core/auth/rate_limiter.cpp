#include "core/auth/rate_limiter.hpp"

#include <algorithm>
#include <cmath>

namespace va {

namespace {
constexpr std::int64_t kPruneEveryMs = 60'000;
}

RateLimiter::RateLimiter(double burst, double per_minute, std::shared_ptr<SharedBuckets> shared)
    : m_burst(burst), m_per_ms(per_minute / 60'000.0), m_shared(std::move(shared)) {}

int RateLimiter::acquire(const std::string& key, std::int64_t now_ms) {
    if (m_shared)
        if (auto wait = m_shared->take(key, m_burst, m_per_ms)) return *wait;
    return acquire_local(key, now_ms);
}

int RateLimiter::acquire_local(const std::string& key, std::int64_t now_ms) {
    std::lock_guard lock(m_mutex);
    prune(now_ms);
    auto [it, fresh] = m_buckets.try_emplace(key, Bucket{m_burst, now_ms});
    Bucket& b = it->second;
    if (!fresh) {
        b.tokens = std::min(m_burst, b.tokens + double(std::max<std::int64_t>(0, now_ms - b.updated_ms)) * m_per_ms);
        b.updated_ms = now_ms;
    }
    if (b.tokens >= 1.0) {
        b.tokens -= 1.0;
        return 0;
    }
    if (m_per_ms <= 0) return 3600;
    return std::max(1, static_cast<int>(std::ceil((1.0 - b.tokens) / m_per_ms / 1000.0)));
}

void RateLimiter::reset(const std::string& key) {
    if (m_shared) (void)m_shared->reset(key);
    std::lock_guard lock(m_mutex);
    m_buckets.erase(key);
}

void RateLimiter::prune(std::int64_t now_ms) {
    if (now_ms - m_last_prune_ms < kPruneEveryMs) return;
    m_last_prune_ms = now_ms;
    // A bucket untouched long enough to have refilled completely is indistinguishable from a new one.
    double full_after_ms = m_per_ms > 0 ? m_burst / m_per_ms : 3'600'000.0;
    std::erase_if(m_buckets, [&](const auto& kv) { return double(now_ms - kv.second.updated_ms) > full_after_ms; });
}

}  // namespace va
