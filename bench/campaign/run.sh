#!/usr/bin/env bash
# Campaign benchmark: 10,000 contacts through a release voiceagentd against the Twilio fake answering every call
# instantly (outcome "completed": ringing, answered and hung up, no media), so what is measured is the campaign
# machinery: the dispatcher's claims, a campaign.dial job per attempt, the carrier REST request, the status
# callbacks, the contact's settlement, and the post-call analysis job each call brings.
# Prints calls/s, the daemon's CPU per call (dispatch overhead), jobs/s through the SQLite queue, and the most
# calls the fake saw at once against the campaign's limit (held exactly: reached, never passed).
# CONTACTS and CONCURRENCY override the defaults (10000, 50).
set -euo pipefail
cd "$(dirname "$0")/../.."
contacts=${CONTACTS:-10000}
concurrency=${CONCURRENCY:-50}

cmake --preset release >/dev/null
cmake --build --preset release --target va-fake vactl >/dev/null
fake_log=$(mktemp /tmp/va-bench-fake.XXXXXX)
build/release/providers/va-fake twilio --port 0 --outcome completed --ring-ms 0 > "$fake_log" 2>&1 &
fake_pid=$!
for _ in $(seq 100); do [[ -s "$fake_log" ]] && break; sleep 0.05; done
carrier=$(head -n1 "$fake_log" | jq -r .listening)

export VOICEAGENT_TWILIO_ACCOUNT_SID=AC00000000000000000000000000000001
export VOICEAGENT_TWILIO_AUTH_TOKEN=fake-twilio-auth-token
export VOICEAGENT_TWILIO_API_BASE_URL=$carrier
export VOICEAGENT_RECORDINGS_ENABLED=false
source bench/daemon.sh
bench_start_daemon vactl va-fake
trap 'kill "$pid" "$fake_pid" 2>/dev/null; wait "$pid" "$fake_pid" 2>/dev/null; rm -rf "$data" "$fake_log" "$csv"' EXIT
export VACTL_SERVER=$base VACTL_TOKEN=$key
vactl=build/release/cli/vactl

$vactl agents apply -f examples/campaigns/reminder-agent.json -o json >/dev/null
$vactl numbers add +15550001111 --provider twilio -o json >/dev/null
csv=$(mktemp /tmp/va-bench-contacts.XXXXXX.csv)
{ echo "phone,first_name"; for i in $(seq 1 "$contacts"); do printf '+1415%07d,Person%d\n' "$i" "$i"; done; } > "$csv"
id=$($vactl campaigns create bench --agent campaign-reminder --from +15550001111 --concurrency "$concurrency" \
       --max-attempts 1 -o json | jq -r .id)
import_start=$(date +%s.%N)
$vactl campaigns import "$id" "$csv" -o json >/dev/null
import_end=$(date +%s.%N)

cpu() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
ticks=$(getconf CLK_TCK)
cpu_start=$(cpu)
start=$(date +%s.%N)
$vactl campaigns start "$id" -o json >/dev/null
while [[ $($vactl campaigns show "$id" -o json | jq -r .status) != completed ]]; do sleep 0.2; done
end=$(date +%s.%N)
cpu_end=$(cpu)
# Let the analysis jobs of the last calls finish before counting jobs.
for _ in $(seq 50); do
  left=$(sqlite3 "$data/voiceagent.db" "SELECT COUNT(*) FROM jobs WHERE state IN ('queued', 'running')")
  [[ "$left" == 0 ]] && break
  sleep 0.2
done
jobs_end=$(date +%s.%N)

progress=$($vactl campaigns show "$id" -o json | jq -c .progress)
done_calls=$(echo "$progress" | jq '.counts.done')
dial_jobs=$(sqlite3 "$data/voiceagent.db" "SELECT COUNT(*) FROM jobs WHERE queue = 'campaign.dial' AND state = 'done'")
all_jobs=$(sqlite3 "$data/voiceagent.db" "SELECT COUNT(*) FROM jobs WHERE state = 'done'")
max_active=$(jq -s '[.[] | .max_active // 0] | max' "$fake_log")
awk -v n="$contacts" -v done_calls="$done_calls" -v c="$concurrency" -v s="$start" -v e="$end" -v je="$jobs_end" \
    -v is="$import_start" -v ie="$import_end" -v c0="$cpu_start" -v c1="$cpu_end" -v t="$ticks" \
    -v dj="$dial_jobs" -v aj="$all_jobs" -v m="$max_active" 'BEGIN {
  wall = e - s
  printf "contacts %d, concurrency %d: %d answered in %.1f s\n", n, c, done_calls, wall
  printf "import: %.2f s (%.0f contacts/s)\n", ie - is, n / (ie - is)
  printf "calls: %.0f/s end to end; daemon CPU %.2f ms per call (dispatch, REST, callbacks, settlement, analysis)\n",
         done_calls / wall, (c1 - c0) / t * 1000 / done_calls
  printf "queue: %d campaign.dial jobs, %d jobs in all (with post-call analysis): %.0f jobs/s claimed and completed\n",
         dj, aj, aj / (je - s)
  printf "limit: at most %d calls in flight at the carrier (limit %d)%s\n", m, c, (m <= c ? "" : "  EXCEEDED")
}'
