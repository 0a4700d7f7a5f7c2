#!/usr/bin/env bash
# The integration tests while stress-ng keeps every core busy: a CI machine is rarely
# quiet, and a test that waits on a fixed wall-clock budget fails there (issue 17,
# drill 7). Waits in tests end on a stall of progress instead (eventuallyProgressing in
# @tower/shared/testing); this run is what holds them to it.
#
#   .ci/contention.sh             the whole integration project
#   .ci/contention.sh FILE...     those integration test files only
#
# TOWER_CONTENTION_WORKERS  CPU hogs (default: one per core, as `stress-ng --cpu 2` on 2 cores)
# TOWER_CONTENTION_SECONDS  stress-ng's own limit (default 3600): it stops then at the latest,
#                           and at the end of the run whatever happens (failure, Ctrl-C).
# The last line says how the tests went and whether the cores were busy throughout.
set -uo pipefail
cd "$(dirname "$0")/.."
command -v stress-ng >/dev/null 2>&1 \
  || { echo "stress-ng is missing: infra/local/bootstrap.sh --test installs it (Debian package stress-ng)" >&2; exit 1; }
workers="${TOWER_CONTENTION_WORKERS:-$(nproc)}"
seconds="${TOWER_CONTENTION_SECONDS:-3600}"

stress-ng --cpu "$workers" --timeout "${seconds}s" --quiet &
stress_pid=$!
trap 'kill "$stress_pid" 2>/dev/null; wait "$stress_pid" 2>/dev/null' EXIT
trap 'exit 130' INT TERM
started=$(date +%s)
echo "[contention] stress-ng --cpu $workers (pid $stress_pid, at most ${seconds} s) beside: vitest run --project integration $*" >&2

rm -f .local/test-results.json
npx vitest run --project integration "$@"
status=$?

# A pass without the load proves nothing: stress-ng gone before the end fails the check.
if kill -0 "$stress_pid" 2>/dev/null; then busy="busy throughout"; else busy="NOT busy throughout (stress-ng ended first: raise TOWER_CONTENTION_SECONDS)"; status=1; fi
echo "under stress-ng --cpu $workers, $(($(date +%s) - started)) s, cores $busy, load $(cut -d' ' -f1-3 /proc/loadavg): $(node .ci/summary.mjs)"
exit $status
