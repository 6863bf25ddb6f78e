#!/usr/bin/env bash
# Makes an nginx binary available for the local CDN (devtools/cdn.py, tests/cdn), idempotently,
# and prints its path. We only need the binary: devtools/cdn.py runs its own nginx process with
# its own config on 127.0.0.1. Debian's package would also start a system service on port 80
# (and its configure step fails when port 80 is taken), so the install runs with a
# policy-rc.d that refuses service starts (invoke-rc.d(8), "POLICY-RC.D"), and the service is
# then stopped and disabled in case it was started anyway.
set -euo pipefail

find_nginx() {
  if command -v nginx >/dev/null 2>&1; then
    command -v nginx
  elif [ -x /usr/sbin/nginx ]; then
    echo /usr/sbin/nginx
  else
    return 1
  fi
}

if path=$(find_nginx); then
  echo "$path"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-nginx: no nginx and no apt-get: install your distribution's nginx package" >&2
  exit 1
fi
if [ "$(id -u)" != 0 ]; then
  echo "install-nginx: no nginx found; as root run: sudo $0 (or: sudo apt-get install -y --no-install-recommends nginx)" >&2
  exit 1
fi

policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\n# scripts/install-nginx.sh: no service starts during this install\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  trap 'rm -f "$policy"' EXIT
fi

echo "install-nginx: installing nginx with apt-get (its system service stays off)" >&2
log=$(mktemp)
if ! { apt-get update -qq &&
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx; } \
  >"$log" 2>&1; then
  cat "$log" >&2
  rm -f "$log"
  echo "install-nginx: apt-get could not install nginx" >&2
  exit 1
fi
rm -f "$log"

# Whatever the init system, the packaged service must not run or start at boot: we never use
# it (and it would listen on 0.0.0.0:80).
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
  systemctl disable --now nginx >/dev/null 2>&1 || true
else
  command -v update-rc.d >/dev/null 2>&1 && update-rc.d nginx disable >/dev/null 2>&1 || true
  [ -x /etc/init.d/nginx ] && /etc/init.d/nginx stop >/dev/null 2>&1 || true
fi

if ! path=$(find_nginx); then
  echo "install-nginx: nginx was installed but no binary was found" >&2
  exit 1
fi
echo "$path"
