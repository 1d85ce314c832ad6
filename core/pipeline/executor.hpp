// The executor and clock a call's pipeline parts run on: the daemon backs it with the call's strand, its timers and
// the worker pool; tests back it with VirtualExecutor, so a part (or a whole call) runs on a virtual clock and every
// timing decision is checked at an exact instant instead of with a stopwatch.
// Thread-safety: post() and post_after() may be called from any thread (a provider's I/O thread posts its results);
// tasks run one at a time on the call's strand; `work` of run_blocking runs on another thread, `then` on the strand.
#pragma once

#include <cstdint>
#include <functional>

namespace va {

class Executor {
public:
    virtual ~Executor() = default;
    // Milliseconds of a monotonic clock: the one post_after() counts in, so pacing can use absolute deadlines.
    virtual std::int64_t now_ms() const = 0;
    virtual void post(std::function<void()> task) = 0;
    virtual void post_after(int ms, std::function<void()> task) = 0;
    // CPU work (pocketsphinx, espeak-ng, building a provider) off the strand; `then` runs on the strand after it.
    virtual void run_blocking(std::function<void()> work, std::function<void()> then) = 0;
};

// Provider work: on the worker pool, or for providers that take microseconds (test tones, simulated recognition)
// on the strand, posted to keep the order of events, rather than paying two thread hand-offs.
inline void run_work(Executor& executor, bool cheap, std::function<void()> work, std::function<void()> then) {
    if (!cheap) return executor.run_blocking(std::move(work), std::move(then));
    executor.post([work = std::move(work), then = std::move(then)] {
        work();
        then();
    });
}

}  // namespace va
