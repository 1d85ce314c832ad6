#!/usr/bin/env bash
# Pipeline benchmark: N concurrent local voice calls (default 200) with zero-cost providers against a release
# voiceagentd with a fresh data directory, the load generator in its own process. Loopback only; stops the daemon.
set -euo pipefail
cd "$(dirname "$0")/../.."
CALLS=${CALLS:-200}
scripts/deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target voiceagentd va_bench_pipeline >/dev/null
data=$(mktemp -d /tmp/va-bench-pipeline.XXXXXX)
cleanup() { [[ -n "${pid:-}" ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$data"; }
trap cleanup EXIT
ulimit -n 65536 2>/dev/null || true
VOICEAGENT_LOG_ACCESS_LOG=false VOICEAGENT_LOG_LEVEL=warn VOICEAGENT_SERVER_WORKER_THREADS=2 \
  build/release/daemon/voiceagentd --listen 127.0.0.1:0 --data-dir "$data" &
pid=$!
for _ in $(seq 100); do [[ -s "$data/voiceagentd.addr" ]] && break; sleep 0.1; done
build/release/bench/va_bench_pipeline "http://$(cat "$data/voiceagentd.addr")" "$(cat "$data/admin.key")" "$pid" "$CALLS"
