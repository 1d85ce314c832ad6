#!/usr/bin/env bash
# Installs what the browser tests (tests/browser) need from npm: puppeteer-core, pinned by
# tests/browser/package-lock.json, into a cache directory outside the source tree (nothing is vendored, nothing is
# needed at build time). Run by scripts/test; quiet and quick when the cache already matches the lock file. Never
# downloads a browser: the tests drive Debian's chromium (scripts/deps.sh installs it). Prints the cache directory's
# path on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."

cache="${VA_BROWSER_TEST_DEPS:-${XDG_CACHE_HOME:-$HOME/.cache}/voiceagent/browser-tests}"
lock=tests/browser/package-lock.json

for tool in node npm chromium; do
  command -v "$tool" >/dev/null || { echo "browser tests: $tool is missing (scripts/deps.sh installs it)" >&2; exit 1; }
done

# The stamp is the lock file's hash: npm ci runs again only when the pinned versions changed (or the install was
# interrupted, which leaves no stamp).
want=$(sha256sum "$lock" | cut -d' ' -f1)
have=$(cat "$cache/.lock-sha256" 2>/dev/null || true)
if [[ "$have" != "$want" || ! -d "$cache/node_modules/puppeteer-core" ]]; then
  mkdir -p "$cache"
  rm -f "$cache/.lock-sha256"
  cp tests/browser/package.json "$lock" "$cache/"
  echo "browser tests: installing puppeteer-core into $cache" >&2
  # --ignore-scripts and PUPPETEER_SKIP_DOWNLOAD: no install script may fetch a browser build.
  if ! (cd "$cache" && PUPPETEER_SKIP_DOWNLOAD=1 npm ci --ignore-scripts --no-audit --no-fund --loglevel=error \
          >npm-ci.log 2>&1); then
    cat "$cache/npm-ci.log" >&2
    echo "browser tests: npm ci failed in $cache" >&2
    exit 1
  fi
  echo "$want" >"$cache/.lock-sha256"
fi
echo "$cache"
