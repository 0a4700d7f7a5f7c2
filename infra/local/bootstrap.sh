#!/usr/bin/env bash
# Installs what the control tower needs on this machine, and nothing twice.
#
#   infra/local/bootstrap.sh            what `npm start` needs
#   infra/local/bootstrap.sh --test     plus what `npm test` needs (chDB, fastavro, schemathesis, the load kit)
#
# System packages come from Debian (apt-get, as root); Kafka's jars and its JMX exporter agent from Maven
# Central (mvn); Node packages from the npm registry (npm ci); chDB, fastavro and
# schemathesis from PyPI.
# Each step is skipped when its result is already there and up to date.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
LOCAL="$ROOT/.local"
WITH_TEST=0
[ "${1:-}" = "--test" ] && WITH_TEST=1

# Versions of record. Kafka's own version lives in infra/kafka/pom.xml.
CHDB_VERSION="4.4.0"
FASTAVRO_VERSION="1.12.2" # keep in step with shared/src/testing/strict-avro.ts
SCHEMATHESIS_VERSION="4.32.5" # test/support/schemathesis.ts reads this line

say() { printf '[bootstrap] %s\n' "$*" >&2; }
fail() { printf '[bootstrap] error: %s\n' "$*" >&2; exit 1; }

sha() { sha256sum "$@" | sha256sum | cut -c1-16; }

# --- 1. System packages (Debian) -------------------------------------------
missing_pkgs=()
missing_what=()
want() { # want COMMAND DEBIAN_PACKAGE WHAT
  if ! command -v "$1" >/dev/null 2>&1; then
    missing_pkgs+=("$2")
    missing_what+=("$3 ('$1', Debian package $2)")
  fi
}
want node nodejs "Node.js 20"
want java openjdk-17-jre-headless "Java 17+ for Apache Kafka"
want mvn maven "Maven, to fetch Kafka's jars from Maven Central"
want redis-server redis-server "Redis 7"
want clickhouse-server clickhouse-server "ClickHouse server"
want prometheus-redis-exporter prometheus-redis-exporter "Prometheus Redis exporter (Redis's metrics)"
want prometheus-node-exporter prometheus-node-exporter "Prometheus node exporter (the host's metrics)"
want prometheus prometheus "Prometheus 2.42, which scrapes every service (ships promtool, for the rule checks)"
if [ "$WITH_TEST" = 1 ]; then
  want python3 python3 "Python 3, for the chDB migration check"
  want chromium chromium "Chromium, for the wall display's browser tests"
  want stress-ng stress-ng "stress-ng, to load the cores in npm run test:contention"
fi

