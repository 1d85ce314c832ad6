# Sourced by the benchmark scripts: builds the release preset's voiceagentd and the given extra targets, starts
# voiceagentd on 127.0.0.1:0 with a fresh data directory (access log off), waits until it listens, and stops it
# and removes the directory on exit. Sets: pid, data, base (http://127.0.0.1:PORT), key (the owner API key).
# Extra VOICEAGENT_* settings for the daemon come from the caller's environment. DAEMON_CPUS (a taskset list, e.g.
# 0) pins the daemon to those cores, so it does not compete with the load generator (pinned by LOAD_CPUS).
bench_start_daemon() {
  scripts/deps.sh
  cmake --preset release >/dev/null
  cmake --build --preset release --target voiceagentd "$@" >/dev/null
  data=$(mktemp -d /tmp/va-bench.XXXXXX)
  trap 'kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$data"' EXIT
  VOICEAGENT_LOG_ACCESS_LOG=false VOICEAGENT_LOG_LEVEL=warn \
    ${DAEMON_CPUS:+taskset -c "$DAEMON_CPUS"} build/release/daemon/voiceagentd --listen 127.0.0.1:0 --data-dir "$data" &
  pid=$!
  for _ in $(seq 100); do [[ -s "$data/voiceagentd.addr" ]] && break; sleep 0.1; done
  base="http://$(cat "$data/voiceagentd.addr")"
  key=$(cat "$data/admin.key")
}
