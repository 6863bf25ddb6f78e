"""Fixtures for the ``samlocal`` tests: the real SAM CLI (``sam validate``, ``sam build``,
``sam local invoke`` / ``start-api`` in Docker) against the seeded embedded backend.

Without a Docker engine, the Lambda python3.13 image or a SAM CLI that honours
``--docker-network host``, the tests are skipped with the reason; with ``CI=true`` they fail
instead (CI must run them: ``.ci/run`` prepares Docker and SAM first).
"""

import os
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, NoReturn

import pytest

from devtools import samlocal
from newsroom.core import aws
from tests.support import tiers
from tests.support.samlocal import (
    INVOKE_WORKERS,
    RETRIED,
    TIMINGS,
    Backend,
    Build,
    Invocation,
    invoke,
)


def unavailable(reason: str) -> NoReturn:
    tiers.unavailable("sam local", reason)


@pytest.fixture(scope="session")
def sam_cli() -> samlocal.SamCli:
    """A SAM CLI (no Docker needed yet): validate and build."""
    executable = samlocal.find_sam()
    if executable is None:
        unavailable(
            "no SAM CLI found (offline tool's venv, PATH, .tools/sam): run `make sam-setup`"
        )
    sam = samlocal.SamCli.create(executable)
    if sam.python_problem:
        unavailable(f"sam build needs python3.13: {sam.python_problem}")
    return sam


@pytest.fixture(scope="session")
def sam(sam_cli: samlocal.SamCli) -> samlocal.SamCli:
    """A SAM CLI that can run the functions in Docker on the host's network."""
    problem = samlocal.docker_status()
    if problem:
        unavailable(f"{problem} (run `make sam-setup`)")
    if not samlocal.lambda_image_present() and not samlocal.pull_lambda_image():
        unavailable(
            f"{samlocal.LAMBDA_IMAGE} is not there and cannot be pulled (run `make sam-setup`)"
        )
    if not samlocal.host_network_works(sam_cli.executable):
        unavailable(
            f"{sam_cli.executable} leaves Lambda containers on Docker's bridge despite "
            "--docker-network host (aws/aws-sam-cli#4236), so the functions cannot reach the "
            "backend on 127.0.0.1: use the sam of ../shared/tools/sam-local-offline.sh"
        )
    return sam_cli


@pytest.fixture(scope="session")
def sam_build(sam_cli: samlocal.SamCli, tmp_path_factory: pytest.TempPathFactory) -> Build:
    """One ``sam build`` per session, into a temporary build directory."""
    directory = tmp_path_factory.mktemp("sam-build") / "build"
    started = time.monotonic()
    result = sam_cli.build(directory, capture=True)
    build = Build(directory, result.returncode, result.stdout + result.stderr, 0.0)
    build.seconds = TIMINGS["sam build"] = time.monotonic() - started
    return build


@pytest.fixture(scope="session")
def built_template(sam_build: Build) -> Path:
    if sam_build.returncode != 0:
        pytest.fail(f"sam build failed:\n{sam_build.output[-3000:]}", pytrace=False)
    return sam_build.template


# Module scope: the stack's notification thread must not outlive these tests (later tests
# patch botocore with moto's mock_aws).
@pytest.fixture(scope="module")
def backend(sam: samlocal.SamCli, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    """The embedded backend seeded with the samples (plus the objects events/ name), and the
    ``--env-vars`` file for sam."""
    env_file = tmp_path_factory.mktemp("sam-env") / "sam-env.json"
    saved = dict(os.environ)
    with samlocal.seeded_backend(env_file) as stack:
        os.environ.clear()  # start_backend exported its endpoint and credentials
        os.environ.update(saved)
        yield Backend(stack, env_file)
        leftovers = samlocal.lambda_containers_using(stack.backend.endpoint_url)
        samlocal.remove_containers(leftovers)
    aws.client.cache_clear()  # its clients point at the stopped backend
    if leftovers:
        pytest.fail(f"sam left Lambda containers behind: {leftovers}", pytrace=False)


@pytest.fixture(scope="module")
def invocations(
    sam: samlocal.SamCli, built_template: Path, backend: Backend
) -> dict[str, Invocation]:
    """``sam local invoke`` of every file in events/ against the seeded backend: the first
    alone (sam builds the function image with the layer), the rest in parallel."""
    env_file = backend.env_file
    events = sorted(samlocal.EVENTS_DIR.glob("*.json"))
    started = time.monotonic()
    done = {events[0].name: invoke(sam, built_template, env_file, events[0])}
    with ThreadPoolExecutor(INVOKE_WORKERS) as pool:
        for item in pool.map(lambda e: invoke(sam, built_template, env_file, e), events[1:]):
            done[item.event.name] = item
    TIMINGS["all invokes (wall clock)"] = time.monotonic() - started
    return done


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not TIMINGS:
        return
    terminalreporter.section("sam local timings")
    for name, seconds in TIMINGS.items():
        terminalreporter.write_line(f"{seconds:6.1f} s  {name}")
    if RETRIED:
        terminalreporter.write_line(f"retried after a timed-out cold start: {RETRIED}")
