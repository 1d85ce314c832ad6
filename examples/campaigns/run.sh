#!/usr/bin/env bash
# A 200-contact reminder campaign from start to finish, scripted with `vactl -o json`: it creates the campaign, fills
# it from contacts.csv, starts it, watches it with a progress bar until it ends, then shows what came of it (an
# analysed call with its summary and extracted fields, and the events a webhook receiver got).
#
# By default it brings its own world on loopback, so it runs anywhere the project builds: the Twilio fake as the
# carrier (va-fake twilio, answering each callee with "yes i will be there", with per-number outcomes from
# outcomes.json: busy, no-answer and failed lines that the retry policy calls again), a webhook receiver
# (va-fake webhook-receiver, checking every signature), and a voiceagentd of its own in a temporary directory.
#
#   examples/campaigns/run.sh                  # everything on loopback; binaries from build/release (built if missing)
#   VACTL_SERVER=http://127.0.0.1:8700 VACTL_TOKEN=... examples/campaigns/run.sh --existing
#                                              # against your running daemon (its carrier must reach the numbers)
#
# Environment: VACTL, VOICEAGENTD, VA_FAKE (binaries), CONCURRENCY (default 20), CONTACTS (the first N of
# contacts.csv; default all 200), KEEP=1 keeps the temporary directory.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
existing=false
[[ "${1:-}" == "--existing" ]] && existing=true
concurrency=${CONCURRENCY:-20}

bin() {  # bin NAME TARGET PATH: the binary from the environment, else build/release (built when missing)
  local var=$1 target=$2 path=$3
  if [[ -n "${!var:-}" ]]; then echo "${!var}"; return; fi
  if [[ ! -x "$root/build/release/$path" ]]; then
    (cd "$root" && cmake --preset release >/dev/null && cmake --build --preset release --target "$target" >&2)
  fi
  echo "$root/build/release/$path"
}
vactl_bin=$(bin VACTL vactl cli/vactl)

