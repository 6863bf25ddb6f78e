"""What every benchmark group shares: result rows and goals, statistics, the Lambda-like
environment and realistic stories."""

import json
import operator
import os
import platform
import statistics
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from devtools.environment import CALLER_AWS_VARIABLES
from devtools.template import function_environment

REGION = "us-east-1"
BENCH_DIR = Path(__file__).resolve().parent
RESULTS_PATH = BENCH_DIR / "results.json"

# Credentials that can never reach AWS; the region Lambda would set.
DUMMY_AWS = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_SESSION_TOKEN": "bench",
    "AWS_REGION": REGION,
    "AWS_DEFAULT_REGION": REGION,
}
# Variables of the caller's shell that would change what boto3 does (real profiles,
# endpoints, config files): never passed on, never left in a benchmark process.
FOREIGN_AWS = (*CALLER_AWS_VARIABLES, "AWS_SAM_LOCAL", "POWERTOOLS_TRACE_DISABLED")
MEMORY_MB = {"ApiFunction": "512", "IngestFunction": "1024"}


# -- results ------------------------------------------------------------------------------


_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    "<": operator.lt,
    "==": operator.eq,
    ">=": operator.ge,
}


@dataclass(frozen=True, slots=True)
class Goal:
    """A goal on a row's ``ratio`` (or its ``value``): ``ratio <= 1.25``."""

    op: str
    limit: float
    on: str = "ratio"

    def __str__(self) -> str:
        return f"{self.on} {self.op} {self.limit:g}"

    def met(self, row: "Row") -> bool | None:
        actual = row.ratio if self.on == "ratio" else row.value
        if actual is None:
            return None
        return _OPERATORS[self.op](round(actual, 9), self.limit)


@dataclass(slots=True)
class Row:
    """One line of the results table."""

    name: str
    value: float | None
    unit: str
    reference: float | None = None
    ratio: float | None = None
    goal: Goal | None = None
    note: str = ""

    @property
    def met(self) -> bool | None:
        return self.goal.met(self) if self.goal else None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": self.value,
            "unit": self.unit,
            "reference": self.reference,
            "ratio": self.ratio,
            "goal": str(self.goal) if self.goal else None,
            "met": self.met,
            "note": self.note,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Row":
        goal = None
        if data.get("goal"):
            on, op, limit = str(data["goal"]).split(" ")
            goal = Goal(op, float(limit), on)
        return cls(
            name=data["name"],
            value=data["value"],
            unit=data["unit"],
            reference=data.get("reference"),
            ratio=data.get("ratio"),
            goal=goal,
            note=data.get("note", ""),
        )


def compared(
    name: str,
    value: float,
    reference: float,
    unit: str,
    goal: Goal | None = None,
    note: str = "",
    ratio: float | None = None,
) -> Row:
    """A row whose ratio is ``ratio`` when given (a paired ratio), else
    ``value / reference``."""
    if ratio is None and reference:
        ratio = value / reference
    return Row(name, value, unit, reference, ratio, goal, note)


def paired_ratio(values: Sequence[float], references: Sequence[float]) -> float:
    """The median of per-round ratios: each value over the reference measured next to it,
    so a burst of load from elsewhere on the machine hits both sides of one ratio."""
    return median([v / r for v, r in zip(values, references, strict=True)])


def skipped(name: str, unit: str, why: str, goal: Goal | None = None) -> Row:
    return Row(name, None, unit, None, None, goal, f"skipped: {why}")


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    if float(value).is_integer():
        return f"{int(value):,}"
    if abs(value) >= 100:
        return f"{value:,.1f}"
    return f"{value:.3g}" if abs(value) < 10 else f"{value:.2f}"


def format_table(rows: Sequence[Row]) -> str:
    header = ("name", "value", "unit", "reference", "ratio", "goal", "met?")
    lines = [
        (
            row.name,
            _fmt(row.value),
            row.unit,
            _fmt(row.reference),
            "-" if row.ratio is None else f"{row.ratio:.3f}",
            str(row.goal) if row.goal else "(info)",
            {True: "yes", False: "NO", None: "-"}[row.met],
        )
        for row in rows
    ]
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(header)]
    aligns = ("<", ">", "<", ">", ">", "<", "<")

    def render(cells: Sequence[str]) -> str:
        return "  ".join(f"{c:{a}{w}}" for c, a, w in zip(cells, aligns, widths, strict=True))

    out = [render(header), render(["-" * w for w in widths])]
    out += [render(line) for line in lines]
    notes = [f"  {row.name}: {row.note}" for row in rows if row.note]
    if notes:
        out += ["", "notes:", *notes]
    return "\n".join(out)


def machine() -> dict[str, Any]:
    """What the figures were measured on: ratios move with the machine and its load."""
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "system": platform.platform(terse=True),
        "cpus": os.cpu_count(),
        "load_average_1m": round(load[0], 2) if load else None,
    }


def write_results(
    rows: Iterable[Row], path: Path, measured_on: Mapping[str, Any] | None = None
) -> None:
    """``{"machine": {...}, "measured_at": ..., "results": [row, ...]}``."""
    document = {
        "machine": dict(measured_on) if measured_on is not None else machine(),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "results": [row.to_json() for row in rows],
    }
    path.write_text(json.dumps(document, indent=2) + "\n")


def say(*parts: object) -> None:
    """A diagnostic line, printed as the benchmarks run (flushed: groups run in children)."""
    print(*parts, flush=True)


