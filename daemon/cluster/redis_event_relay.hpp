// Carries call events between daemons through one Redis stream, so an event WebSocket on any daemon sees the calls
// of every daemon. A stream rather than pub/sub: a reader that loses its connection (or a Redis that restarts)
// reads on from the last entry it saw, so a short outage delays events instead of losing them. One writer thread
// appends this daemon's events in the order they were published (so each call's events stay in order); one reader
// thread hands the other daemons' events to the local bus. The stream is capped (MAXLEN ~) so it cannot grow
// without bound.
// Thread-safety: start() and stop() from one thread; the bus's relay hook (publish) is safe from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

#include "core/redis/redis_client.hpp"
#include "daemon/calls/event_bus.hpp"

namespace va {

struct EventRelaySettings {
    std::string stream = "va:events";
    std::size_t max_stream_len = 100'000;  // entries kept in Redis (approximately)
    std::size_t max_queue = 100'000;       // events waiting for Redis; the oldest are dropped beyond it
    int block_ms = 500;                    // how long a read waits for new entries (bounds stop())
};

class RedisEventRelay {
public:
    RedisEventRelay(RedisOptions redis, EventBus& bus, std::string instance_id, EventRelaySettings settings = {});
    ~RedisEventRelay();

    // Hooks into the bus and starts the writer and reader.
    void start();
    // Sends what is queued (for up to a second), then stops both threads.
    void stop();

    std::uint64_t sent() const { return m_sent; }
    std::uint64_t received() const { return m_received; }
    std::uint64_t dropped() const { return m_dropped; }

private:
    void enqueue(const CallEvent& event);
    void write_loop();
    void read_loop();
    // Sleeps `ms` unless stopping; false when stopping.
    bool pause(int ms);

    RedisOptions m_redis;
    EventBus& m_bus;
    std::string m_instance;
    EventRelaySettings m_settings;
    std::mutex m_mutex;
    std::condition_variable m_cv;
    std::deque<std::string> m_queue;  // encoded events
    bool m_stopping = false;
    std::thread m_writer;
    std::thread m_reader;
    std::atomic<std::uint64_t> m_sent{0};
    std::atomic<std::uint64_t> m_received{0};
    std::atomic<std::uint64_t> m_dropped{0};
};

}  // namespace va
