// A keyed token-bucket rate limiter (login attempts per client address and per account). Buckets idle for long
// are pruned. With several daemons the buckets live in a shared store (Redis), so a client cannot multiply its
// allowance by spreading attempts over daemons; while that store is unreachable, this process's own buckets limit.
// Thread-safe: one mutex; the critical section is a hash lookup. A SharedBuckets must be thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "core/util/result.hpp"

namespace va {

// Buckets shared by several processes. take() has acquire()'s contract; an error means the store is unreachable.
class SharedBuckets {
public:
    virtual ~SharedBuckets() = default;
    virtual Result<int> take(const std::string& key, double burst, double per_ms) = 0;
    virtual Status reset(const std::string& key) = 0;
};

class RateLimiter {
public:
    // `burst` attempts at once, refilled at `per_minute` attempts per minute; in `shared` buckets when given.
    RateLimiter(double burst, double per_minute, std::shared_ptr<SharedBuckets> shared = nullptr);

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
    int acquire_local(const std::string& key, std::int64_t now_ms);

    double m_burst;
    double m_per_ms;
    std::mutex m_mutex;
    std::unordered_map<std::string, Bucket> m_buckets;
    std::int64_t m_last_prune_ms = 0;
    std::shared_ptr<SharedBuckets> m_shared;
};

}  // namespace va
