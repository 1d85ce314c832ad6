// Connection admission for the listener: a global cap and a per-client-address cap on open connections (HTTP and
// upgraded WebSocket alike), and a rate limit for log lines that a flood could repeat thousands of times a second
// (accept failures). Both keep a hostile or broken client from exhausting descriptors or the log.
// Thread-safety: ConnectionLimiter is safe from any thread (one mutex); a ConnectionSlot is owned by one connection;
// LogRateLimiter is safe from any thread (one mutex).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace va::http {

class ConnectionLimiter;

// One admitted connection; releases its place when destroyed (it moves from the HTTP session to the WebSocket).
class ConnectionSlot {
public:
    ConnectionSlot(ConnectionLimiter& limiter, std::string address)
        : m_limiter(limiter), m_address(std::move(address)) {}
    ~ConnectionSlot();
    ConnectionSlot(const ConnectionSlot&) = delete;
    ConnectionSlot& operator=(const ConnectionSlot&) = delete;

private:
    ConnectionLimiter& m_limiter;
    std::string m_address;
};

class ConnectionLimiter {
public:
    // 0 means no limit for either cap.
    ConnectionLimiter(std::size_t max_total, std::size_t max_per_address)
        : m_max_total(max_total), m_max_per_address(max_per_address) {}

    enum class Refusal { none, max_connections, max_connections_per_ip };
    // A slot for a new connection from `address`, or null with `why` set when a cap is reached.
    std::unique_ptr<ConnectionSlot> try_acquire(const std::string& address, Refusal& why);
    std::size_t open() const;

private:
    friend class ConnectionSlot;
    void release(const std::string& address);

    const std::size_t m_max_total;
    const std::size_t m_max_per_address;
    mutable std::mutex m_mutex;
    std::size_t m_total = 0;
    std::unordered_map<std::string, std::size_t> m_per_address;  // only addresses with open connections
};

// At most one line per interval for a repeating event; the next allowed line reports how many were held back.
class LogRateLimiter {
public:
    using Clock = std::chrono::steady_clock;
    explicit LogRateLimiter(std::chrono::milliseconds interval) : m_interval(interval) {}
    // True when a line may be written at `now`; `suppressed` is then the count held back since the last line.
    bool allow(Clock::time_point now, std::uint64_t& suppressed);

private:
    std::chrono::milliseconds m_interval;
    std::mutex m_mutex;
    bool m_logged = false;
    Clock::time_point m_last;
    std::uint64_t m_suppressed = 0;
};

}  // namespace va::http
