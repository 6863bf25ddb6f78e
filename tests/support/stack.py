"""``make dev``'s stack (embedded backend, real ingest, local API Gateway) in the test process."""

import os
from collections.abc import Iterator
from contextlib import contextmanager

from devtools.stack import Stack, start_stack
from newsroom.core import aws


@contextmanager
def running_stack(
    *, seeded: bool = True, api_containers: int = 4, workers: bool = False
) -> Iterator[Stack]:
    """A stack on free loopback ports, with the sample stories stored through S3 and the real
    ingest when ``seeded``; with ``workers``, as ``make dev`` runs it (a process per function
    container, moto in its own), else all in this process (moto's state readable here). The
    stack points ``AWS_ENDPOINT_URL`` and the credentials at its
    backend: the environment and the cached clients (which would point at a dead endpoint)
    are restored afterwards."""
    saved = dict(os.environ)
    aws.client.cache_clear()
    stack = start_stack(port=0, api_containers=api_containers, workers=workers)
    try:
        if seeded:
            stack.seed()
        yield stack
    finally:
        stack.stop()
        aws.client.cache_clear()
        os.environ.clear()
        os.environ.update(saved)
