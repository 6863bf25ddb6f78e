"""Cold start: importing each handler module in a fresh interpreter, as a new Lambda
container does (module scope included: settings, clients, resolver).

Each run is a new ``python`` process with the function's Lambda environment. The child times
the import itself (``perf_counter`` around loading ``functions/<name>/app.py`` by path, like
``devtools.functions``); the parent times the whole process (interpreter start and exit
included). The reference is a handler module that only does ``import boto3`` and
``boto3.client("dynamodb")``. Contenders run in rotating order, round after round.
"""

import re
import subprocess
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import (
    Goal,
    Row,
    child_environment,
    compared,
    lambda_environment,
    median,
    paired_ratio,
    python,
    rotations,
    say,
    spread,
)
from devtools.template import ROOT

# Runs in the fresh interpreter: nothing is imported before the timer but what Lambda's own
# bootstrap has loaded anyway (sys, time, importlib).
CHILD = """\
import sys, time, importlib.util
started = time.perf_counter()
spec = importlib.util.spec_from_file_location("bench_handler", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
elapsed = time.perf_counter() - started
sys.stdout.write(repr(elapsed) + "\\n")
"""

REFERENCE_HANDLER = '''\
"""The reference: a bare handler with one DynamoDB client at module scope."""
import boto3

client = boto3.client("dynamodb")


def handler(event, context):
    return {"statusCode": 200, "body": "{}"}
'''

GOALS = {"api": Goal("<=", 1.25), "ingest": Goal("<=", 1.35)}


@dataclass(frozen=True, slots=True)
class Contender:
    name: str
    path: Path
    env: dict[str, str]


@dataclass(slots=True)
class Samples:
    imports: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    walls: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))


def run_once(contender: Contender, *, importtime: bool = False) -> tuple[float, float, str]:
    """One fresh process: (import seconds inside, whole process seconds, stderr)."""
    command = [python(), *(["-X", "importtime"] if importtime else []), "-c", CHILD]
    command.append(str(contender.path))
    started = time.perf_counter()
    done = subprocess.run(
        command, env=contender.env, capture_output=True, text=True, cwd=ROOT, check=False
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"cold start of {contender.name} failed:\n{done.stderr[-3000:]}")
    return float(done.stdout.strip().splitlines()[-1]), wall, done.stderr


_IMPORTTIME = re.compile(r"^import time:\s+(\d+)\s+\|\s+(\d+)\s+\|(\s*)(\S+)")


def top_imports(stderr_runs: list[str], count: int = 10) -> list[tuple[str, float, float]]:
    """Modules by median cumulative import time (µs) over the runs: (name, cumulative, self).
    Only modules imported at the top two nesting levels, so one package's chain does not
    fill the list with its own submodules."""
    cumulative: dict[str, list[float]] = defaultdict(list)
    own: dict[str, list[float]] = defaultdict(list)
    for stderr in stderr_runs:
        for line in stderr.splitlines():
            match = _IMPORTTIME.match(line)
            if not match:
                continue
            depth = (len(match.group(3)) - 1) // 2
            if depth > 1:
                continue
            cumulative[match.group(4)].append(float(match.group(2)))
            own[match.group(4)].append(float(match.group(1)))
    ranked = sorted(cumulative, key=lambda m: median(cumulative[m]), reverse=True)
    return [(m, median(cumulative[m]), median(own[m])) for m in ranked[:count]]


def self_time_by_package(stderr_runs: list[str], count: int = 8) -> list[tuple[str, float]]:
    """Top-level packages by the median over runs of their modules' summed *self* import
    time (µs): where the time is really spent, whoever imported it."""
    totals: dict[str, list[float]] = defaultdict(list)
    for stderr in stderr_runs:
        run: dict[str, float] = defaultdict(float)
        for line in stderr.splitlines():
            match = _IMPORTTIME.match(line)
            if match:
                run[match.group(4).split(".")[0]] += float(match.group(1))
        for package, total in run.items():
            totals[package].append(total)
    ranked = sorted(totals, key=lambda p: median(totals[p]), reverse=True)
    return [(p, median(totals[p])) for p in ranked[:count]]


