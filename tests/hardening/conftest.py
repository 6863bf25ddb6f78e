"""Stack fixtures for the hardening tests: the local stack (``make dev``) seeded with the sample
stories, either in this process or as a separate ``python -m devtools.dev`` process.

moto keeps its state per process and every stack resets it when it starts, so at most one
in-process stack may run at a time: the fixtures are module-scoped (each module gets a fresh
stack, stopped before the next module starts its own)."""

from collections.abc import Iterator

import pytest

from devtools.load import StackProcess, dev_stack_process
from devtools.stack import Stack
from tests.support.stack import running_stack


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    """The local stack in this process, seeded with the samples through S3 -> ingest."""
    with running_stack() as running:
        yield running


@pytest.fixture(scope="module")
def stack_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackProcess]:
    """The local stack as a separate process, as ``make dev`` runs it (one process per
    function container, moto in its own), seeded with the samples; stopped with SIGTERM."""
    with dev_stack_process(tmp_path_factory.mktemp("dev-state")) as running:
        yield running
