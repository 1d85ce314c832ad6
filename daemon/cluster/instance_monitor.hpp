// Daemons sharing one store watch each other: each renews its own heartbeat row; each, at start, ends the calls
// its previous run left open (no session survives a restart), and settles the open calls of any other daemon
// whose heartbeat has lapsed, as failed with the reason, then forgets that daemon. The calls' campaign contacts
// then settle by their retry policy like any ended call, which frees their slots; the daemon's jobs come back
// through their own leases.
// Thread-safety: start() and stop() from one thread; tick() runs on the monitor's thread (tests call it directly).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "core/store/store.hpp"
#include "daemon/calls/call_manager.hpp"

namespace va {

struct InstanceSettings {
    int lease_ms = 15'000;  // a daemon silent this long is taken for dead
    int heartbeat_ms = 3'000;
};

class InstanceMonitor {
public:
    InstanceMonitor(Store& store, CallManager& calls, std::string base_url, InstanceSettings settings);
    ~InstanceMonitor();

    // Ends what this daemon's previous run left open, heartbeats, and starts watching.
    void start();
    // Stops watching and removes this daemon's row: a clean stop is not a death.
    void stop();
    // One round at `now`: heartbeat, then settle the calls of lapsed daemons. Returns the calls settled.
    std::size_t tick(std::int64_t now);

private:
    std::size_t settle_open_calls(const std::string& instance, const std::string& reason);

    Store& m_store;
    CallManager& m_calls;
    std::string m_base_url;
    InstanceSettings m_settings;
    std::int64_t m_started_at = 0;
    std::mutex m_mutex;
    std::condition_variable m_cv;
    bool m_stopping = false;
    std::thread m_thread;
};

}  // namespace va
