"""Stack fixtures for the hardening tests: the local stack (``make dev``) seeded with the sample
stories, either in this process or as a separate ``python -m devtools.dev`` process.

moto keeps its state per process and every stack resets it when it starts, so at most one
in-process stack may run at a time: the fixtures are module-scoped (each module gets a fresh
stack, stopped before the next module starts its own)."""

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from devtools.stack import Stack
from devtools.template import ROOT
from tests.support.stack import running_stack


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    """The local stack in this process, seeded with the samples through S3 -> ingest."""
    with running_stack() as running:
        yield running


@dataclass(frozen=True)
class StackProcess:
    """``python -m devtools.dev`` running in its own process (its own GIL)."""

    api_url: str
    info: dict[str, str]
    process: subprocess.Popen[bytes]
    log: Path


@pytest.fixture(scope="module")
def stack_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackProcess]:
    """The local stack as a separate process, seeded with the samples; stopped with SIGTERM."""
    state_dir = tmp_path_factory.mktemp("dev-state")
    log = state_dir / "dev.log"
    env = {**os.environ, "DEV_STATE_DIR": str(state_dir)}
    env.pop("AWS_ENDPOINT_URL", None)
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "devtools.dev", "--port", "0"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        state = state_dir / "stack.json"  # written once the samples are seeded
        deadline = time.monotonic() + 120
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
