// Test support: waiting for a condition that another thread or process brings about, with a deadline, instead of
// sleeping a fixed time.
// Thread-safety: call from the test's thread; `done` runs on it.
#pragma once

#include <chrono>
#include <thread>

namespace va::test {

// Polls `done` every 10 ms until it holds or `within` has passed; returns its last answer.
template <class P>
bool eventually(P done, std::chrono::milliseconds within = std::chrono::seconds(5)) {
    auto until = std::chrono::steady_clock::now() + within;
    while (std::chrono::steady_clock::now() < until) {
        if (done()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return done();
}

}  // namespace va::test
