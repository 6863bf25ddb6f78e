"""The local stack behind a real shared cache (nginx's proxy_cache, devtools/cdn.py) for
tests/cdn: requests through it or around it, uploads, and a record of every request that
reached the origin's functions."""

import json
import os
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from devtools.backend import free_port
from devtools.cdn import Cdn, nginx_binary, running_cdn, stack_env
from devtools.gateway import Container
from devtools.stack import Stack, start_stack
from newsroom.core import aws
from tests.support.tiers import unavailable


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def cache_status(self) -> str | None:
        """nginx's $upstream_cache_status: MISS, HIT, STALE, REVALIDATED, EXPIRED..."""
        return self.headers.get("X-Cache-Status")

    def json(self) -> Any:
        return json.loads(self.body)


def fetch(
    base: str,
    path: str,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
) -> Answer:
    request = urllib.request.Request(base + path, method=method, headers=headers or {}, data=body)
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return Answer(response.status, dict(response.headers.items()), response.read())
    except urllib.error.HTTPError as error:
        return Answer(error.code, dict(error.headers.items()), error.read())


@dataclass
class CachedStack:
    """The local stack (the origin) and the cache in front of it."""

    stack: Stack
    cdn: Cdn
    cache_seconds: int

    def through_cache(self, path: str, **kwargs: Any) -> Answer:
        return fetch(self.cdn.url, path, **kwargs)

    def at_origin(self, path: str, **kwargs: Any) -> Answer:
        """Straight to the local API Gateway, around the cache."""
        return fetch(self.stack.api_url, path, **kwargs)

    def upload(self, key: str, story: dict[str, Any]) -> dict[str, Any]:
        """Upload one story file through S3 and wait for its receipt (the real ingest)."""
        s3 = self.stack.backend.client("s3")
        s3.put_object(Bucket=self.stack.backend.bucket, Key=key, Body=json.dumps(story).encode())
        return self.stack.wait_for_receipt(key)


@contextmanager
def stack_behind_cdn(
    *, cache_seconds: int, seeded: bool = False, api_env: dict[str, str] | None = None
) -> Iterator[CachedStack]:
    """A stack whose API says ``CACHE_SECONDS=cache_seconds`` and links to the cache's URL,
    with nginx in front. Like tests/support/stack.py ``running_stack``, the environment and
    the cached AWS clients are restored afterwards."""
    if nginx_binary() is None:
        unavailable("nginx (the local CDN)", "not installed (fix: make nginx)")
    saved = dict(os.environ)
    aws.client.cache_clear()
    port = free_port()
    env = {**stack_env(f"http://127.0.0.1:{port}", cache_seconds), **(api_env or {})}
    stack = start_stack(port=0, api_env=env)
    try:
        if seeded:
            stack.seed()
        with running_cdn(stack.api_url, port=port) as cdn:
            yield CachedStack(stack, cdn, cache_seconds)
    finally:
        stack.stop()
        aws.client.cache_clear()
        os.environ.clear()
        os.environ.update(saved)


@dataclass
class OriginCalls:
    """Every API Gateway proxy event a function of the stack received (a pass-through
    recorder on the containers: the real handlers still answer)."""

    events: list[dict[str, Any]] = field(default_factory=list)

    def to(self, method: str, path: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["httpMethod"] == method and e["path"] == path]

    def query(self, event: dict[str, Any]) -> dict[str, list[str]]:
        return dict(event.get("multiValueQueryStringParameters") or {})


def record_origin_calls(monkeypatch: pytest.MonkeyPatch) -> OriginCalls:
    """Record every HTTP request the stack's functions receive from now on (undone with
    ``monkeypatch``)."""
    calls = OriginCalls()
    invoke = Container.invoke

    def recording(self: Container, event: dict[str, Any]) -> dict[str, Any]:
        if "httpMethod" in event:  # an HTTP request, not an S3 or SQS event
            calls.events.append(event)
        return invoke(self, event)

    monkeypatch.setattr(Container, "invoke", recording)
    return calls
