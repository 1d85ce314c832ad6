// A WebSocket connection for session tests on a virtual clock: the session's posts, timers and blocking work run only
// when the test moves the clock (advance), in deadline order, so a test states exactly what happens at which
// millisecond. Subclasses keep what the session sends (send_text, send_binary, close).
// Thread-safety: none; one test thread drives it.
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>

#include "daemon/server/websocket.hpp"

namespace va::test {

class VirtualConnection : public http::WsConnection {
public:
    std::int64_t now = 0;  // virtual milliseconds

    const std::string& remote_address() const override { return m_remote; }
    std::int64_t monotonic_ms() const override { return now; }
    void post(std::function<void()> fn) override { m_ready.push_back(std::move(fn)); }
    void post_after(int ms, std::function<void()> fn) override { m_timers.emplace(now + std::max(0, ms), std::move(fn)); }
    // Blocking work runs at once (its result does not depend on time); its continuation is posted like any other.
    void run_blocking(std::function<void()> work, std::function<void()> then) override {
        work();
        m_ready.push_back(std::move(then));
    }

    // Runs what is posted, including what that posts in turn.
    void drain() {
        while (!m_ready.empty()) {
            auto fn = std::move(m_ready.front());
            m_ready.pop_front();
            fn();
        }
    }
    // Advances virtual time by `ms`, running whatever falls due, in order.
    void advance(std::int64_t ms) {
        std::int64_t until = now + ms;
        drain();
        while (!m_timers.empty() && m_timers.begin()->first <= until) {
            auto it = m_timers.begin();
            now = it->first;
            auto fn = std::move(it->second);
            m_timers.erase(it);
            fn();
            drain();
        }
        now = until;
    }

private:
    std::string m_remote = "127.0.0.1";
    std::deque<std::function<void()>> m_ready;
    std::multimap<std::int64_t, std::function<void()>> m_timers;
};

}  // namespace va::test
