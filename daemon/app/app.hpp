// The daemon assembled: data directory, secrets, store, first-start bootstrap, REST routes and the HTTP server,
// with SIGTERM/SIGINT handled by a dedicated signal thread (graceful shutdown). main.cpp only parses flags,
// loads the configuration and calls run_daemon.
// Thread-safety: run_daemon is called once from the main thread.
#pragma once

#include "config/config.hpp"

namespace va {

// Runs until SIGTERM/SIGINT; returns the process exit code. Start-up failures are logged and return non-zero.
int run_daemon(const Config& config);

}  // namespace va
