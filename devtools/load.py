"""A load test of the local stack: ``clients`` concurrent keep-alive readers for ``seconds``
against a running API (``python -m devtools.dev`` in its own process: ``dev_stack_process``).

Three kinds of request, mixed: ``list`` (``/stories?limit=10``, then the page its
``next_cursor`` points to), ``story`` (``/stories/<slug>`` of a seeded story) and
``conditional`` (a URL seen before with its ``ETag`` in ``If-None-Match``: a 304). Every
answer is checked (no 5xx, no exception, 304s without a body, 200s valid JSON of the right
shape). Used by tests/hardening/test_load.py and bench/local_load.py. Traffic goes to
127.0.0.1 only, and every loop stops at the deadline."""

import gzip
import http.client
import json
import os
import platform
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from devtools.template import ROOT

KINDS = ("list", "story", "conditional")
MAX_REQUESTS_PER_CLIENT = 1_000_000  # a second bound, besides the deadline
STARTUP_SECONDS = 120.0


@dataclass
class Tally:
    """What one client saw (merged after the run; no locks on the hot path)."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in KINDS})
    statuses: dict[str, dict[int, int]] = field(default_factory=lambda: {k: {} for k in KINDS})
    errors: list[str] = field(default_factory=list)


class Client:
    """One keep-alive connection, reopened only after an error."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.connection = http.client.HTTPConnection(host, port, timeout=30)

    def get(self, target: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        try:
            self.connection.request("GET", target, headers=headers)
            response = self.connection.getresponse()
            body = response.read()
        except Exception:
            self.connection.close()
            self.connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
            raise
        if response.getheader("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body

    def close(self) -> None:
        self.connection.close()


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def run_client(
    number: int,
    host: str,
    port: int,
    slugs: list[str],
    etags: dict[str, str],
    deadline: float,
    tally: Tally,
) -> None:
    """One reader until ``deadline``: a fixed mix of requests per ``number``."""
    rng = random.Random(number)  # noqa: S311 - a reproducible mix, not a secret
    client = Client(host, port)
    headers = {"Accept-Encoding": "gzip", "Accept": "application/json"}

    def timed(kind: str, target: str, extra: dict[str, str] | None = None) -> tuple[int, bytes]:
        started = time.perf_counter()
        try:
            status, answer_headers, body = client.get(target, {**headers, **(extra or {})})
        except Exception as exc:  # every exception is an error of the run
            tally.errors.append(f"{kind} {target[:80]}: {type(exc).__name__}: {exc}")
            return 0, b""
        tally.latencies[kind].append(time.perf_counter() - started)
        tally.statuses[kind][status] = tally.statuses[kind].get(status, 0) + 1
        if status >= 500:
            tally.errors.append(f"{kind} {target[:80]}: {status} {body[:200]!r}")
        elif status == 200 and "etag" in answer_headers:
            etags[target] = answer_headers["etag"]
        return status, body

    def expect_json(kind: str, target: str, status: int, body: bytes) -> dict[str, Any] | None:
        if status != 200:
            if status:  # 0: already counted as an exception
                tally.errors.append(f"{kind} {target[:80]}: {status} (expected 200)")
            return None
        try:
            document = json.loads(body)
        except ValueError:
            tally.errors.append(f"{kind} {target[:80]}: 200 with invalid JSON {body[:100]!r}")
            return None
        if not isinstance(document, dict) or "data" not in document:
            tally.errors.append(f"{kind} {target[:80]}: 200 without data")
            return None
        return document

    try:
        for _ in range(MAX_REQUESTS_PER_CLIENT):
            if time.monotonic() >= deadline:
                break
            roll = rng.random()
            if roll < 0.4:
                target = "/stories?limit=10"
                status, body = timed("list", target)
                page = expect_json("list", target, status, body)
                cursor = page["meta"]["next_cursor"] if page else None
                if page is not None and len(page["data"]) != 10:
                    tally.errors.append(f"list: {len(page['data'])} stories on the first page")
                if cursor and time.monotonic() < deadline:
                    target = f"/stories?limit=10&cursor={cursor}"
                    status, body = timed("list", target)
                    expect_json("list", target, status, body)
            elif roll < 0.7 or not etags:
                slug = rng.choice(slugs)
                target = f"/stories/{slug}"
                status, body = timed("story", target)
                story = expect_json("story", target, status, body)
                if story is not None and story["data"]["slug"] != slug:
                    tally.errors.append(f"story {slug}: got {story['data']['slug']}")
            else:
                target, etag = rng.choice(list(etags.items()))
                status, body = timed("conditional", target, {"If-None-Match": etag})
                if status == 304 and body:
                    tally.errors.append(f"conditional {target[:80]}: 304 with a body")
                elif status and status != 304:
                    tally.errors.append(
                        f"conditional {target[:80]}: {status} for If-None-Match {etag}"
                    )
    finally:
        client.close()


@dataclass
class LoadResult:
    """A run's figures (``summary`` is what is written to JSON) and every error seen."""

    summary: dict[str, Any]
    errors: list[str]
    clients_alive: int

    @property
    def requests_per_second(self) -> float:
        return float(self.summary["requests_per_second"])

    @property
    def p99_ms(self) -> float:
        """The p99 latency over every request of the run, all kinds together."""
        return float(self.summary["p99_ms"])

    def statuses(self, kind: str) -> set[str]:
        return set(self.summary["kinds"][kind]["statuses"])


def run_load(api_url: str, clients: int, seconds: float, setup: str = "") -> LoadResult:
    """``clients`` readers (threads) against ``api_url`` for ``seconds``; the stack must be
    seeded with more than two pages of published stories."""
    api = urlsplit(api_url)
    if api.hostname != "127.0.0.1" or not api.port:
        raise ValueError(f"load goes to 127.0.0.1 only, not {api_url}")
    host, port = api.hostname, api.port
    warmup = Client(host, port)
    status, _, body = warmup.get("/stories?limit=50", {})
    warmup.close()
    if status != 200:
        raise RuntimeError(f"the API answered {status} to the warm-up request")
    slugs = [story["slug"] for story in json.loads(body)["data"]]

    etags: dict[str, str] = {}  # URL -> ETag, filled by every client
    tallies = [Tally() for _ in range(clients)]
    started = time.monotonic()
    deadline = started + seconds
    threads = [
        threading.Thread(
            target=run_client,
            args=(n, host, port, slugs, etags, deadline, tallies[n]),
            name=f"load-client-{n}",
            daemon=True,
        )
        for n in range(clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=max(0.0, deadline + 60 - time.monotonic()))
    elapsed = time.monotonic() - started

    latencies = {k: [v for t in tallies for v in t.latencies[k]] for k in KINDS}
    every = [v for values in latencies.values() for v in values]
    statuses: dict[str, dict[str, int]] = {k: {} for k in KINDS}
    for tally in tallies:
        for kind in KINDS:
            for code, count in tally.statuses[kind].items():
                statuses[kind][str(code)] = statuses[kind].get(str(code), 0) + count
    errors = [error for t in tallies for error in t.errors]
    summary: dict[str, Any] = {
        "clients": clients,
        "seconds": round(elapsed, 1),
        "requests": len(every),
        "requests_per_second": round(len(every) / elapsed, 1),
        "errors": len(errors),
        "p50_ms": round(percentile(every, 0.50) * 1000, 1) if every else None,
        "p99_ms": round(percentile(every, 0.99) * 1000, 1) if every else None,
        "kinds": {
            kind: {
                "requests": len(values),
                "p50_ms": round(percentile(values, 0.50) * 1000, 1) if values else None,
                "p99_ms": round(percentile(values, 0.99) * 1000, 1) if values else None,
                "max_ms": round(max(values) * 1000, 1) if values else None,
                "statuses": statuses[kind],
            }
            for kind, values in latencies.items()
        },
        "setup": setup,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
    }
    alive = sum(thread.is_alive() for thread in threads)
    return LoadResult(summary, errors, alive)


def summary_lines(result: LoadResult) -> list[str]:
    """The run in a few printable lines."""
    s = result.summary
    lines = [
        f"load: {s['clients']} clients, {s['seconds']} s, {s['requests']} requests, "
        f"{s['requests_per_second']} req/s, p50 {s['p50_ms']} ms, p99 {s['p99_ms']} ms, "
        f"{s['errors']} errors"
    ]
    for kind, row in s["kinds"].items():
        lines.append(
            f"  {kind:12s} {row['requests']:6d} requests  p50 {row['p50_ms']} ms  "
            f"p99 {row['p99_ms']} ms  max {row['max_ms']} ms  {row['statuses']}"
        )
    return lines


@dataclass(frozen=True)
class StackProcess:
    """``python -m devtools.dev`` running in its own process (its own GIL)."""

    api_url: str
    info: dict[str, str]
    process: subprocess.Popen[bytes]
    log: Path


@contextmanager
def dev_stack_process(state_dir: Path, *args: str) -> Iterator[StackProcess]:
    """``python -m devtools.dev --port 0 ARGS`` seeded with the samples, its state and log in
    ``state_dir``; yielded once ``stack.json`` is written, stopped with SIGTERM afterwards."""
    log = state_dir / "dev.log"
    env = {**os.environ, "DEV_STATE_DIR": str(state_dir)}
    env.pop("AWS_ENDPOINT_URL", None)
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 - this interpreter, our module
            [sys.executable, "-m", "devtools.dev", "--port", "0", *args],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        state = state_dir / "stack.json"  # written once the samples are seeded
        deadline = time.monotonic() + STARTUP_SECONDS
        info: dict[str, str] | None = None
        while info is None:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the dev stack did not start:\n{log.read_text()[-4000:]}")
            try:
                info = json.loads(state.read_text())
            except (FileNotFoundError, ValueError):  # not yet written, or half written
                time.sleep(0.1)
        yield StackProcess(info["api_url"], info, process, log)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
