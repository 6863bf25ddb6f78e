# The README's commands. Every target installs what it needs first (idempotent).
SHELL := bash
.DEFAULT_GOAL := help
UV := .tools/uv/bin/uv
PY := .venv/bin/python
export SAM_CLI_TELEMETRY := 0

.PHONY: help install node browser nginx dev dev-cdn digest emails test test-unit lint format schema openapi layer-requirements validate upload client lighthouse

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-20s %s\n", $$1, $$2}'

install: ## Install uv and the Python 3.13 environment from uv.lock
	@scripts/bootstrap.sh

node: ## Install the JavaScript tooling and the TypeScript client's workspace (npm ci, from package-lock.json)
	@scripts/install-node-tools.sh

dev: install ## Run the local stack with the sample stories
	$(PY) -m devtools.dev $(ARGS)

browser: ## Make a Chromium available for the browser tests (Debian package; never a download)
	@scripts/install-browser.sh >/dev/null || echo "no Chromium: browser tests will be skipped (they fail under CI=true)" >&2

lighthouse: install node browser ## Lighthouse on the reader page (list + a story) of a fresh local stack: docs/lighthouse.json, docs/reader-page*.png (ARGS="--runs 1" or --base-url URL)
	CHROME_PATH="$$(scripts/install-browser.sh)" $(PY) -m devtools.lighthouse $(ARGS)

nginx: ## Make nginx available for the local CDN and tests/cdn (Debian package; its service stays off)
	@scripts/install-nginx.sh >/dev/null || echo "no nginx: tests/cdn will be skipped (they fail under CI=true)" >&2

dev-cdn: install nginx ## The local stack behind a real shared cache (nginx) on 127.0.0.1:8080 (ARGS=--cache-seconds 5)
	$(PY) -m devtools.cdn $(ARGS)

digest: install ## Run the daily digest now on the running `make dev` stack, then show the emails
	$(PY) -m devtools.local digest
	$(PY) -m devtools.local emails

emails: install ## Show the emails the running `make dev` stack has sent (embedded SES)
	$(PY) -m devtools.local emails

test: install node browser nginx ## Run every test
	$(PY) -m pytest

test-unit: install ## The fast tier: tests/unit only (no stack, no browser, no SAM CLI)
	$(PY) -m pytest tests/unit

lint: install node ## ruff, mypy, import contracts, the layer's pins, the OpenAPI document (fresh, Spectral), checkov
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy
	PYTHONPATH=layers/common .venv/bin/lint-imports --no-cache --no-logo
	@$(MAKE) --no-print-directory layer-requirements LAYER_REQ_CHECK=1
	$(PY) -m devtools.openapi --check
	node_modules/.bin/spectral lint --fail-severity=warn --quiet $(OPENAPI)
	@# checkov in its own environment (.tools/checkov, pinned); skips are in the resources' Metadata
	"$$(scripts/install-checkov.sh)" --file template.yaml --framework cloudformation --compact --quiet --skip-download

format: install ## Apply ruff's fixes and formatting
	.venv/bin/ruff check --fix .
	.venv/bin/ruff format .

schema: install ## Regenerate schema/story.schema.json from the model
	$(PY) -m devtools.schema > schema/story.schema.json

client: install node ## The TypeScript client: build, its Node tests against a local stack, types fresh from the document
	$(PY) -m pytest tests/clients -q

OPENAPI := layers/common/newsroom/openapi.json
openapi: install node ## Regenerate the published OpenAPI document and the TypeScript client's types from it
	$(PY) -m devtools.openapi
	npm run --silent --workspace clients/typescript generate

LAYER_REQ := layers/common/requirements.txt
# boto3 and what only it brings are left out: Lambda's Python runtime ships them. jmespath stays
# (Powertools needs it too).
layer-requirements: install ## Export the layer's pins from uv.lock (no boto3: Lambda ships it)
	@$(UV) export --quiet --frozen --no-default-groups --no-emit-project --no-hashes \
	  --no-emit-package boto3 --no-emit-package s3transfer --no-emit-package botocore \
	  --no-emit-package urllib3 --no-emit-package python-dateutil --no-emit-package six \
	  --no-header --no-annotate --format requirements-txt > $(LAYER_REQ).new
	@if [ -n "$(LAYER_REQ_CHECK)" ]; then \
	  diff -u $(LAYER_REQ) $(LAYER_REQ).new && rm $(LAYER_REQ).new \
	  || { rm $(LAYER_REQ).new; echo "$(LAYER_REQ) is out of date: run make layer-requirements"; exit 1; }; \
	else mv $(LAYER_REQ).new $(LAYER_REQ); fi

