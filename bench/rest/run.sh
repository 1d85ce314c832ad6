#!/usr/bin/env bash
# REST benchmark: wrk against GET /api/v1/agents/{id} and GET /api/v1/calls?limit=50 on a release voiceagentd with
# a fresh data directory (keep-alive, 64 connections, 10 s each by default). Prints requests/s and p99 per route.
# Loopback only; stops the daemon it started.
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}

source bench/daemon.sh
bench_start_daemon va_bench_seed
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
