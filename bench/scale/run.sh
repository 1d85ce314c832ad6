#!/usr/bin/env bash
# Scale-out benchmark: the same campaign (CONTACTS, default 2000, limit CONCURRENCY, default 50) against the Twilio
# fake answering every call at once, run by one daemon and then by two daemons sharing one Redis (events, the job
# queue in Redis streams, campaign slots) and one SQLite file. An event subscriber on the first daemon counts the
# call events it receives (with two daemons, half of them come through Redis from the other).
# Prints, for one and for two daemons, calls/s, events/s seen by the subscriber, and how the calls split between the
# daemons; then the ratios two/one. Both rounds run on this machine: two daemons share its cores, so the ratio says
# what the sharing costs or gains here, not what a second machine would add.
set -euo pipefail
cd "$(dirname "$0")/../.."
contacts=${CONTACTS:-2000}
concurrency=${CONCURRENCY:-50}

scripts/deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target voiceagentd vactl va-fake >/dev/null
vactl=build/release/cli/vactl
work=$(mktemp -d /tmp/va-bench-scale.XXXXXX)
pids=()
cleanup() {
  kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" > "$work/redis.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.05; done

build/release/providers/va-fake twilio --port 0 --outcome completed --ring-ms 0 > "$work/fake.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [[ -s "$work/fake.log" ]] && break; sleep 0.05; done
carrier=$(head -n1 "$work/fake.log" | jq -r .listening)

export VOICEAGENT_TWILIO_ACCOUNT_SID=AC00000000000000000000000000000001
export VOICEAGENT_TWILIO_AUTH_TOKEN=fake-twilio-auth-token
export VOICEAGENT_TWILIO_API_BASE_URL=$carrier
export VOICEAGENT_RECORDINGS_ENABLED=false
export VOICEAGENT_LOG_ACCESS_LOG=false VOICEAGENT_LOG_LEVEL=warn
export VOICEAGENT_REDIS_URL=redis://127.0.0.1:$redis_port/0
export VOICEAGENT_JOBS_BACKEND=redis
export VOICEAGENT_AUTH_JWT_SECRET=a-secret-shared-by-every-daemon-0123456789

csv=$work/contacts.csv
{ echo "phone,first_name"; for i in $(seq 1 "$contacts"); do printf '+1415%07d,Person%d\n' "$i" "$i"; done; } > "$csv"

# start_daemon NAME DB: a daemon with its own data directory and the round's shared database; sets daemon_pid.
start_daemon() {
  mkdir -p "$work/$1"
  VOICEAGENT_SERVER_INSTANCE_ID=$1 VOICEAGENT_STORAGE_SQLITE_PATH=$2 \
    build/release/daemon/voiceagentd --listen 127.0.0.1:0 --data-dir "$work/$1" > "$work/$1.log" 2>&1 &
  daemon_pid=$!
  pids+=("$daemon_pid")
  for _ in $(seq 200); do [[ -s "$work/$1/voiceagentd.addr" ]] && break; sleep 0.05; done
}

# round N: prints "calls_per_s events_per_s split" for a campaign run by N daemons.
round() {
  local n=$1 db="$work/round$1.db" round_pids=()
  redis-cli -p "$redis_port" flushall >/dev/null
  start_daemon "r$n-a" "$db"
  round_pids+=("$daemon_pid")
  local base_a key
  base_a="http://$(cat "$work/r$n-a/voiceagentd.addr")"
  key=$(cat "$work/r$n-a/admin.key")
  if ((n == 2)); then
    start_daemon "r$n-b" "$db"
    round_pids+=("$daemon_pid")
  fi
  export VACTL_SERVER=$base_a VACTL_TOKEN=$key
  $vactl agents apply -f examples/campaigns/reminder-agent.json -o json >/dev/null
  $vactl numbers add +15550001111 --provider twilio -o json >/dev/null
  local id
  id=$($vactl campaigns create bench --agent campaign-reminder --from +15550001111 --concurrency "$concurrency" \
         --max-attempts 1 -o json | jq -r .id)
  $vactl campaigns import "$id" "$csv" -o json >/dev/null
  $vactl calls watch -o json > "$work/events$n.jsonl" &
  local watcher=$!
  sleep 0.5
  local start end
  start=$(date +%s.%N)
  $vactl campaigns start "$id" -o json >/dev/null
  while [[ $($vactl campaigns show "$id" -o json | jq -r .status) != completed ]]; do sleep 0.2; done
  end=$(date +%s.%N)
  # The last calls' events are on their way through Redis: give them a moment, then count.
  sleep 1
  kill "$watcher" 2>/dev/null || true
  wait "$watcher" 2>/dev/null || true
  local done_calls events split
  done_calls=$($vactl campaigns show "$id" -o json | jq '.progress.counts.done')
  events=$(grep -c '"call_id"' "$work/events$n.jsonl" || true)
  split=$(sqlite3 "$db" "SELECT group_concat(instance_id || '=' || n, ' ') FROM (SELECT instance_id, COUNT(*) AS n FROM calls GROUP BY instance_id)")
  kill "${round_pids[@]}" 2>/dev/null || true
  wait "${round_pids[@]}" 2>/dev/null || true
  awk -v c="$done_calls" -v ev="$events" -v s="$start" -v e="$end" -v sp="$split" \
      'BEGIN { printf "%.1f %.1f %d %d %.2f %s\n", c / (e - s), ev / (e - s), c, ev, e - s, sp }'
}

one=$(round 1)
two=$(round 2)
read -r calls1 events1 n1 ev1 wall1 split1 <<< "$one"
read -r calls2 events2 n2 ev2 wall2 split2 <<< "$two"
echo "campaign: $contacts contacts, limit $concurrency, Twilio fake answering at once; Redis queue, events and slots"
printf "one daemon:  %5d calls in %6.2f s = %7.1f calls/s; subscriber saw %6d events = %8.1f events/s (%s)\n" \
       "$n1" "$wall1" "$calls1" "$ev1" "$events1" "$split1"
printf "two daemons: %5d calls in %6.2f s = %7.1f calls/s; subscriber saw %6d events = %8.1f events/s (%s)\n" \
       "$n2" "$wall2" "$calls2" "$ev2" "$events2" "$split2"
awk -v c1="$calls1" -v c2="$calls2" -v e1="$events1" -v e2="$events2" -v cores="$(nproc)" 'BEGIN {
  printf "ratio two/one: calls/s %.2f, events/s %.2f (on %d cores shared by both daemons, Redis and the fake)\n",
         c2 / c1, e2 / e1, cores
}'
