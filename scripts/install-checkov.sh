#!/usr/bin/env bash
# checkov (the IaC scanner `make lint` runs over template.yaml) in its own environment,
# .tools/checkov, idempotently: its pins (boto3, pydantic, ...) must never meet the app's .venv.
# Prints the path of the checkov executable.
set -euo pipefail
cd "$(dirname "$0")/.."
CHECKOV_VERSION=3.3.30
venv=.tools/checkov

# The installed version from its metadata (`checkov --version` imports all of checkov: ~7 s).
installed=$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("checkov"))' 2>/dev/null || true)
if [ "$installed" != "$CHECKOV_VERSION" ]; then
  echo "install-checkov: installing checkov $CHECKOV_VERSION into $venv" >&2
  [ -x .tools/uv/bin/uv ] || scripts/bootstrap.sh
  rm -rf "$venv"
  .tools/uv/bin/uv venv --quiet --python "$(scripts/find-python.sh)" "$venv"
  .tools/uv/bin/uv pip install --quiet --python "$venv/bin/python" "checkov==$CHECKOV_VERSION"
fi
echo "$venv/bin/checkov"