validate: install ## Validate story files locally: make validate FILE=path/or/folder
	.venv/bin/newsroom-validate $(FILE)

upload: install ## Upload story files: make upload FILE=... BUCKET=... [ENDPOINT=http://127.0.0.1:4566]
	.venv/bin/newsroom-upload $(FILE) --bucket $(BUCKET) $(if $(ENDPOINT),--endpoint-url $(ENDPOINT))

.PHONY: bench
bench: install ## Benchmarks: table + bench/results.json (BENCH_ARGS="--quick", "--only GROUP")
	$(PY) -m bench $(BENCH_ARGS)

.PHONY: capacity
capacity: install ## Capacity and cost model: report, bench/capacity.json, docs/capacity-spike.png (CAPACITY_ARGS="--quick --env dev --hit-rate 0.95")
	$(PY) -m bench.capacity $(CAPACITY_ARGS)

# sam local: the real SAM CLI runs the built functions in Lambda containers (Docker) against
# the embedded backend on 127.0.0.1 (see devtools/samlocal.py).
SAMLOCAL := $(PY) -m devtools.samlocal
SAM_OFFLINE_TOOL := ../shared/tools/sam-local-offline.sh
SAM_PORT ?= 3001
FUNCTION ?= ApiFunction
EVENT ?= events/api-list-stories.json
.PHONY: sam-setup sam-validate sam-build sam-api sam-invoke

sam-setup: install ## Docker, the Lambda python3.13 image and SAM CLI for sam local; then checks
	@if [ -f $(SAM_OFFLINE_TOOL) ]; then \
	  if [ "$$(id -u)" != 0 ]; then echo "sam-setup: $(SAM_OFFLINE_TOOL) needs root: sudo bash $(SAM_OFFLINE_TOOL)"; exit 1; fi; \
	  bash $(SAM_OFFLINE_TOOL); \
	fi
	@$(SAMLOCAL) doctor --install

sam-validate: install ## sam validate --lint (cfn-lint) of template.yaml
	@$(SAMLOCAL) sam validate --lint --region us-east-1

sam-build: install ## sam build into .aws-sam/build (python3.13 put on PATH for it)
	@$(SAMLOCAL) build

sam-api: sam-build ## Seeded backend + sam local start-api on 127.0.0.1:3001 (SAM_PORT=...); Ctrl-C stops all
	@$(SAMLOCAL) api --port $(SAM_PORT)

sam-invoke: sam-build ## Seeded backend + one sam local invoke: make sam-invoke FUNCTION=ApiFunction EVENT=events/...
	@$(SAMLOCAL) invoke $(FUNCTION) $(EVENT)

# Deploying (README "Deploying"): the environments of samconfig.toml, what the account needs
# outside the stack, and a smoke test of what was deployed. ENV is a samconfig environment.
ENV ?= dev
AWS_OPTIONS = $(if $(REGION),--region $(REGION)) $(if $(PROFILE),--profile $(PROFILE))
.PHONY: deploy smoke account-check account-setup

deploy: install ## sam build + sam deploy --config-env ENV (ENV=dev|prod, [PROFILE=] [REGION=] [GUIDED=1])
	@$(PY) -m devtools.deploy deploy $(ENV) $(AWS_OPTIONS) $(if $(GUIDED),--guided)

smoke: install ## Smoke test of a deployed API: make smoke URL=https://... [ENV=] [ORIGIN=] (URL: ENV's stack)
	@url='$(URL)'; [ -n "$$url" ] || url=$$($(PY) -m devtools.deploy api-url $(ENV) $(AWS_OPTIONS)) || exit 2; \
	origin='$(ORIGIN)'; [ -n "$$origin" ] || origin=$$($(PY) -m devtools.samconfig parameter $(ENV) CorsAllowedOrigins | cut -d, -f1); \
	$(PY) devtools/smoke.py "$$url" --origin "$$origin" $(SMOKE_ARGS)

account-check: install ## What ENV's deploy needs outside the stack: SES identity, DKIM, production access, SSM key
	@$(PY) -m devtools.account check $(ENV) $(AWS_OPTIONS) $(ACCOUNT_ARGS)

account-setup: install ## Create ENV's SSM signing key when it is missing (random, never printed or overwritten)
	@$(PY) -m devtools.account setup $(ENV) $(AWS_OPTIONS)