def run(quick: bool) -> list[Row]:
    rounds, trace_runs = (5, 1) if quick else (15, 3)
    with tempfile.TemporaryDirectory(prefix="bench-cold-") as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        reference = Path(tmp) / "reference_app.py"
        reference.write_text(REFERENCE_HANDLER)

        def env(logical_id: str, tracing: bool = False) -> dict[str, str]:
            return child_environment(
                lambda_environment(logical_id, table="signal-noise-stories", tracing=tracing),
                home,
            )

        functions = ROOT / "functions"
        contenders = [
            Contender("reference", reference, env("ApiFunction")),
            Contender("api", functions / "api" / "app.py", env("ApiFunction")),
            Contender("ingest", functions / "ingest" / "app.py", env("IngestFunction")),
            Contender("api.tracing_on", functions / "api" / "app.py", env("ApiFunction", True)),
            Contender(
                "ingest.tracing_on",
                functions / "ingest" / "app.py",
                env("IngestFunction", True),
            ),
        ]
        for contender in contenders:  # warm the page cache and .pyc files; not counted
            run_once(contender)
        samples = Samples()
        for order in rotations(contenders, rounds):
            for contender in order:
                inside, wall, _ = run_once(contender)
                samples.imports[contender.name].append(inside)
                samples.walls[contender.name].append(wall)
        traces = {
            c.name: [run_once(c, importtime=True)[2] for _ in range(trace_runs)]
            for c in contenders
            if c.name in ("reference", "api", "ingest")
        }

    say(f"cold start: {rounds} rounds, rotating order; import ms (inside) and process ms (wall)")
    say("  median [p25-p75]; ratio = median of per-round value/reference (import)")
    ref_imports, ref_walls = samples.imports["reference"], samples.walls["reference"]
    for c in contenders:
        say(
            f"  {c.name:18} import {spread(samples.imports[c.name], 1000)}"
            f"  process {spread(samples.walls[c.name], 1000)}"
            f"  ratio {paired_ratio(samples.imports[c.name], ref_imports):.3f}"
        )
    for name, stderrs in traces.items():
        say(
            f"  top 10 imports of {name} by cumulative time"
            f" (-X importtime, median of {trace_runs} runs):"
        )
        for module, cumulative, own in top_imports(stderrs):
            say(f"    {cumulative / 1000:7.1f} ms cumulative  {own / 1000:6.1f} ms self  {module}")
        packages = ", ".join(
            f"{package} {total / 1000:.0f}" for package, total in self_time_by_package(stderrs)
        )
        say(f"    self time by top-level package (ms): {packages}")

    ref_import, ref_wall = median(ref_imports) * 1000, median(ref_walls) * 1000
    rows: list[Row] = []

    def imported(name: str, goal: Goal | None, note: str, tracing: bool = False) -> Row:
        values = samples.imports[f"{name}.tracing_on" if tracing else name]
        row = f"cold_start.{name}.import" + (".tracing_on" if tracing else "")
        ratio = paired_ratio(values, ref_imports)
        return compared(row, median(values) * 1000, ref_import, "ms", goal, note, ratio)

    for name in ("api", "ingest"):
        rows.append(
            imported(
                name,
                GOALS[name],
                f"import in a fresh interpreter, tracing off; ref: boto3 + dynamodb client;"
                f" median of {rounds} rounds; ratio: median of per-round ratios",
            )
        )
        walls = samples.walls[name]
        rows.append(
            compared(
                f"cold_start.{name}.process",
                median(walls) * 1000,
                ref_wall,
                "ms",
                note="whole process wall time (interpreter start + import + exit)",
                ratio=paired_ratio(walls, ref_walls),
            )
        )
    for name in ("api", "ingest"):
        rows.append(
            imported(
                name,
                None,
                "POWERTOOLS_TRACE_DISABLED unset: Tracer() and the X-Ray SDK load",
                tracing=True,
            )
        )
    return rows
