#!/usr/bin/env bash
# Telephony benchmark: N concurrent Twilio-protocol calls (default 500) against a release voiceagentd with a fresh
# data directory; the carrier fake is the load generator, in its own process. Zero-cost providers (scripted STT,
# scripted LLM, tone TTS) so only the daemon is measured. Loopback only; stops the daemon.
set -euo pipefail
cd "$(dirname "$0")/../.."
CALLS=${CALLS:-500}
ulimit -n 65536 2>/dev/null || true
source bench/daemon.sh
VOICEAGENT_SERVER_WORKER_THREADS=2 VOICEAGENT_RECORDINGS_ENABLED=${RECORDINGS:-true} bench_start_daemon va_bench_telephony
build/release/bench/va_bench_telephony "$base" "$key" "$pid" "$CALLS"
