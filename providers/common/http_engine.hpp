// One libcurl multi handle on a thread of its own carries every streamed provider request of the process (LLM
// tokens, TTS audio): a request in flight costs a socket and a little state, never a thread waiting on the
// network, so 500 calls with answers in flight need 500 transfers, not 500 threads. Retries wait on the engine's
// timers, not in a sleeping thread.
// Thread-safety: stream() and after() are safe from any thread. Callbacks run on the engine's thread, one at a
// time; they must be quick (post real work elsewhere). After Handle::cancel() (or the handle's destruction)
// returns, no callback of that request runs; cancelling from inside one of its own callbacks is allowed.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <string_view>

#include "core/util/result.hpp"
#include "providers/common/http_client.hpp"

namespace va {

struct HttpStreamCallbacks {
    // Each piece of a 2xx body as it arrives, after the status and headers are in `head`; false stops the transfer
    // (on_done then gets the status so far). An error status's body is not streamed: on_done gets it whole.
    std::function<bool(const HttpResult& head, std::string_view piece)> on_body;
    // Exactly once, unless cancelled first: the status (with an error status's body), or a transient error for a
    // transfer that failed (connection refused or reset, timeout).
    std::function<void(Result<HttpResult> outcome)> on_done;
};

class HttpEngine {
public:
    // A request or timer in the engine; destroying it cancels.
    class Handle {
    public:
        virtual ~Handle() = default;
        virtual void cancel() = 0;
    };

    HttpEngine();
    // Stops the thread; what is still in flight ends without callbacks.
    ~HttpEngine();
    HttpEngine(const HttpEngine&) = delete;
    HttpEngine& operator=(const HttpEngine&) = delete;

    // The process's engine, started on first use and never stopped (providers of any call may use it to the end).
    static HttpEngine& shared();

    std::unique_ptr<Handle> stream(HttpRequest request, HttpStreamCallbacks callbacks);
    // Runs `fn` on the engine's thread once `delay_ms` has passed (a retry's backoff).
    std::unique_ptr<Handle> after(int delay_ms, std::function<void()> fn);

    // Transfers started and not yet done or cancelled.
    std::size_t in_flight() const { return m_in_flight.load(); }
    // The most transfers that were in flight at once since the engine started.
    std::size_t peak_in_flight() const { return m_peak.load(); }

private:
    struct Job;
    class JobHandle;
    class Loop;

    void submit(std::shared_ptr<Job> job);
    void withdraw(std::shared_ptr<Job> job);

    std::unique_ptr<Loop> m_loop;
    std::atomic<std::size_t> m_in_flight{0};
    std::atomic<std::size_t> m_peak{0};
};

}  // namespace va
