#!/usr/bin/env bash
# Realtime benchmark: CALLS concurrent Twilio-protocol calls (default 10) against a release voiceagentd whose agent
# runs on Deepgram, OpenAI and ElevenLabs, served by timed fakes inside the load generator (Deepgram's final 150 ms
# after the speech, OpenAI's first token at 250 ms then 50 tokens/s, ElevenLabs' first audio at 200 ms then 4x real
# time). TTS_TRANSPORT=http (default) or websocket (ws for short) picks the daemon's ElevenLabs transport. The load generator
# starts the daemon (its fakes must listen first) and stops it; loopback only; bounded by TIMEOUT_S (default 300).
set -euo pipefail
cd "$(dirname "$0")/../.."
CALLS=${CALLS:-10}
TTS_TRANSPORT=${TTS_TRANSPORT:-http}
[[ "$TTS_TRANSPORT" == ws ]] && TTS_TRANSPORT=websocket
ulimit -n 65536 2>/dev/null || true
scripts/deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target voiceagentd va_bench_realtime >/dev/null
exec timeout -k 10 "${TIMEOUT_S:-300}" build/release/bench/va_bench_realtime build/release/daemon/voiceagentd "$CALLS" \
  "$TTS_TRANSPORT"
