#!/usr/bin/env bash
# The project's SAM CLI with the project's environment, for any sam command:
#   scripts/sam.sh validate --lint
#   scripts/sam.sh local invoke ApiFunction -e events/api-openapi.json -t .aws-sam/build/template.yaml ...
# Picks the sam (the offline tool's launcher, else sam on PATH, else .tools/sam), puts a real
# python3.13 first on PATH for sam build, and sets SAM_CLI_TELEMETRY=0, SAM_SKIP_PULL_IMAGE=1,
# AWS_MAX_ATTEMPTS=1 and dummy credentials (see devtools/samlocal.py). Runs in the repo root.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
exec .venv/bin/python -m devtools.samlocal sam -- "$@"
