#!/usr/bin/env bash
# Makes a Chromium available for the browser tests (tests/browser), idempotently, and prints
# its path. It never downloads a browser build of its own: when no Chromium is installed and
# we are root with apt-get, it installs the distribution's `chromium` package. Playwright
# then drives it through `executable_path` (never `playwright install`).
set -euo pipefail

find_chromium() {
  local name
  for name in chromium chromium-browser; do
    if command -v "$name" >/dev/null 2>&1; then
      command -v "$name"
      return 0
    fi
  done
  if [ -x /usr/bin/chromium ]; then
    echo /usr/bin/chromium
    return 0
  fi
  return 1
}

if ! path=$(find_chromium); then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "install-browser: installing chromium with apt-get" >&2
    log=$(mktemp)
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } \
      >"$log" 2>&1; then
      cat "$log" >&2
      rm -f "$log"
      echo "install-browser: apt-get could not install chromium" >&2
      exit 1
    fi
    rm -f "$log"
  fi
  if ! path=$(find_chromium); then
    echo "install-browser: no chromium found; install your distribution's chromium package" >&2
    exit 1
  fi
fi
echo "$path"
