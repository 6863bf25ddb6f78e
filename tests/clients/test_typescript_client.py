"""The TypeScript client (clients/typescript): built with tsc, its Node tests run against the
local stack, and its committed types are what openapi-typescript makes of the document."""

import os
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from devtools.stack import Stack
from devtools.template import ROOT

CLIENT = ROOT / "clients" / "typescript"
DOCUMENT = ROOT / "layers" / "common" / "newsroom" / "openapi.json"  # as `npm run generate`
COMMITTED_TYPES = CLIENT / "src" / "schema.d.ts"
CONFIRM_SUBJECT = "Confirm your SIGNAL/NOISE subscription"
TIMEOUT = 300


@dataclass(frozen=True)
class NodeRun:
    signup_address: str
    returncode: int
    output: str


def _run(command: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command,
        cwd=CLIENT,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


@pytest.fixture(scope="module")
def node_tests(node_bin: Path, stack: Stack) -> NodeRun:
    """``npm run build`` then ``npm test`` against the stack (once for the module)."""
    build = _run(["npm", "run", "build"])
    if build.returncode != 0:
        pytest.fail(f"npm run build failed:\n{build.stdout}\n{build.stderr}", pytrace=False)
    address = f"reader-ts-client-{uuid.uuid4().hex[:10]}@example.com"
    env = {**os.environ, "SIGNAL_NOISE_API_URL": stack.api_url, "SIGNAL_NOISE_TEST_EMAIL": address}
    tests = _run(["npm", "test"], env)
    return NodeRun(address, tests.returncode, f"{tests.stdout}\n{tests.stderr}")


def test_the_node_tests_pass_against_the_local_stack(node_tests: NodeRun) -> None:
    assert node_tests.returncode == 0, f"npm test failed:\n{node_tests.output}"
    assert "# SKIP" not in node_tests.output, f"a Node test was skipped:\n{node_tests.output}"


def test_a_signup_from_node_sends_one_confirmation_email(node_tests: NodeRun, stack: Stack) -> None:
    sent = [
        m
        for m in stack.sent_emails()
        if m["to"] == node_tests.signup_address and m["subject"] == CONFIRM_SUBJECT
    ]
    assert len(sent) == 1, f"confirmation emails to {node_tests.signup_address}: {sent}"


def test_the_committed_types_are_generated_from_the_openapi_document(
    node_bin: Path, tmp_path: Path
) -> None:
    generated = tmp_path / "schema.d.ts"
    result = _run([str(node_bin / "openapi-typescript"), str(DOCUMENT), "-o", str(generated)])
    assert result.returncode == 0, f"openapi-typescript failed:\n{result.stdout}\n{result.stderr}"
    assert generated.read_text() == COMMITTED_TYPES.read_text(), (
        f"{COMMITTED_TYPES.relative_to(ROOT)} differs from what openapi-typescript"
        f" makes of {DOCUMENT.relative_to(ROOT)}: run npm run generate"
        " in clients/typescript (or make client) and commit the result"
    )
