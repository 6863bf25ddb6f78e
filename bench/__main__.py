"""``python -m bench [--quick] [--only GROUP ...]``: run the benchmark groups, print the
results table and write ``bench/results.json``.

Each group runs in its own interpreter (``--group``), so environment variables, moto mocks
and cached AWS clients of one group never leak into the next. The exit status is 0 when
every group ran, whether or not its goals were met (benchmarks are not tests); 1 when a
group crashed.
"""

import argparse
import importlib
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import RESULTS_PATH, Row, format_table, say, write_results
from devtools.template import ROOT

GROUPS = (
    "cold_start",
    "warm",
    "dynamodb_flat",
    "ingest_scale",
    "ingest_latency",
    "package_size",
    "local_load",
)


def run_group_here(name: str, quick: bool, rows_file: Path) -> None:
    module = importlib.import_module(f"bench.{name}")
    rows: list[Row] = module.run(quick)
    rows_file.write_text(json.dumps([row.to_json() for row in rows]))


def run_group_child(name: str, quick: bool) -> tuple[list[Row], str | None]:
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        rows_file = Path(tmp) / "rows.json"
        command = [sys.executable, "-m", "bench", "--group", name, "--rows-file", str(rows_file)]
        done = subprocess.run([*command, *(["--quick"] if quick else [])], cwd=ROOT, check=False)
        if done.returncode != 0 or not rows_file.exists():
            return [], f"group {name} failed (exit status {done.returncode})"
        return [Row.from_json(r) for r in json.loads(rows_file.read_text())], None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="fewer repetitions and smaller sizes (~2 min)"
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=GROUPS,
        metavar="GROUP",
        help=f"run only this group (repeatable): {', '.join(GROUPS)}",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=RESULTS_PATH,
        help=f"where to write the results (default {RESULTS_PATH.relative_to(ROOT)})",
    )
    parser.add_argument("--group", choices=GROUPS, help=argparse.SUPPRESS)
    parser.add_argument("--rows-file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.group:  # a child of the runner below
        run_group_here(args.group, args.quick, args.rows_file)
        return 0

    selected = [g for g in GROUPS if g in args.only] if args.only else list(GROUPS)
    rows: list[Row] = []
    failures: list[str] = []
    started = time.monotonic()
    for name in selected:
        say(f"\n== {name}{' (quick)' if args.quick else ''} ==")
        group_started = time.monotonic()
        group_rows, failure = run_group_child(name, args.quick)
        rows += group_rows
        if failure:
            failures.append(failure)
            rows.append(Row(f"{name}", None, "-", note=failure))
        say(f"   ({name}: {time.monotonic() - group_started:.0f} s)")
    write_results(rows, args.output)
    say(f"\n== results ({time.monotonic() - started:.0f} s; {args.output}) ==")
    say(format_table(rows))
    missed = [r.name for r in rows if r.met is False]
    say(f"\ngoals met: {sum(r.met is True for r in rows)}, missed: {len(missed)}")
    for failure in failures:
        say(f"ERROR: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
