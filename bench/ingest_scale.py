"""Ingest at scale: the real ingest handler against moto's server running in its own process
(so the function's threads and the server do not share a GIL), table and bucket created
from ``template.yaml``.

(a) A large JSON Lines file through the handler: stories per second, and the peak RSS of the
    ingest process (``ru_maxrss``) for a small and a large file: memory must stay flat.
(b) A 1,000-story file through the handler vs a naive reference (``json.loads`` per line and
    one plain ``PutItem`` per story, in a loop) on the same server, a fresh table for each
    run, runs alternating.

Every run is a child process (``python -m bench.ingest_scale --child ...``) with the
function's Lambda environment pointing ``AWS_ENDPOINT_URL`` at the server; the child times
the handler call (or the reference loop) itself, clients created beforehand in both.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3

from bench.common import (
    REGION,
    Goal,
    Row,
    child_environment,
    compared,
    lambda_environment,
    median,
    paired_ratio,
    python,
    say,
    spread,
    use_environment,
    write_jsonl,
)
from devtools.backend import free_port
from devtools.template import ROOT, create_table_kwargs

TABLE = "signal-noise-stories"
BUCKET = "signal-noise-content"
RESULT_MARKER = "BENCH-RESULT "
RSS_GOAL = Goal("<", 1.2)
SPEED_GOAL = Goal("<=", 1.0)


# -- the child: one ingest (or reference) run -----------------------------------------------


def _peak_rss_kib() -> int:
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)  # KiB on Linux


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU of another process so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def child_handler(
    key: str, size: int, prepare: Callable[[ModuleType], None] | None = None
) -> dict[str, Any]:
    """Load the ingest function as Lambda would, then process one S3 event. ``prepare`` gets
    the loaded module before the clock starts (e.g. to hook its clients)."""
    from devtools.events import s3_event, s3_record
    from devtools.functions import LambdaContext, load_function_module

    module = load_function_module("ingest")
    if prepare is not None:
        prepare(module)
    operations: Counter[str] = Counter()

    def count(model: Any, **_: Any) -> None:
        operations[model.name] += 1

    module.dynamodb.meta.events.register("before-call.dynamodb", count)
    baseline = _peak_rss_kib()
    event = s3_event(s3_record(BUCKET, key, size=size))
    cpu, started = _cpu_seconds(), time.perf_counter()
    result = module.handler(event, LambdaContext("signal-noise-IngestFunction", memory_mb=1024))
    elapsed, cpu = time.perf_counter() - started, _cpu_seconds() - cpu
    (receipt,) = result["files"]
    return {
        "elapsed": elapsed,
        "cpu": cpu,
        "baseline_kib": baseline,
        "peak_kib": _peak_rss_kib(),
        "counts": receipt["counts"],
        "status": receipt["status"],
        "operations": dict(operations),
    }


def child_reference(key: str, prepare: Callable[[Any, Any], None] | None = None) -> dict[str, Any]:
    """The naive ingest: read the file, ``json.loads`` each line, one ``PutItem`` each.
    ``prepare`` gets its S3 and DynamoDB clients before the clock starts."""
    from boto3.dynamodb.types import TypeSerializer

    from newsroom.core import aws
    from newsroom.stories.items import STORY_SK, story_pk

    s3, dynamodb = aws.client("s3"), aws.client("dynamodb")
    if prepare is not None:
        prepare(s3, dynamodb)
    serializer = TypeSerializer()
    baseline = _peak_rss_kib()
    cpu, started = _cpu_seconds(), time.perf_counter()
    body = s3.get_object(Bucket=BUCKET, Key=key)["Body"]
    stored = 0
    for line in body.iter_lines():
        if not line.strip():
            continue
        story = json.loads(line)
        item = {"pk": story_pk(story["slug"]), "sk": STORY_SK, **story}
        dynamodb.put_item(
            TableName=TABLE, Item={k: serializer.serialize(v) for k, v in item.items()}
        )
        stored += 1
    elapsed, cpu = time.perf_counter() - started, _cpu_seconds() - cpu
    return {
        "elapsed": elapsed,
        "cpu": cpu,
        "baseline_kib": baseline,
        "peak_kib": _peak_rss_kib(),
        "counts": {"created": stored},
        "status": "ok",
        "operations": {"PutItem": stored},
    }


def child_main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["handler", "reference"])
    parser.add_argument("key")
    parser.add_argument("size", type=int)
    args = parser.parse_args(argv)
    if args.mode == "handler":
        result = child_handler(args.key, args.size)
    else:
        result = child_reference(args.key)
    report_to_parent(result)


def report_to_parent(result: Mapping[str, Any]) -> None:
    """The child's last line: its result, behind ``RESULT_MARKER`` (the handler logs too)."""
    sys.stdout.flush()
    print(RESULT_MARKER + json.dumps(result), flush=True)


