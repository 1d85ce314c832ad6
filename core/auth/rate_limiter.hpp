// A keyed token-bucket rate limiter (login attempts per client address and per account). Buckets idle for long
// are pruned. Thread-safe: one mutex; the critical section is a hash lookup.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace va {

class RateLimiter {
public:
    // `burst` attempts at once, refilled at `per_minute` attempts per minute.
    RateLimiter(double burst, double per_minute);

    // Takes one token for `key` at time `now_ms`; returns 0 when allowed, otherwise the seconds to wait (>= 1).
    int acquire(const std::string& key, std::int64_t now_ms);

    // Forgets a key (e.g. after a successful login for the account bucket).
    void reset(const std::string& key);

private:
    struct Bucket {
        double tokens;
        std::int64_t updated_ms;
    };
    void prune(std::int64_t now_ms);

    double m_burst;
    double m_per_ms;
    std::mutex m_mutex;
    std::unordered_map<std::string, Bucket> m_buckets;
    std::int64_t m_last_prune_ms = 0;
};

}  // namespace va
