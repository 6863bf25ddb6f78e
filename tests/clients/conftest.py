"""The TypeScript client's tests (clients/typescript): Node's test runner against the local
stack with the sample stories, and the committed types against the OpenAPI document.

Node, npm and the root ``node_modules`` (``npm install``: TypeScript, openapi-typescript) are
needed; without them the tests are skipped, except under CI (CI=true), where they fail.
"""

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.stack import Stack
from devtools.template import ROOT
from tests.support.stack import running_stack
from tests.support.tiers import unavailable

MIN_NODE = 20  # global fetch, node --test, Response.json
BIN = ROOT / "node_modules" / ".bin"  # npm workspaces install the client's tools at the root


@pytest.fixture(scope="session")
def node_bin() -> Path:
    """The root ``node_modules/.bin`` (tsc, openapi-typescript), with node and npm on PATH."""
    found = {name: shutil.which(name) for name in ("node", "npm")}
    missing = [name for name, path in found.items() if path is None]
    if missing:
        unavailable(f"Node.js {MIN_NODE}+ and npm", f"{' and '.join(missing)} not on PATH")
    version = subprocess.run(
        [str(found["node"]), "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()  # "v20.20.2"
    if int(version.lstrip("v").split(".")[0] or 0) < MIN_NODE:
        unavailable(f"Node.js {MIN_NODE}+", f"node is {version or 'unknown'}")
    for tool in ("tsc", "openapi-typescript"):
        if not (BIN / tool).exists():
            unavailable("the npm dev dependencies", f"no {BIN / tool} (fix: npm install)")
    return BIN


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    """The local stack with the sample stories (the API the Node tests call)."""
    with running_stack() as running:
        yield running
