// Transport-neutral WebSocket endpoints, so media and event handlers never include Beast. A route's accept function
// authenticates the upgrade request and returns a handler for the connection (or an Error, answered as HTTP before
// any upgrade). The server then calls the handler's methods one at a time, in order, on the connection's strand.
// Thread-safety: WsConnection's methods are safe from any thread (they queue onto the connection's strand); a
// WsHandler is only ever called from that strand.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/pipeline/executor.hpp"
#include "core/util/result.hpp"
#include "daemon/server/http.hpp"

namespace va::http {

class WsConnection {
public:
    virtual ~WsConnection() = default;
    virtual void send_text(std::string message) = 0;
    virtual void send_binary(std::string message) = 0;
    // Sends a close frame with `code` (1000 normal, 1008 policy violation, 1011 internal error...) and a reason.
    virtual void close(int code, std::string reason) = 0;
    virtual const std::string& remote_address() const = 0;

    // The connection's strand doubles as the session's execution context, so session code needs no locks.
    virtual void post(std::function<void()> fn) = 0;                  // run on the strand
    virtual void post_after(int ms, std::function<void()> fn) = 0;    // run on the strand after `ms`
    // Milliseconds of a monotonic clock, the one post_after counts in (so pacing can use absolute deadlines).
    virtual std::int64_t monotonic_ms() const = 0;
    // Runs `work` on the worker pool (blocking CPU work: synthesis, recognition), then `then` on the strand.
    virtual void run_blocking(std::function<void()> work, std::function<void()> then) = 0;
    // A re-armable timer running `fn` on the strand (a pacer's: one timer, no allocation per arm), cancelled with
    // the connection's other timers when it ends; nullptr where the connection has none (then post_after serves).
    // The Timer is used on the strand only and must not outlive the connection's handler.
    virtual std::unique_ptr<Timer> make_timer(std::function<void()> fn) { (void)fn; return nullptr; }
};

class WsHandler {
public:
    virtual ~WsHandler() = default;
    virtual void on_open(std::shared_ptr<WsConnection> connection) = 0;
    virtual void on_text(std::string_view message) = 0;
    virtual void on_binary(std::string_view message) = 0;
    // The connection is gone (closed by either side, or failed); no further calls follow.
    virtual void on_close() = 0;
};

using WsAccept = std::function<Result<std::unique_ptr<WsHandler>>(Request& request)>;

}  // namespace va::http
