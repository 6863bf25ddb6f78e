#!/usr/bin/env bash
# Installs the project's JavaScript tooling (package.json: Spectral for make lint, axe-core and
# Lighthouse for the reader page, and the TypeScript client's workspace) from package-lock.json,
# idempotently: `npm ci` runs only when the lock changed since the last install. Node.js 20.17+
# and npm come from the machine, or from Debian's packages when we are root with apt-get.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "install-node-tools: installing nodejs and npm with apt-get" >&2
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm; } \
      >/dev/null
  else
    echo "install-node-tools: no node/npm; install Node.js 20.17 or newer" >&2
    exit 1
  fi
fi
if ! node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 17) ? 0 : 1)'; then
  echo "install-node-tools: Node.js $(node --version) is too old: Spectral needs 20.17 or newer" >&2
  exit 1
fi
stamp=node_modules/.package-lock.json
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
  npm ci --no-audit --no-fund --loglevel=error >&2
fi
