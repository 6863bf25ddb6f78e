# Shared by every function's Makefile (template.yaml: Metadata: BuildMethod: makefile), which
# `sam build` runs as `make -f functions/<name>/Makefile build-<LogicalId>`.
# /var/task is read-only in Lambda: a handler shipped without its .pyc is compiled from source
# on every cold start. unchecked-hash .pyc (PEP 552) stay valid whatever file times SAM's zip
# and Lambda's unzip leave; the sources stay beside them so tracebacks name files and lines.
PYTHON ?= python3.13
# The function's folder: where its Makefile is, whatever folder make runs in.
SOURCE := $(dir $(abspath $(firstword $(MAKEFILE_LIST))))

build-%:
	cp "$(SOURCE)"*.py "$(ARTIFACTS_DIR)/"
	$(PYTHON) -m compileall -q --invalidation-mode unchecked-hash "$(ARTIFACTS_DIR)"
