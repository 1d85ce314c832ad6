// Call records written off the I/O threads: sessions hand their writes (the call's status, each turn) to one
// thread that applies them in order, so a burst of hundreds of calls starting or finishing a turn at once never
// stalls the audio pacing of the calls around them. Writes that must follow a session's (a carrier's status
// callback) go through the same queue, so they land after it.
// Thread-safety: post() is safe from any thread; jobs run one at a time on the writer's thread.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "core/store/store.hpp"

namespace va {

class StoreWriter {
public:
    explicit StoreWriter(Store& store);
    ~StoreWriter();  // applies what is queued, then stops
    StoreWriter(const StoreWriter&) = delete;
    StoreWriter& operator=(const StoreWriter&) = delete;

    void post(std::function<void(Store&)> job);
    // Blocks until everything queued before the call has been applied (tests, shutdown).
    void drain();

private:
    void run();

    Store& m_store;
    std::mutex m_mutex;
    std::condition_variable m_wake, m_idle;
    std::deque<std::function<void(Store&)>> m_jobs;
    bool m_busy = false;
    bool m_stopping = false;
    std::thread m_thread;
};

}  // namespace va
