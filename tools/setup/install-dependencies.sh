#!/usr/bin/env bash
# Installs the locked dependencies (npm ci) when node_modules is missing or older than package-lock.json.
# Retries, because a registry hiccup should not fail a fresh setup.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
stamp=node_modules/.package-lock.json
if [[ -f "$stamp" && "$stamp" -nt package-lock.json ]]; then
  exit 0
fi
echo "setup: installing dependencies with npm ci (node $(node --version))"
for attempt in 1 2 3; do
  if npm ci --no-audit --no-fund --loglevel=error; then
    exit 0
  fi
  echo "setup: npm ci failed (attempt $attempt/3)" >&2
  sleep $((attempt * 3))
done
exit 1