if [ "${#missing_pkgs[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing with apt-get: ${missing_pkgs[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >"${TMPDIR:-/tmp}/tower-apt-update.log" 2>&1 \
      || fail "apt-get update failed; see ${TMPDIR:-/tmp}/tower-apt-update.log"
    apt-get install -y -qq --no-install-recommends "${missing_pkgs[@]}" >"${TMPDIR:-/tmp}/tower-apt-install.log" 2>&1 \
      || fail "apt-get install ${missing_pkgs[*]} failed; see ${TMPDIR:-/tmp}/tower-apt-install.log"
    # Debian's packages may start system-wide servers and exporters on our default ports; we run our own.
    for svc in redis-server clickhouse-server prometheus prometheus-node-exporter prometheus-redis-exporter; do
      if command -v service >/dev/null 2>&1; then service "$svc" stop >/dev/null 2>&1 || true; fi
    done
  else
    say "these are missing and I cannot install them (need root and apt-get):"
    for w in "${missing_what[@]}"; do say "  - $w"; done
    fail "install them (e.g. sudo apt-get install ${missing_pkgs[*]}) and run again"
  fi
fi

node_major="$(node -p 'process.versions.node.split(".")[0]')"
[ "$node_major" -ge 20 ] || fail "Node.js $node_major found; the control tower needs Node.js 20 or newer"

# --- 2. Node packages (npm ci when the lockfile changed) -------------------
lock_stamp="$ROOT/node_modules/.tower-lock.sha"
want_lock="$(sha "$ROOT/package-lock.json")"
if [ ! -f "$lock_stamp" ] || [ "$(cat "$lock_stamp")" != "$want_lock" ]; then
  say "installing Node packages (npm ci)"
  (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error) || fail "npm ci failed"
  echo "$want_lock" >"$lock_stamp"
fi

# The SREs' load generator (Artillery, pinned in loadtests/kit, ~460 MB): npm test runs
# the smoke load test with it. Its Playwright dependency downloads no browser.
if [ "$WITH_TEST" = 1 ]; then
  kit_stamp="$ROOT/loadtests/kit/node_modules/.tower-lock.sha"
  want_kit="$(sha "$ROOT/loadtests/kit/package-lock.json")"
  if [ ! -f "$kit_stamp" ] || [ "$(cat "$kit_stamp")" != "$want_kit" ]; then
    say "installing the load generator (npm ci in loadtests/kit)"
    (cd "$ROOT/loadtests/kit" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 ARTILLERY_DISABLE_TELEMETRY=true \
      npm ci --no-audit --no-fund --loglevel=error) || fail "npm ci in loadtests/kit failed"
    echo "$want_kit" >"$kit_stamp"
  fi
fi

# --- 3. Apache Kafka jars and the brokers' JMX exporter agent (Maven Central) ---
# The agent goes to its own directory: it is loaded with -javaagent, never put on Kafka's classpath.
maven_copy() { # maven_copy POM DIR WHAT [MVN_OPTION...]: the POM's dependencies into .local/kafka/DIR when the POM changed
  local pom="$ROOT/$1" dir="$LOCAL/kafka/$2" what="$3"
  shift 3
  local want
  want="$(sha "$pom")"
  if [ ! -f "$dir.sha" ] || [ "$(cat "$dir.sha")" != "$want" ]; then
    say "fetching $what from Maven Central (mvn dependency:copy-dependencies)"
    rm -rf "$dir" && mkdir -p "$dir"
    mvn -q -B -f "$pom" dependency:copy-dependencies -DoutputDirectory="$dir" -DincludeScope=runtime "$@" >"$dir.mvn.log" 2>&1 \
      || fail "mvn could not fetch $what; see $dir.mvn.log"
    echo "$want" >"$dir.sha"
  fi
}
maven_copy infra/kafka/pom.xml lib "Apache Kafka jars"
maven_copy infra/kafka/jmx-agent.pom.xml agent "the Prometheus JMX exporter agent for the brokers" -Dmdep.stripVersion=true

# --- 4. Python packages for the tests (PyPI) ------------------------------
pip_want() { # pip_want MODULE VERSION WHY
  if ! python3 -c "import $1, sys; sys.exit(0 if $1.__version__ == '$2' else 1)" >/dev/null 2>&1; then
    say "installing $1 $2 from PyPI ($3)"
    python3 -m pip install --quiet --disable-pip-version-check "$1==$2" \
      >"${TMPDIR:-/tmp}/tower-pip.log" 2>&1 \
      || fail "pip install $1==$2 failed; see ${TMPDIR:-/tmp}/tower-pip.log"
  fi
}
if [ "$WITH_TEST" = 1 ]; then
  pip_want chdb "$CHDB_VERSION" "the current ClickHouse engine in-process: checks migrations against current ClickHouse"
  # An Avro reader independent of avsc, strict about UTF-8.
  pip_want fastavro "$FASTAVRO_VERSION" "reads what ingest writes, as a strict consumer would"
  pip_want schemathesis "$SCHEMATHESIS_VERSION" "fuzzes the OpenAPI documents of ingest, history and slots"
fi

# --- 5. The pages Vite builds (no CDN): the wall display (served by the live gateway at /),
# the dispatchers' booking page (served by the slots API at /); rebuilt when their sources change.
build_page() { # build_page DIST WHAT NPM_SCRIPT SOURCE...
  local dist="$ROOT/$1" what="$2" script="$3" want
  shift 3
  want="$(cd "$ROOT" && find "$@" shared/web -type f ! -name '*.test.ts' -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)"
  if [ ! -f "$dist/.sources.sha" ] || [ "$(cat "$dist/.sources.sha")" != "$want" ]; then
    say "building $what (vite build)"
    (cd "$ROOT" && npm run --silent "$script") || fail "$what did not build"
    echo "$want" >"$dist/.sources.sha"
  fi
}
build_page services/live/dist/wall "the wall display" build:wall services/live/wall services/live/src/domain services/live/package.json
build_page services/slots/dist/page "the booking page" build:page services/slots/page services/slots/package.json services/live/wall/src/live-client.ts
