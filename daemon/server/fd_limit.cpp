#include "daemon/server/fd_limit.hpp"

#include <sys/resource.h>

#include <spdlog/spdlog.h>

namespace va::http {

void raise_descriptor_limit(std::size_t max_connections) {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
    if (limit.rlim_cur < limit.rlim_max) {
        rlimit raised = limit;
        raised.rlim_cur = limit.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
    }
    constexpr rlim_t reserve = 64;
    if (limit.rlim_cur != RLIM_INFINITY && (max_connections == 0 || max_connections + reserve > limit.rlim_cur))
        spdlog::warn("server.max_connections ({}) does not fit the descriptor limit ({}): beyond it, new connections "
                     "wait until descriptors free up",
                     max_connections, static_cast<unsigned long long>(limit.rlim_cur));
}

}  // namespace va::http
