#!/usr/bin/env bash
# Pipeline benchmark: N concurrent local voice calls (default 200) with zero-cost providers against a release
# voiceagentd with a fresh data directory, the load generator in its own process. Loopback only; stops the daemon.
set -euo pipefail
cd "$(dirname "$0")/../.."
CALLS=${CALLS:-200}
ulimit -n 65536 2>/dev/null || true
source bench/daemon.sh
VOICEAGENT_SERVER_WORKER_THREADS=2 bench_start_daemon va_bench_pipeline
build/release/bench/va_bench_pipeline "$base" "$key" "$pid" "$CALLS"
