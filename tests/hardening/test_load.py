"""The local stack under load: 50 concurrent keep-alive clients for LOAD_SECONDS (default 30)
against ``python -m devtools.dev`` running in its own process (one process per function
container, moto in its own), seeded with the samples. The client and its checks are
devtools/load.py's (also bench/local_load.py's); p50/p99 latency per kind and the total rate
are printed and written to ``.dev/load-results.json``. Traffic goes to 127.0.0.1 only."""

import json
import os
from typing import Any

import pytest

from devtools.load import KINDS, run_load, summary_lines
from devtools.template import ROOT

CLIENTS = 50
SECONDS = float(os.environ.get("LOAD_SECONDS", "30"))
RESULTS = ROOT / ".dev" / "load-results.json"

pytestmark = pytest.mark.load


def test_fifty_clients_for_thirty_seconds(stack_process: Any) -> None:
    result = run_load(
        stack_process.api_url,
        CLIENTS,
        SECONDS,
        setup=(
            "python -m devtools.dev in its own process: the local API Gateway, 4 API "
            "containers each in its own worker process, moto (DynamoDB) in its own process, "
            "the sample stories; clients: threads with keep-alive http.client connections, "
            "Accept-Encoding: gzip"
        ),
    )
    assert result.clients_alive == 0, "a client did not stop"
    assert stack_process.process.poll() is None, "the stack process died"
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result.summary, indent=2) + "\n")
    print("\n" + "\n".join(summary_lines(result)))
    print(f"  written to {RESULTS}")

    assert result.errors == [], result.errors[:20]
    for kind in KINDS:
        assert result.summary["kinds"][kind]["requests"], f"no {kind} request ran"
    assert result.statuses("list") == {"200"}
    assert result.statuses("story") == {"200"}
    assert result.statuses("conditional") == {"304"}
