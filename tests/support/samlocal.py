"""Shared by the samlocal tests and their fixtures (one module, so one ``TIMINGS``)."""

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from devtools import samlocal
from devtools.stack import Stack
from devtools.template import load_template

INVOKE_WORKERS = 2  # 2 cores: more parallel cold starts only queue for the CPU
INVOKE_TIMEOUT = 180  # s per sam local invoke (the ingest function's own timeout is 300 s)
TIMINGS: dict[str, float] = {}  # printed in the terminal summary
RETRIED: list[str] = []


@dataclass
class Build:
    directory: Path
    returncode: int
    output: str
    seconds: float

    @property
    def template(self) -> Path:
        return self.directory / "template.yaml"


@dataclass
class Backend:
    stack: Stack
    env_file: Path  # the --env-vars file pointing the functions at it


@dataclass
class Invocation:
    event: Path
    function: str
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    attempts: int

    def result(self) -> Any:
        try:
            return samlocal.parse_invoke_result(self.stdout)
        except ValueError as exc:
            pytest.fail(
                f"sam local invoke {self.function} -e {self.event.name}: no result ({exc}); "
                f"exit {self.returncode}\nstdout: {self.stdout[-1000:]}\n"
                f"stderr: {self.stderr[-3000:]}",
                pytrace=False,
            )


def function_for(event: Path) -> str:
    """The function the event goes to, as the template routes it: S3 notifications to the
    function with the S3 event, API Gateway events to the function declaring the route,
    EventBridge scheduled events to the function with the schedule, SNS notifications to the
    function subscribed to the topic, SQS records to the function of the queue's mapping."""
    body = json.loads(event.read_text())
    if body.get("Records") and body["Records"][0].get("eventSource") == "aws:sqs":
        # SQS records go to the function of the event source mapping on their queue, named
        # by CloudFormation as <stack>-<LogicalId>-<suffix>.
        queue = body["Records"][0]["eventSourceARN"].rsplit(":", 1)[-1]
        (mapping,) = [
            res["Properties"]
            for res in load_template()["Resources"].values()
            if res["Type"] == "AWS::Lambda::EventSourceMapping"
            and f"-{res['Properties']['EventSourceArn']['Fn::GetAtt'][0]}-" in queue
        ]
        return str(mapping["FunctionName"]["Ref"])
    if body.get("Records") and body["Records"][0].get("EventSource") == "aws:sns":
        kind, wanted = "SNS", None  # SNS notifications to the function subscribed to the topic
    elif "Records" in body or body.get("Event") == "s3:TestEvent":
        kind, wanted = "S3", None
    elif body.get("detail-type") == "Scheduled Event":
        kind, wanted = "Schedule", None
    else:
        kind, wanted = "Api", (body["httpMethod"].upper(), body["resource"])
    found: list[str] = [
        logical_id
        for logical_id, res in load_template()["Resources"].items()
        if res["Type"] == "AWS::Serverless::Function"
        for declared in res["Properties"].get("Events", {}).values()
        if declared["Type"] == kind
        and (
            wanted is None
            or (declared["Properties"]["Method"].upper(), declared["Properties"]["Path"]) == wanted
        )
    ]
    if len(set(found)) != 1:
        raise LookupError(f"events/{event.name}: no single function takes it ({found})")
    return found[0]


def timed_out(result: Any) -> bool:
    """A cold start that outlived the function's timeout on a busy machine (sam local
    invoke then prints no result and still exits 0)."""
    return bool(
        result.returncode == 124
        or ("timed out after" in result.stderr and not result.stdout.strip())
    )


def invoke(sam: samlocal.SamCli, template: Path, env_file: Path, event: Path) -> Invocation:
    function = function_for(event)
    started = time.monotonic()
    for attempt in (1, 2):  # one retry, only for a timed-out cold start
        result = sam.invoke(
            function, event, template=template, env_file=env_file, timeout=INVOKE_TIMEOUT
        )
        if not timed_out(result) or attempt == 2:
            break
        RETRIED.append(event.name)
    seconds = TIMINGS[f"sam local invoke {event.name}"] = time.monotonic() - started
    return Invocation(
        event, function, result.returncode, result.stdout, result.stderr, seconds, attempt
    )
