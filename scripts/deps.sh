#!/usr/bin/env bash
# Installs the Debian packages voiceagent needs, only those missing; quiet when nothing is missing.
# Sourced or run by scripts/run and scripts/test. Needs root (or sudo) only when something is missing.
set -euo pipefail

VA_PACKAGES=(
  cmake ninja-build ccache g++ pkg-config
  libboost-dev libssl-dev libcurl4-openssl-dev nlohmann-json3-dev libcli11-dev libspdlog-dev
  libsqlite3-dev libsodium-dev libhowardhinnant-date-dev tzdata libtomlplusplus-dev libcpp-httplib-dev catch2
  libspeexdsp-dev libsndfile1-dev espeak-ng libespeak-ng-dev portaudio19-dev
  libpocketsphinx-dev libsphinxbase-dev pocketsphinx-en-us
  libhiredis-dev redis-server libmongoc-dev
  libre2-dev
  zlib1g-dev libjs-chart.js
  sqlite3 wrk jq
  chromium nodejs
)

missing=()
for pkg in "${VA_PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
done
# npm for the browser tests' set-up: Debian's nodejs 18 comes without it (the npm package); a nodejs from elsewhere
# that bundles npm conflicts with that package, so it is only asked for when no npm is there.
command -v npm >/dev/null || missing+=(npm)

if ((${#missing[@]})); then
  echo "Installing missing packages: ${missing[*]}"
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
