// Catch-alls for the top of every thread the daemon starts: an exception that escapes a thread's function ends
// the whole process (std::terminate), so a malformed provider answer or a bug in one call must stop there, be
// logged, and leave the daemon serving everyone else.
// Thread-safety: free functions, safe from any thread; each runs its function on the calling thread.
#pragma once

#include <functional>
#include <string_view>

namespace va {

// Runs `fn`; an exception that escapes it is logged (naming `what`) and swallowed. False when one did.
bool run_guarded(std::string_view what, const std::function<void()>& fn) noexcept;

// Runs `loop` until it returns normally; when an exception escapes it, logs it and runs it again after `pause_ms`
// (so a loop that keeps failing logs a few lines a second, not a flood). For service threads, whose loop checks
// its own stop flag, and for Asio io_context::run(), which may be called again after a handler threw.
void run_loop_guarded(std::string_view what, const std::function<void()>& loop, int pause_ms = 100) noexcept;

}  // namespace va
