// The process's descriptor limit as the listener needs it: Debian's default soft limit (1024) is far below what
// server.max_connections allows, so the daemon raises the soft limit to the hard one at start and warns when the
// connection cap still does not fit. Call once at start-up, before other threads open descriptors.
// Thread-safety: not for concurrent use (it reads and sets a process-wide limit).
#pragma once

#include <cstddef>

namespace va::http {

// Raises RLIMIT_NOFILE's soft limit to its hard limit; warns when `max_connections` (0: no cap) leaves fewer than
// 64 descriptors for the store, logs and outbound connections.
void raise_descriptor_limit(std::size_t max_connections);

}  // namespace va::http
