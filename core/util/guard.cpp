#include "core/util/guard.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <exception>
#include <thread>

namespace va {

bool run_guarded(std::string_view what, const std::function<void()>& fn) noexcept {
    try {
        fn();
        return true;
    } catch (const std::exception& e) {
        try {
            spdlog::error("{}: unexpected exception, kept alive: {}", what, e.what());
        } catch (...) {
        }
    } catch (...) {
        try {
            spdlog::error("{}: unexpected exception, kept alive", what);
        } catch (...) {
        }
    }
    return false;
}

void run_loop_guarded(std::string_view what, const std::function<void()>& loop, int pause_ms) noexcept {
    while (!run_guarded(what, loop))
        if (pause_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms));
}

}  // namespace va
