#!/usr/bin/env bash
# REST benchmark: wrk against GET /api/v1/agents/{id} and GET /api/v1/calls?limit=50 on a release voiceagentd with
# a fresh data directory (keep-alive, 64 connections, 10 s each by default). Prints requests/s and p99 per route.
# Loopback only; stops the daemon it started.
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}

scripts/deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target voiceagentd va_bench_seed >/dev/null
data=$(mktemp -d /tmp/va-bench-rest.XXXXXX)
cleanup() { [[ -n "${pid:-}" ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$data"; }
trap cleanup EXIT

VOICEAGENT_LOG_ACCESS_LOG=false VOICEAGENT_LOG_LEVEL=warn \
  build/release/daemon/voiceagentd --listen 127.0.0.1:0 --data-dir "$data" &
pid=$!
for _ in $(seq 100); do [[ -s "$data/voiceagentd.addr" ]] && break; sleep 0.1; done
addr=$(cat "$data/voiceagentd.addr")
key=$(cat "$data/admin.key")
base="http://$addr"
auth="Authorization: Bearer $key"

agent=$(curl -sf -X POST "$base/api/v1/agents" -H "$auth" -H 'Content-Type: application/json' \
        --data @examples/agents/receptionist.json)
agent_id=$(echo "$agent" | sed -E 's/.*"id":"(agt_[^"]+)".*/\1/')
workspace_id=$(echo "$agent" | sed -E 's/.*"workspace_id":"([^"]+)".*/\1/')
build/release/bench/va_bench_seed "$data/voiceagent.db" "$workspace_id" "$agent_id" 200 >/dev/null

run() {
  local name=$1 url=$2 out
  out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -H "$auth" "$url")
  local rps p99 non2xx
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
  non2xx=$(echo "$out" | awk '/Non-2xx/ {print $NF}')
  printf '%-32s %12s req/s   p99 %8s   non-2xx %s\n' "$name" "$rps" "$p99" "${non2xx:-0}"
}
echo "voiceagentd REST benchmark: $CONNECTIONS connections, $THREADS wrk threads, $DURATION per route, $(nproc) cores"
run "GET /api/v1/agents/{id}" "$base/api/v1/agents/$agent_id"
run "GET /api/v1/calls?limit=50" "$base/api/v1/calls?limit=50"
