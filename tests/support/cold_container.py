"""Run a probe in a fresh interpreter that loads ``functions/<name>/app.py`` as a new Lambda
container would: the function's template variables, dummy AWS credentials, tracing off unless
asked (then the variables Lambda sets with active tracing). The probe prints one JSON document
on its last line; its arguments are the function's folder and logical id."""

import json
import os
import subprocess
import sys
from typing import Any

from devtools.template import ROOT

# The probe's first lines: the handler module loaded with the function's variables.
LOAD_HANDLER = """
import json, os, sys
from devtools.functions import load_function_module
from devtools.template import function_environment

for key, value in function_environment(sys.argv[2]).items():
    os.environ.setdefault(key, value)
"""


def run_in_cold_container(probe: str, name: str, logical_id: str, tracing: bool = False) -> Any:
    """The JSON the probe printed last (the probe fails the test if it exits non-zero)."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT / "layers" / "common"),
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "STORIES_TABLE": "t",
        "SUBSCRIBERS_TABLE": "s",
        # What the template's references resolve to (StoryEventsFunction requires them).
        "STORY_EVENT_BUS": "b",
        "PUBLISH_SCHEDULE_GROUP": "g",
        "PUBLISH_SCHEDULER_ROLE_ARN": "arn:aws:iam::123456789012:role/r",
    }
    if tracing:  # what Lambda sets (the X-Ray SDK takes Lambda's sampling when it sees them)
        env.update(
            {
                "AWS_LAMBDA_FUNCTION_NAME": f"probe-{logical_id}",
                "LAMBDA_TASK_ROOT": str(ROOT / "functions" / name),
                "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
                "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
            }
        )
    else:
        env["POWERTOOLS_TRACE_DISABLED"] = "true"
    result = subprocess.run(
        [sys.executable, "-c", probe, name, logical_id],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])
