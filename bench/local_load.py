"""The local stack under the team's load test: 50 concurrent readers (devtools/load.py's
client and checks) against ``python -m devtools.dev`` in its own process, seeded with the
samples, in both of its modes, measured in the same run:

- value: the default mode, one process per function container (four for the API) and moto in
  a process of its own;
- reference: ``--in-process``, the earlier mode: moto and every function in the one process,
  API invocations one at a time.

Rows: requests per second (goal: at least 5x the reference), p99 latency over every request
(goal: under 1 s) and errors (goal: none). ``--quick``: 10 s of load per mode, else 30 s.
"""

import tempfile
from pathlib import Path

from bench.common import Goal, Row, compared, say
from devtools.load import LoadResult, dev_stack_process, run_load, summary_lines

CLIENTS = 50
MODES = {"multi-process": (), "in-process": ("--in-process",)}


def measure(mode: str, seconds: float) -> LoadResult:
    with (
        tempfile.TemporaryDirectory(prefix=f"bench-load-{mode}-") as tmp,
        dev_stack_process(Path(tmp), *MODES[mode]) as stack,
    ):
        result = run_load(stack.api_url, CLIENTS, seconds, setup=f"python -m devtools.dev, {mode}")
    say(f"  {mode}:")
    for line in summary_lines(result):
        say(f"    {line}")
    for error in result.errors[:5]:
        say(f"    error: {error}")
    return result


def run(quick: bool) -> list[Row]:
    seconds = 10.0 if quick else 30.0
    reference = measure("in-process", seconds)
    value = measure("multi-process", seconds)
    note = f"{CLIENTS} clients, {seconds:g} s per mode; reference: --in-process"
    return [
        compared(
            "local_load.requests_per_second",
            value.requests_per_second,
            reference.requests_per_second,
            "req/s",
            Goal(">=", 5),
            note,
        ),
        compared(
            "local_load.p99_ms",
            value.p99_ms,
            reference.p99_ms,
            "ms",
            Goal("<", 1000, on="value"),
        ),
        compared(
            "local_load.errors",
            float(len(value.errors)),
            float(len(reference.errors)),
            "errors",
            Goal("==", 0, on="value"),
        ),
    ]