work=$(mktemp -d /tmp/va-campaign-example.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [[ "${KEEP:-}" == "1" ]]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

# The first JSON line a background process prints ({"listening": url, ...}).
first_line() {
  local file=$1
  for _ in $(seq 1 200); do
    [[ -s "$file" ]] && { head -n1 "$file"; return; }
    sleep 0.05
  done
  echo "no output in $file" >&2
  exit 1
}

if ! $existing; then
  daemon_bin=$(bin VOICEAGENTD voiceagentd daemon/voiceagentd)
  fake_bin=$(bin VA_FAKE va-fake providers/va-fake)
  "$fake_bin" twilio --port 0 --outcomes "$here/outcomes.json" --say "yes i will be there" --ring-ms 300 \
    --hang-up-after-ms 800 > "$work/carrier.log" 2>&1 &
  pids+=($!)
  carrier=$(first_line "$work/carrier.log" | jq -r .listening)
  "$fake_bin" webhook-receiver --port 0 --secret-file "$work/secret" > "$work/receiver.log" 2>&1 &
  pids+=($!)
  receiver=$(first_line "$work/receiver.log" | jq -r .listening)

  VOICEAGENT_TWILIO_ACCOUNT_SID=AC00000000000000000000000000000001 \
  VOICEAGENT_TWILIO_AUTH_TOKEN=fake-twilio-auth-token \
  VOICEAGENT_TWILIO_API_BASE_URL=$carrier \
  VOICEAGENT_TOOLS_ALLOWED_NETWORKS=127.0.0.1 \
  VOICEAGENT_RECORDINGS_ENABLED=false \
    "$daemon_bin" --listen 127.0.0.1:0 --data-dir "$work/data" > "$work/daemon.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 400); do [[ -s "$work/data/voiceagentd.addr" ]] && break; sleep 0.05; done
  export VACTL_SERVER="http://$(cat "$work/data/voiceagentd.addr")"
  export VACTL_TOKEN=$(cat "$work/data/admin.key")
  echo "carrier fake $carrier, webhook receiver $receiver, voiceagentd $VACTL_SERVER (logs in $work)"
fi
vactl() { "$vactl_bin" "$@"; }

# The agent, the number calls come from, and a webhook endpoint for every event.
vactl agents apply -f "$here/reminder-agent.json" -o json > /dev/null
vactl numbers add +15550001111 --provider twilio -o json > /dev/null 2>&1 || true  # kept when it exists
if ! $existing; then
  secret=$(vactl webhooks add "$receiver/hook" --event call:started --event call:ended --event call:analysis \
             --event campaign:finished --description "campaign example" -o json | jq -r .secret)
  printf '%s' "$secret" > "$work/secret"
fi

# Create, fill, start.
campaign=$(vactl campaigns create "dental reminders $(date +%H%M%S)" --agent campaign-reminder --from +15550001111 \
             --concurrency "$concurrency" --max-attempts 3 --backoff 2 --retry-on busy,no-answer,failed -o json \
           | jq -r .id)
contacts="$here/contacts.csv"
if [[ -n "${CONTACTS:-}" ]]; then
  head -n $((CONTACTS + 1)) "$here/contacts.csv" > "$work/contacts.csv"
  contacts="$work/contacts.csv"
fi
vactl campaigns import "$campaign" "$contacts" -o json | jq -r '"imported: \(.added) added, \(.rejected) rejected"'
vactl campaigns start "$campaign" -o json > /dev/null
echo "campaign $campaign started"

# Watch until it ends: a live bar on a terminal, one line per change otherwise.
vactl campaigns watch "$campaign"

# What came of it.
vactl campaigns show "$campaign" -o json | jq -r '.progress |
  "finished: \(.status); contacts \(.total): \(.counts | tojson); attempts \(.attempts), answer rate \(.answer_rate * 100 | floor)%"'

# Analysis runs just after each call: wait for the last ones, then show one analysed call.
calls_json() { vactl calls list --campaign "$campaign" --all -o json; }
for _ in $(seq 1 240); do
  [[ $(calls_json | jq '[.items[] | select(.status == "completed" and (.outcome // "") == "")] | length') == 0 ]] && break
  sleep 0.5
done
calls=$(calls_json)
echo "$calls" | jq -r '.items as $c | "calls: \($c | length), answered: \([$c[] | select(.status == "completed")] | length), outcomes: \([$c[] | .outcome // "-"] | group_by(.) | map({(.[0]): length}) | add | tojson)"'
answered=$(echo "$calls" | jq '[.items[] | select(.status == "completed")] | length')
analysed=$(echo "$calls" | jq '[.items[] | select(.status == "completed" and (.summary // "") != "" and (.analysis.fields // {} | length) > 0)] | length')
echo "answered calls with a summary and extracted fields: $analysed of $answered"
echo "$calls" | jq -r '[.items[] | select(.status == "completed" and (.summary // "") != "")][0] |
  "  e.g. \(.id) to \(.to): \(.summary | tojson) fields=\(.analysis.fields | tojson)"'
[[ "$analysed" == "$answered" ]] || { echo "some answered calls have no analysis" >&2; exit 1; }

if ! $existing; then
  # The receiver logs one JSON line per delivery: every call's events and campaign:finished, all signed.
  expected=$(echo "$calls" | jq '.items | length')
  got_all=false
  for _ in $(seq 1 120); do
    counts=$(jq -s -c '[.[] | select(.event != null and .status == 200)] | group_by(.event) | map({(.[0].event): length}) | add // {}' "$work/receiver.log")
    if [[ $(echo "$counts" | jq --argjson n "$expected" '(."call:ended" // 0) >= $n and (."call:analysis" // 0) >= $n and (."campaign:finished" // 0) >= 1') == true ]]; then
      got_all=true
      break
    fi
    sleep 0.5
  done
  $got_all || { echo "the webhook receiver did not get every event: $counts" >&2; exit 1; }
  bad=$(jq -s '[.[] | select(.event != null and .signature != "valid")] | length' "$work/receiver.log")
  echo "webhook receiver: $counts; deliveries with a bad signature: $bad"
  [[ "$bad" == 0 ]] || exit 1
fi
echo "done"
