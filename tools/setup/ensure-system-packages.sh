#!/usr/bin/env bash
# The machine's packages the lab runs its own instances from (Postgres, Redis, Java and Maven for Kafka's jars,
# Prometheus and promtool), checked the way the lab finds them. Missing ones are installed from Debian's packages
# when this runs as root with apt-get; otherwise it stops at once, naming the one command to run. With --tests it
# also wants what only the tests use: Chromium, the headless browser the API docs page is loaded in.
set -euo pipefail

missing=()
have() { command -v "$1" >/dev/null 2>&1; }
if [[ "${1:-}" == --tests ]]; then
  have chromium || have chromium-browser || missing+=(chromium)
fi
have prometheus && have promtool || missing+=(prometheus)
have java || missing+=(openjdk-17-jre-headless)
have mvn || missing+=(maven)
have redis-server || missing+=(redis-server)
# As apps/lab/src/infra/postgres.ts looks: LAB_PG_BIN_DIR, pg_config, /usr/lib/postgresql/<n>/bin, then the PATH.
postgres_found() {
  [[ -n "${LAB_PG_BIN_DIR:-}" && -x "$LAB_PG_BIN_DIR/initdb" ]] && return 0
  have pg_config && [[ -x "$(pg_config --bindir)/initdb" ]] && return 0
  compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null && return 0
  have initdb
}
postgres_found || missing+=(postgresql)

((${#missing[@]} == 0)) && exit 0

if [[ "$(id -u)" != 0 ]] || ! have apt-get; then
  echo "setup: missing ${missing[*]}; install them, then run this again:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "setup: installing ${missing[*]} from Debian's packages"
for attempt in 1 2 3; do
  if apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null; then
    exit 0
  fi
  if ((attempt == 3)); then
    echo "setup: apt-get install ${missing[*]} failed three times" >&2
    exit 1
  fi
  sleep $((attempt * 5))
done
