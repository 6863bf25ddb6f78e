"""What a cold start imports, measured in a fresh interpreter: the read path never loads
pydantic (about 100 ms of cold start). The import contracts in ``pyproject.toml`` check the
module graph; only a real import shows that the lazy imports (``read_api.openapi``) stay lazy.
"""

import json
import os
import subprocess
import sys

import pytest

from devtools.template import ROOT

# Runs in the child: loads the handler module as a new Lambda container would, then reports
# the pydantic modules it brought in.
_PROBE = """
import json, os, sys
from devtools.functions import load_function_module
from devtools.template import function_environment

for key, value in function_environment(sys.argv[2]).items():
    os.environ.setdefault(key, value)
load_function_module(sys.argv[1])
print(json.dumps(sorted(m for m in sys.modules if m.startswith("pydantic"))))
"""


def pydantic_modules_after_loading(name: str, logical_id: str) -> list[str]:
    """The ``pydantic*`` modules in ``sys.modules`` once ``functions/<name>/app.py`` is
    imported in a fresh interpreter (the environment of a container, with dummy AWS)."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT / "layers" / "common"),
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "STORIES_TABLE": "t",
        "SUBSCRIBERS_TABLE": "s",
    }
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, name, logical_id],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    modules: list[str] = json.loads(result.stdout.strip().splitlines()[-1])
    return modules


@pytest.mark.parametrize(
    ("name", "logical_id"),
    [
        ("api", "ApiFunction"),
        ("subscriptions", "SubscriptionsFunction"),
        ("digest", "DigestFunction"),
        ("digest_sender", "DigestSenderFunction"),
    ],
)
def test_read_path_functions_do_not_import_pydantic(name: str, logical_id: str) -> None:
    assert pydantic_modules_after_loading(name, logical_id) == []


def test_ingest_imports_pydantic_to_validate_stories() -> None:
    """The probe sees pydantic where it is meant to be: StoryIn validates uploads."""
    assert "pydantic" in pydantic_modules_after_loading("ingest", "IngestFunction")
