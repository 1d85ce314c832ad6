// Which event loop a provider WebSocket and its deadlines run on. A thread that runs an Asio loop of its own (the
// daemon's HTTP I/O threads) adopts it, and connections and ws_after() timers started from that thread then run on
// it, next to the call that uses them, instead of on the shared WebSocket thread: a 20 ms audio frame and the
// provider's answers then cost no cross-thread post and wake-up. Asio stays out of this header.
// Thread-safety: adopt_thread_loop() and thread_loop() act on the calling thread only (a thread-local). WsLoop is a
// plain value, safe to copy to and use from any thread. An adopted loop must outlive every connection and timer
// started on it, and must keep running while they are open (the daemon's loops outlive its calls).
#pragma once

namespace boost::asio {
class io_context;
}

namespace va {

// `loop` (or nullptr: none) becomes the calling thread's loop for connections and timers started from it.
void adopt_thread_loop(boost::asio::io_context* loop);
// The calling thread's adopted loop; nullptr when it has none.
boost::asio::io_context* thread_loop();

// An owner's loop, captured once (WsLoop::current() on the thread that first connects) and passed to each of its
// connect() and ws_after() calls, so its connections and timers share one loop whichever thread starts them.
class WsLoop {
public:
    WsLoop() = default;  // the shared WebSocket thread
    explicit WsLoop(boost::asio::io_context* loop) : m_loop(loop) {}
    // The calling thread's adopted loop, else the shared WebSocket thread.
    static WsLoop current() { return WsLoop(thread_loop()); }
    boost::asio::io_context* adopted() const { return m_loop; }  // nullptr: the shared WebSocket thread
    bool operator==(const WsLoop&) const = default;

private:
    boost::asio::io_context* m_loop = nullptr;
};

}  // namespace va
