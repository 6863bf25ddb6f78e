#!/usr/bin/env bash
# Installs what the project needs, idempotently: uv (in its own venv under .tools/), then the
# app's Python 3.13 environment (.venv) exactly as uv.lock pins it.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! py=$(scripts/find-python.sh 2>/dev/null); then
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    echo "bootstrap: installing python3.13 with apt" >&2
    apt-get update -qq && apt-get install -y -qq python3.13 python3.13-venv >/dev/null
  fi
  py=$(scripts/find-python.sh)
fi

if [ ! -x .tools/uv/bin/uv ]; then
  echo "bootstrap: installing uv into .tools/uv" >&2
  "$py" -m venv .tools/uv
  .tools/uv/bin/pip install -q --disable-pip-version-check "uv>=0.5"
fi

stamp=.venv/.synced
if [ ! -f "$stamp" ] || [ uv.lock -nt "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  UV_PYTHON="$py" .tools/uv/bin/uv sync --frozen --quiet
  touch "$stamp"
fi