def run_child(module: str, args: Sequence[str], env: Mapping[str, str]) -> dict[str, Any]:
    """``python -m <module> --child <args>`` with ``env``; the result it reported. Raises
    with the child's output when it failed or reported nothing."""
    command = [python(), "-m", module, "--child", *args]
    done = subprocess.run(
        command, env=dict(env), cwd=ROOT, capture_output=True, text=True, check=False
    )
    lines = [x for x in done.stdout.splitlines() if x.startswith(RESULT_MARKER)]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"{args[0]} run failed:\n{done.stdout[-2000:]}{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(lines[-1].removeprefix(RESULT_MARKER))
    return result


# -- the parent ----------------------------------------------------------------------------


@contextmanager
def moto_server() -> Iterator[tuple[str, int]]:
    """moto's server on 127.0.0.1 in a child process, as the local stack runs it
    (``devtools.backend.MotoProcess``: each DynamoDB request atomic, as in DynamoDB; plain
    ``moto.server`` answers concurrent transactions with 500s); yields its endpoint and
    process id."""
    from devtools.backend import MotoProcess

    port = free_port()
    server = MotoProcess(port)
    try:
        yield f"http://127.0.0.1:{port}", server.process.pid
    finally:
        server.stop()


@dataclass(frozen=True, slots=True)
class Run:
    mode: str
    stories: int
    elapsed: float
    cpu: float  # the ingest process's CPU seconds during the run
    server_cpu: float  # moto server's CPU seconds during the run
    baseline_kib: int
    peak_kib: int
    operations: dict[str, int]


class Bench:
    def __init__(self, endpoint: str, server_pid: int, home: Path) -> None:
        self.server_pid = server_pid
        self.env = child_environment(
            lambda_environment("IngestFunction", table=TABLE, endpoint_url=endpoint), home
        )
        use_environment(lambda_environment("IngestFunction", table=TABLE, endpoint_url=endpoint))
        self.dynamodb = boto3.client("dynamodb", endpoint_url=endpoint, region_name=REGION)
        self.s3 = boto3.client("s3", endpoint_url=endpoint, region_name=REGION)
        self.s3.create_bucket(Bucket=BUCKET)

    def fresh_table(self) -> None:
        if TABLE in self.dynamodb.list_tables()["TableNames"]:
            self.dynamodb.delete_table(TableName=TABLE)
        self.dynamodb.create_table(**create_table_kwargs("StoriesTable", TABLE))

    def upload(self, path: Path) -> tuple[str, int]:
        key = f"incoming/bench/{path.name}"
        self.s3.upload_file(str(path), BUCKET, key)
        return key, path.stat().st_size

    def run(self, mode: str, key: str, size: int, stories: int) -> Run:
        self.fresh_table()
        server_cpu = process_cpu_seconds(self.server_pid)
        result = run_child("bench.ingest_scale", [mode, key, str(size)], self.env)
        server_cpu = process_cpu_seconds(self.server_pid) - server_cpu
        if result["status"] != "ok" or result["counts"]["created"] != stories:
            raise RuntimeError(f"{mode} run did not store every story: {result}")
        return Run(
            mode,
            stories,
            result["elapsed"],
            result["cpu"],
            server_cpu,
            result["baseline_kib"],
            result["peak_kib"],
            result["operations"],
        )


