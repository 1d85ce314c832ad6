#!/usr/bin/env bash
# Telephony benchmark: N concurrent Twilio-protocol calls (default 500) against a release voiceagentd with a fresh
# data directory; the carrier fake is the load generator, in its own process. Zero-cost providers (scripted STT,
# scripted LLM, tone TTS) so only the daemon is measured. BURST=500: once the N calls are up and pacing, 500 more
# callers connect in the same instant. Loopback only; stops the daemon, and the whole run after 5 minutes.
set -euo pipefail
cd "$(dirname "$0")/../.."
CALLS=${CALLS:-500}
BURST=${BURST:-0}
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
source bench/daemon.sh
# Every caller comes from 127.0.0.1: the per-address cap (512 by default) would refuse the calls beyond it.
VOICEAGENT_SERVER_WORKER_THREADS=2 VOICEAGENT_SERVER_MAX_CONNECTIONS_PER_IP=0 \
  VOICEAGENT_RECORDINGS_ENABLED=${RECORDINGS:-true} bench_start_daemon va_bench_telephony
timeout 300 ${LOAD_CPUS:+taskset -c "$LOAD_CPUS"} build/release/bench/va_bench_telephony "$base" "$key" "$pid" "$CALLS" "$BURST"
