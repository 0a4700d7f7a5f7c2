#!/usr/bin/env bash
# Time from `npm start` to "ready" on a fresh clone of this repository, then again
# warm (second start, same clone). Prints both figures and the command that made them.
#
#   loadtests/bench/time-to-ready.sh      fresh clone into a temp dir (Node packages and
#                                         Kafka jars are fetched again; apt packages and
#                                         the Maven cache are whatever the machine has)
#
# It uses the dev profile's ports, so stop any running demo first (npm stop).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CLONE="$(mktemp -d)/tower"
git clone -q "$ROOT" "$CLONE"

time_to_ready() { # prints seconds from `npm start` to its "Press Ctrl-C" line, then stops it
  local log="$CLONE/.time-to-ready.log" start end
  start=$(date +%s.%N)
  (cd "$CLONE" && setsid npm start >"$log" 2>&1 &)
  for _ in $(seq 1 600); do
    if grep -q "Press Ctrl-C" "$log"; then break; fi
    if grep -q "npm start failed" "$log"; then cat "$log" >&2; exit 1; fi
    sleep 0.2
  done
  end=$(date +%s.%N)
  local pgid
  pgid=$(ps -eo pgid,cmd | grep "[i]nfra/local/start.ts" | grep -v grep | awk '{print $1}' | head -1)
  kill -INT -- "-$pgid"
  for _ in $(seq 1 150); do grep -q "ClickHouse     stopped" "$log" && break; sleep 0.2; done
  echo "$end - $start" | bc
}

cold=$(time_to_ready)
warm=$(time_to_ready)
echo "command: loadtests/bench/time-to-ready.sh"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem/{print $2}') GiB, $(lscpu | sed -n 's/^Model name: *//p')"
printf 'fresh clone to ready: %.1f s\n' "$cold"
printf 'warm restart to ready: %.1f s\n' "$warm"
rm -rf "$(dirname "$CLONE")"
