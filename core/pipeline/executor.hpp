// The executor and clock a call's pipeline parts run on: the daemon backs it with the call's strand, its timers and
// the worker pool; tests back it with VirtualExecutor, so a part (or a whole call) runs on a virtual clock and every
// timing decision is checked at an exact instant instead of with a stopwatch.
// A Timer is what a part that wakes up again and again (the speaker's 20 ms pacer) re-arms instead of posting a new
// task each time: its task is given once, and the daemon backs it with one timer per call.
// Thread-safety: post() and post_after() may be called from any thread (a provider's I/O thread posts its results);
// tasks run one at a time on the call's strand; `work` of run_blocking runs on another thread, `then` on the strand.
// make_timer() may be called from any thread; a Timer is armed, cancelled and destroyed on the strand only.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

namespace va {

class Timer {
public:
    virtual ~Timer() = default;  // a pending run does not happen
    // Runs the timer's task on the strand `ms` from now (0 or less: as soon as it can). A run still pending from an
    // earlier arm() does not happen.
    virtual void arm(int ms) = 0;
    // A pending run does not happen.
    virtual void cancel() = 0;
};

class Executor {
public:
    virtual ~Executor() = default;
    // Milliseconds of a monotonic clock: the one post_after() counts in, so pacing can use absolute deadlines.
    virtual std::int64_t now_ms() const = 0;
    virtual void post(std::function<void()> task) = 0;
    virtual void post_after(int ms, std::function<void()> task) = 0;
    // CPU work (pocketsphinx, espeak-ng, building a provider) off the strand; `then` runs on the strand after it.
    virtual void run_blocking(std::function<void()> work, std::function<void()> then) = 0;
    // A re-armable timer running `task` on the strand. This default arms through post_after() (so a test's
    // VirtualExecutor sees the same tasks at the same instants as before timers existed); the daemon's executor
    // gives one re-armed timer of the connection instead, which allocates nothing per arm.
    virtual std::unique_ptr<Timer> make_timer(std::function<void()> task);
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
