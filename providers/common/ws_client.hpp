// Outbound WebSocket for streaming provider APIs (Deepgram live recognition, ElevenLabs stream-input), over ws://
// or wss:// (TLS with the peer's certificate and host name verified against the system's trust store). A
// connection runs on an event loop (io_loop.hpp): the one its owner passes, by default the calling thread's
// adopted loop (the daemon's HTTP I/O thread that carries the call, so a caller's audio frame reaches the provider
// with no hand-off to another thread), else one shared I/O thread started on first use. A call costs a socket, not
// a thread; Beast stays inside ws_client.cpp.
// Thread-safety: connect() and every WsClient method are safe from any thread. A connection's callbacks run on its
// loop, one at a time (its strand), and must not block: owners post what they learn to their own strand. After
// abort() returns no callback of that client starts any more (one already running may still finish: owners that
// must know it is over guard their callbacks themselves). A ws_after() timer runs on the loop it is given. An
// owner's timers and its connection's callbacks run one at a time, in one order, only when they are on the same
// loop: so an owner captures its WsLoop once and passes it to every connect() and ws_after() it makes, whichever
// thread it is on (a reconnect from a callback, a deadline armed from the caller's strand).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/util/result.hpp"
#include "providers/common/io_loop.hpp"

namespace va {

struct WsClientOptions {
    std::string url;  // ws://host[:port]/path?query or wss://...
    std::vector<std::pair<std::string, std::string>> headers;
    int connect_timeout_ms = 5000;
    // Called every tick_ms on the connection's loop while the connection is open (keep-alives); 0 turns it off.
    int tick_ms = 0;
};

struct WsClientCallbacks {
    std::function<void()> on_open;
    std::function<void(bool binary, std::string data)> on_message;
    std::function<void()> on_tick;
    // Once, when the connection ends for any reason. `code` is the peer's close code (1000 normal), or 0 when
    // there was none (refused upgrade, connection failure); `error` then says what happened, with the HTTP
    // status of a refused upgrade mapped to an ErrorCode (401 unauthenticated, 429 rate_limited, ...).
    std::function<void(int code, std::string reason, std::optional<Error> error)> on_closed;
};

class WsClient {
public:
    // On `loop`; by default the calling thread's (WsLoop::current()).
    static std::shared_ptr<WsClient> connect(WsClientOptions options, WsClientCallbacks callbacks,
                                             WsLoop loop = WsLoop::current());
    virtual ~WsClient() = default;
    // Queued in order; dropped once the connection is closing or closed.
    virtual void send_text(std::string message) = 0;
    virtual void send_binary(std::string bytes) = 0;
    // Starts the closing handshake (bounded: a peer that never answers is cut off after a few seconds).
    virtual void close(int code = 1000, std::string reason = {}) = 0;
    // Drops the callbacks and tears the connection down without waiting: the owner is going away.
    virtual void abort() = 0;
    // How many messages are waiting to be written (for callers that buffer while a connection is slow).
    virtual std::size_t queued() const = 0;
};

// A deadline on `loop` (a protocol's quiet time, a request's timeout), so no thread waits for it: `fn` runs once,
// `delay_ms` from now, unless the timer was destroyed first. Like a connection's callbacks it must
// not block, and an exception from it is logged and dropped. Destroying the timer does not wait for a run that has
// already started.
class WsTimer {
public:
    virtual ~WsTimer() = default;
};
std::unique_ptr<WsTimer> ws_after(int delay_ms, std::function<void()> fn, WsLoop loop = WsLoop::current());

// Callbacks that reach `owner` only while it lives, tagged with the connection's `generation` so an owner that
// reconnects can ignore the old connection: owner->ws_opened(g), ws_message(g, binary, data), ws_tick(g),
// ws_closed(g, code, reason, error).
template <class Owner>
WsClientCallbacks callbacks_for(std::weak_ptr<Owner> owner, int generation) {
    WsClientCallbacks cb;
    cb.on_open = [owner, generation] {
        if (auto self = owner.lock()) self->ws_opened(generation);
    };
    cb.on_message = [owner, generation](bool binary, std::string data) {
        if (auto self = owner.lock()) self->ws_message(generation, binary, std::move(data));
    };
    cb.on_tick = [owner, generation] {
        if (auto self = owner.lock()) self->ws_tick(generation);
    };
    cb.on_closed = [owner, generation](int code, std::string reason, std::optional<Error> error) {
        if (auto self = owner.lock()) self->ws_closed(generation, code, std::move(reason), std::move(error));
    };
    return cb;
}

// Splits ws[s]://host[:port]/target into its parts; an error for anything else.
struct WsUrl {
    bool tls = false;
    std::string host, port, target;
};
Result<WsUrl> parse_ws_url(const std::string& url);

}  // namespace va