def run(quick: bool) -> list[Row]:
    small, large = 100, (500 if quick else 10_000)
    compared_size, rounds = (200, 2) if quick else (1_000, 3)
    with (
        tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp,
        moto_server() as (
            endpoint,
            server_pid,
        ),
    ):
        home = Path(tmp) / "home"
        home.mkdir()
        bench = Bench(endpoint, server_pid, home)
        files = {}
        for count in sorted({small, large, compared_size}):
            path = Path(tmp) / f"stories-{count}.jsonl"
            write_jsonl(path, count)
            files[count] = bench.upload(path)
        say(
            f"ingest scale: moto server at {endpoint} (own process); files of "
            + ", ".join(f"{n} stories ({size / 1e6:.2f} MB)" for n, (_, size) in files.items())
        )

        # (b) first, alternating: handler vs naive reference on the same file.
        runs: dict[str, list[Run]] = {"handler": [], "reference": []}
        key, size = files[compared_size]
        for r in range(rounds):
            for mode in ("handler", "reference") if r % 2 == 0 else ("reference", "handler"):
                runs[mode].append(bench.run(mode, key, size, compared_size))
        # (a) small and large file through the handler (each in a fresh process).
        small_run = bench.run("handler", *files[small], small)
        large_run = bench.run("handler", *files[large], large)

    handler_s = [r.elapsed for r in runs["handler"]]
    reference_s = [r.elapsed for r in runs["reference"]]
    say(f"  {compared_size}-story file, {rounds} alternating runs each, seconds:")
    speed_ratio = paired_ratio(handler_s, reference_s)
    say(f"    handler   {spread(handler_s, digits=2)}  ratio {speed_ratio:.3f} (paired)")
    say(f"    reference {spread(reference_s, digits=2)}  (json.loads + 1 PutItem per story)")
    say("  CPU seconds per run, median: ingest process / moto server (2 cores in all):")
    for mode, mode_runs in runs.items():
        say(
            f"    {mode:9} {median([r.cpu for r in mode_runs]):.2f}"
            f" / {median([r.server_cpu for r in mode_runs]):.2f}"
        )
    for label, one in (("small", small_run), ("large", large_run)):
        say(
            f"  {label} file: {one.stories} stories in {one.elapsed:.2f} s"
            f" = {one.stories / one.elapsed:.0f} stories/s; RSS after import"
            f" {one.baseline_kib / 1024:.1f} MiB, peak {one.peak_kib / 1024:.1f} MiB"
            f" (+{(one.peak_kib - one.baseline_kib) / 1024:.1f} MiB);"
            f" CPU s ingest {one.cpu:.1f}, server {one.server_cpu:.1f}"
        )
    per_story = {op: n / large_run.stories for op, n in sorted(large_run.operations.items())}
    calls_per_story = sum(per_story.values())
    say(
        f"  DynamoDB calls per story (handler, {large_run.stories} new stories): "
        + ", ".join(f"{op} {n:.2f}" for op, n in per_story.items())
        + f"; total {calls_per_story:.2f} (reference: PutItem 1.00)"
    )

    reference_rate = compared_size / median(reference_s)
    return [
        compared(
            "ingest.handler_vs_naive",
            median(handler_s),
            median(reference_s),
            "s",
            SPEED_GOAL,
            f"{compared_size}-story JSONL file, fresh table per run, {rounds} runs each;"
            " reference: json.loads + one PutItem per story; ratio: median of paired runs",
            speed_ratio,
        ),
        compared(
            "ingest.throughput",
            large_run.stories / large_run.elapsed,
            reference_rate,
            "stories/s",
            note=f"{large_run.stories}-story file through the handler; reference: the naive"
            f" loop's rate on the {compared_size}-story file (higher is better)",
        ),
        compared(
            "ingest.peak_rss",
            large_run.peak_kib / 1024,
            small_run.peak_kib / 1024,
            "MiB",
            RSS_GOAL,
            f"peak RSS of the ingest process: {large} stories vs {small} (reference)",
        ),
        compared(
            "ingest.dynamodb_calls_per_story",
            calls_per_story,
            1.0,
            "calls/story",
            note=", ".join(f"{op} {n:.2f}" for op, n in per_story.items())
            + "; reference: one PutItem",
        ),
    ]


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child_main(sys.argv[2:])
    else:
        raise SystemExit("run through python -m bench --only ingest_scale")
