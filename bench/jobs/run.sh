#!/usr/bin/env bash
# Job queue benchmark: 10,000 no-op jobs through the SQLite-backed queue (release build), printing enqueue and
# claim-to-completion rates. Target: at least 2,000 jobs/s. JOBS and WORKERS override the defaults.
set -euo pipefail
cd "$(dirname "$0")/../.."
cmake --preset release >/dev/null
cmake --build --preset release --target va_bench_jobs >/dev/null
build/release/bench/va_bench_jobs "${JOBS:-10000}" "${WORKERS:-4}"
