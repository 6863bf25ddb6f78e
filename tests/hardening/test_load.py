"""The local stack under load: 50 concurrent keep-alive clients for LOAD_SECONDS (default 30)
against ``python -m devtools.dev`` running in its own process, seeded with the samples.

Three kinds of request, mixed: ``list`` (``/stories?limit=10``, then the page its
``next_cursor`` points to), ``story`` (``/stories/<slug>`` of a seeded story) and
``conditional`` (a URL seen before with its ``ETag`` in ``If-None-Match``: a 304). Every
answer is checked (no 5xx, no exception, 304s without a body, 200s valid JSON of the right
shape); p50/p99 latency per kind and the total rate are printed and written to
``.dev/load-results.json``. Traffic goes to 127.0.0.1 only, and every loop stops at the deadline.
"""

import gzip
import http.client
import json
import os
import platform
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest

from devtools.template import ROOT

CLIENTS = 50
SECONDS = float(os.environ.get("LOAD_SECONDS", "30"))
MAX_REQUESTS_PER_CLIENT = 1_000_000  # a second bound, besides the deadline
RESULTS = ROOT / ".dev" / "load-results.json"
KINDS = ("list", "story", "conditional")

pytestmark = pytest.mark.load


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


def percentile(values: list[float], fraction: float) -> float:
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
    rng = random.Random(number)  # a fixed mix per client
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


def test_fifty_clients_for_thirty_seconds(stack_process: Any) -> None:
    api = urlsplit(stack_process.api_url)
    assert api.hostname == "127.0.0.1" and api.port  # traffic to this machine only
    host, port = api.hostname, api.port
    warmup = Client(host, port)
    status, _, body = warmup.get("/stories?limit=50", {})
    warmup.close()
    assert status == 200
    slugs = [story["slug"] for story in json.loads(body)["data"]]
    assert len(slugs) > 20  # the published samples: more than two pages of 10

    etags: dict[str, str] = {}  # URL -> ETag, filled by every client
    tallies = [Tally() for _ in range(CLIENTS)]
    started = time.monotonic()
    deadline = started + SECONDS
    threads = [
        threading.Thread(
            target=run_client,
            args=(n, host, port, slugs, etags, deadline, tallies[n]),
            name=f"load-client-{n}",
            daemon=True,
        )
        for n in range(CLIENTS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=SECONDS + 60)
    elapsed = time.monotonic() - started
    assert not any(thread.is_alive() for thread in threads), "a client did not stop"
    assert stack_process.process.poll() is None, "the stack process died"

    latencies = {k: [v for t in tallies for v in t.latencies[k]] for k in KINDS}
    statuses: dict[str, dict[str, int]] = {k: {} for k in KINDS}
    for tally in tallies:
        for kind in KINDS:
            for code, count in tally.statuses[kind].items():
                statuses[kind][str(code)] = statuses[kind].get(str(code), 0) + count
    errors = [error for t in tallies for error in t.errors]
    total = sum(len(v) for v in latencies.values())
    results: dict[str, Any] = {
        "clients": CLIENTS,
        "seconds": round(elapsed, 1),
        "requests": total,
        "requests_per_second": round(total / elapsed, 1),
        "errors": len(errors),
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
        "setup": (
            "python -m devtools.dev in its own process: the local API Gateway (one API "
            "invocation at a time), moto as DynamoDB, the sample stories; clients: threads "
            "with keep-alive http.client connections, Accept-Encoding: gzip"
        ),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(
        f"\nload: {CLIENTS} clients, {elapsed:.1f} s, {total} requests, "
        f"{results['requests_per_second']} req/s, {len(errors)} errors"
    )
    for kind, row in results["kinds"].items():
        print(
            f"  {kind:12s} {row['requests']:6d} requests  p50 {row['p50_ms']} ms  "
            f"p99 {row['p99_ms']} ms  max {row['max_ms']} ms  {row['statuses']}"
        )
    print(f"  written to {RESULTS}")

    assert errors == [], errors[:20]
    for kind in KINDS:
        assert latencies[kind], f"no {kind} request ran"
    assert set(statuses["list"]) == {"200"}
    assert set(statuses["story"]) == {"200"}
    assert set(statuses["conditional"]) == {"304"}