# -- statistics ---------------------------------------------------------------------------


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def spread(values: Sequence[float], scale: float = 1.0, digits: int = 1) -> str:
    """``median [p25-p75] (n=...)`` for the diagnostics."""
    ordered = sorted(v * scale for v in values)
    if len(ordered) >= 4:
        q1, _, q3 = statistics.quantiles(ordered, n=4)
    else:
        q1, q3 = ordered[0], ordered[-1]
    mid = statistics.median(ordered)
    return f"{mid:.{digits}f} [{q1:.{digits}f}-{q3:.{digits}f}] (n={len(ordered)})"


def rotations[T](items: Sequence[T], rounds: int) -> Iterable[list[T]]:
    """``rounds`` orderings of ``items``: each round rotated one further (no contender always
    runs first), every other cycle of rotations reversed (nor after the same neighbour)."""
    n = len(items)
    for r in range(rounds):
        order = [items[(r + i) % n] for i in range(n)]
        yield order[::-1] if (r // n) % 2 else order


# -- environment ----------------------------------------------------------------------------


def lambda_environment(
    logical_id: str,
    *,
    table: str,
    tracing: bool = False,
    endpoint_url: str | None = None,
) -> dict[str, str]:
    """The function's variables as Lambda sets them: the template's (defaults resolved),
    the table, dummy credentials and region, the runtime's own variables ("Defined runtime
    environment variables" in the Lambda developer guide: libraries decide by them, e.g. the
    X-Ray SDK takes Lambda's sampling decision instead of building a sampling client when
    ``LAMBDA_TASK_ROOT`` is set) and, unless ``tracing``, ``POWERTOOLS_TRACE_DISABLED=true``.
    With ``tracing``, the X-Ray variables Lambda adds for active tracing, the daemon on the
    loopback (Lambda's is on a link-local address this machine must not send to)."""
    env = function_environment(logical_id)
    env.pop("AWS_ENDPOINT_URL", None)  # the template's empty default: unset in AWS
    env.update(DUMMY_AWS)
    env.update(
        {
            "STORIES_TABLE": table,
            "AWS_LAMBDA_FUNCTION_NAME": f"signal-noise-{logical_id}",
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": MEMORY_MB.get(logical_id, "512"),
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "LAMBDA_TASK_ROOT": "/var/task",
            "LAMBDA_RUNTIME_DIR": "/var/runtime",
            "TZ": ":UTC",
        }
    )
    if tracing:
        env["AWS_XRAY_CONTEXT_MISSING"] = "LOG_ERROR"
        env["AWS_XRAY_DAEMON_ADDRESS"] = "127.0.0.1:2000"
    else:
        env["POWERTOOLS_TRACE_DISABLED"] = "true"
    if endpoint_url:
        env["AWS_ENDPOINT_URL"] = endpoint_url
    return env


def child_environment(extra: Mapping[str, str], home: Path) -> dict[str, str]:
    """A clean environment for a child interpreter: nothing from the caller's AWS setup,
    ``HOME`` an empty folder (no ``~/.aws`` files are read), plus ``extra``."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "HOME": str(home)}
    env.update(extra)
    return env


def use_environment(env: Mapping[str, str]) -> None:
    """Make this process look like the function's container (for in-process groups)."""
    for name in FOREIGN_AWS:
        os.environ.pop(name, None)
    os.environ.update(env)


def python() -> str:
    """The interpreter the benchmarks run with (the project's ``.venv``)."""
    return sys.executable


# -- data -----------------------------------------------------------------------------------

TOPICS = ("ai", "climate", "space", "policy", "energy", "health", "security", "science")
_WORDS = (
    "signal", "noise", "model", "policy", "orbit", "grid", "carbon", "vaccine", "chip",
    "market", "climate", "rocket", "data", "privacy", "battery", "fusion", "genome",
    "satellite", "reactor", "network", "transit", "water", "harvest",
)  # fmt: skip


def _text(seed: int, words: int) -> str:
    return " ".join(_WORDS[(seed * 7 + i * 3) % len(_WORDS)] for i in range(words))


def story_value(i: int, *, sections: int = 3, bullets: int = 3, topics: int = 3) -> dict[str, Any]:
    """A realistic upload: title, summary, ``sections`` sections of ``bullets`` bullets,
    ``topics`` topics, author, source; distinct slug and ``published_at`` per ``i``."""
    published = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(minutes=7 * i)
    return {
        "slug": f"bench-story-{i:06d}",
        "title": f"Story {i}: " + _text(i, 8).capitalize(),
        "summary": (_text(i, 30).capitalize() + ". ") * 2,
        "published_at": published.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "updated_at": (published + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "sections": [
            {
                "heading": f"Part {s + 1}: " + _text(i + s, 4),
                "body": _text(i + s, 25).capitalize() + ".",
                "bullets": [_text(i + s + b, 12).capitalize() + "." for b in range(bullets)],
            }
            for s in range(sections)
        ],
        "topics": [TOPICS[(i + t) % len(TOPICS)] for t in range(topics)],
        "author": "Bench Writer",
        "source": {"name": "Bench Wire", "url": f"https://wire.example/{i}"},
    }


def write_jsonl(path: Path, count: int) -> int:
    """A JSON Lines file of ``count`` realistic stories; returns its size in bytes."""
    with path.open("w", encoding="utf-8") as handle:
        for i in range(count):
            handle.write(json.dumps(story_value(i), ensure_ascii=False) + "\n")
    return path.stat().st_size
