"""``template.yaml`` as CloudFormation really receives it: translated by SAM's own translator
(``samtranslator``, from aws-sam-translator), so tests see the roles, policies, permissions and
stages SAM generates, not just what the template spells out.

    python -m devtools.translate                      # the translated template as JSON
    python -m devtools.translate -p AlarmEmail=ops@example.com -o /tmp/cfn.json

``samtranslator`` pins old boto3/pydantic versions, so it never goes into the app's ``.venv``:
the translation runs in a subprocess with the Python of the SAM CLI's own environment (the one
``devtools.samlocal.find_sam`` finds). Nothing calls AWS: SAM's look-up of AWS managed policies
by name is answered by a fixed table (``MANAGED_POLICY_ARNS``), code locations are replaced by
fake S3 URIs as ``sam validate`` does, and pseudo parameters get fixed values
(``PSEUDO_PARAMETERS``).

``Resolver`` evaluates the intrinsic functions of a translated template (``Ref``,
``Fn::GetAtt``, ``Fn::Sub``, ``Fn::Join``, ``Fn::If``, conditions) for given parameter values,
so tests compare ARNs and names instead of the shapes of intrinsic functions. What CloudFormation
only knows after deployment stays symbolic: ``<StoriesTable.Arn>``, ``<IngestFunction>``.
"""

import argparse
import json
import os
import re
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from devtools.template import TEMPLATE_PATH

# The values pseudo parameters take in a translation (and in ``Resolver``).
PSEUDO_PARAMETERS: dict[str, str] = {
    "AWS::Region": "us-east-1",
    "AWS::AccountId": "123456789012",
    "AWS::StackName": "signal-noise",
    "AWS::StackId": (
        "arn:aws:cloudformation:us-east-1:123456789012:stack/signal-noise/"
        "00000000-0000-0000-0000-000000000000"
    ),
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
}
# What SAM's managed policy loader would find in IAM for the AWS managed policies a template may
# name (``Policies: [AWSLambdaBasicExecutionRole]``). The ones SAM attaches itself
# (basic execution, X-Ray) it writes as ARNs without asking the loader.
MANAGED_POLICY_ARNS: dict[str, str] = {
    name: f"arn:aws:iam::aws:policy/{path}"
    for name, path in {
        "AWSLambdaBasicExecutionRole": "service-role/AWSLambdaBasicExecutionRole",
        "AWSLambdaVPCAccessExecutionRole": "service-role/AWSLambdaVPCAccessExecutionRole",
        "AWSLambdaSQSQueueExecutionRole": "service-role/AWSLambdaSQSQueueExecutionRole",
        "AWSLambdaDynamoDBExecutionRole": "service-role/AWSLambdaDynamoDBExecutionRole",
        "AWSXRayDaemonWriteAccess": "AWSXRayDaemonWriteAccess",
        "AWSXrayWriteOnlyAccess": "AWSXrayWriteOnlyAccess",
        "CloudWatchLambdaInsightsExecutionRolePolicy": (
            "CloudWatchLambdaInsightsExecutionRolePolicy"
        ),
    }.items()
}
FAKE_CODE_URI = "s3://sam-translate-placeholder/"
# Runs in the SAM CLI's Python (any version SAM supports): reads the request as JSON on stdin,
# writes the translated template as JSON on stdout.
_CHILD = r"""
import json, sys
request = json.load(sys.stdin)
from samtranslator.model.exceptions import InvalidDocumentException
from samtranslator.translator.arn_generator import ArnGenerator
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

class ManagedPolicyLoader:
    def load(self):
        return dict(request["managed_policies"])

ArnGenerator.BOTO_SESSION_REGION_NAME = request["parameters"]["AWS::Region"]
with open(request["template"], encoding="utf-8") as handle:
    template = yaml_parse(handle.read())
# As `sam validate` does: the translator only accepts S3 locations for code.
uri_keys = {
    "AWS::Serverless::Function": "CodeUri",
    "AWS::Serverless::LayerVersion": "ContentUri",
    "AWS::Serverless::Api": "DefinitionUri",
    "AWS::Serverless::HttpApi": "DefinitionUri",
    "AWS::Serverless::StateMachine": "DefinitionUri",
}
def fake_uri(properties, key):
    value = properties.get(key)
    if isinstance(value, str) and not value.startswith("s3://"):
        properties[key] = request["code_uri"] + value.strip("./").rstrip("/")
function_globals = (template.get("Globals") or {}).get("Function") or {}
fake_uri(function_globals, "CodeUri")
for resource in (template.get("Resources") or {}).values():
    if isinstance(resource, dict) and resource.get("Type") in uri_keys:
        properties = resource.setdefault("Properties", {})
        if resource["Type"] != "AWS::Serverless::Function" or "CodeUri" in properties:
            fake_uri(properties, uri_keys[resource["Type"]])
try:
    translated = transform(template, request["parameters"], ManagedPolicyLoader())
except InvalidDocumentException as exc:
    for cause in exc.causes:
        print(f"sam translate: {cause.message}", file=sys.stderr)
    sys.exit(3)
json.dump(translated, sys.stdout, default=str)
"""


class TranslateError(RuntimeError):
    """SAM rejected the template (or the translation failed)."""


class SamUnavailableError(TranslateError):
    """No SAM CLI environment (with ``samtranslator``) to translate with."""


def sam_python(sam: Path | None = None) -> Path | None:
    """The Python of the SAM CLI's environment: ``python`` next to the ``sam`` found (or next
    to what it links to), else the interpreter its ``#!`` line names."""
    # devtools.samlocal brings the whole local stack (moto, the handlers): imported only here
    # and in translate(), so that ``Resolver`` stays cheap (the local gateway uses it).
    from devtools.samlocal import find_sam

    sam = sam or find_sam()
    if sam is None:
        return None
    candidates = [sam.parent / "python", sam.resolve().parent / "python"]
    try:
        first_line = sam.read_bytes()[:256].split(b"\n", 1)[0].decode()
    except (OSError, UnicodeDecodeError):
        first_line = ""
    if first_line.startswith("#!"):
        interpreter = first_line[2:].strip().split(" ", 1)[0]
        if "python" in Path(interpreter).name:
            candidates.append(Path(interpreter))
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def translate(
    template: Path = TEMPLATE_PATH,
    parameters: Mapping[str, str] | None = None,
    *,
    python: Path | None = None,
    timeout: float = 120,
) -> dict[str, Any]:
    """``template`` translated to plain CloudFormation by SAM's translator, with
    ``PSEUDO_PARAMETERS`` and ``parameters`` (template parameters not given keep their
    defaults. Raises ``SamUnavailableError`` when there is no SAM CLI environment to translate
    with, ``TranslateError`` when SAM rejects the template."""
    python = python or sam_python()
    if python is None:
        raise SamUnavailableError(
            "no SAM CLI environment with samtranslator: run `make sam-setup` (or install "
            "aws-sam-cli in its own venv and put `sam` on PATH, or set SAM_CLI)"
        )
    request = {
        "template": str(template),
        "parameters": {**PSEUDO_PARAMETERS, **(parameters or {})},
        "managed_policies": MANAGED_POLICY_ARNS,
        "code_uri": FAKE_CODE_URI,
    }
    from devtools.samlocal import sam_environment

    env = sam_environment()
    env.update(AWS_DEFAULT_REGION=PSEUDO_PARAMETERS["AWS::Region"], PYTHONNOUSERSITE="1")
    env.pop("PYTHONPATH", None)
    try:
        result = subprocess.run(  # noqa: S603 - the SAM environment's python, our own script
            [str(python), "-c", _CHILD],
            input=json.dumps(request),
            capture_output=True,
            text=True,
            env=env,
            timeout=timeout,
            check=False,
        )
    except OSError as exc:
        raise SamUnavailableError(f"{python}: {exc}") from exc
    except subprocess.TimeoutExpired as exc:
        raise TranslateError(f"{python}: {exc}") from exc
    if result.returncode != 0:
        detail = result.stderr.strip()[-2000:] or f"exit status {result.returncode}"
        if "No module named 'samtranslator" in detail:
            raise SamUnavailableError(f"{python} has no samtranslator (aws-sam-translator)")
        raise TranslateError(detail)
    translated: dict[str, Any] = json.loads(result.stdout)
    return translated


# -- evaluating intrinsic functions ------------------------------------------------------------


class _NoValue:
    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE: Any = _NoValue()
_SUB_VARIABLE = re.compile(r"\$\{([^}]+)\}")


class Resolver:
    """Evaluates a translated template's intrinsic functions for parameter values (the
    template's defaults, ``PSEUDO_PARAMETERS`` and ``parameters``).

    ``Ref`` of a parameter is its value; of a bucket with a ``BucketName``, that name; of an
    API Gateway stage, its ``StageName``; of anything else, ``<LogicalId>``. ``Fn::GetAtt`` of
    such a bucket's ``Arn`` is its ARN; any other attribute is ``<LogicalId.Attribute>``.
    ``Ref: AWS::NoValue`` is ``NO_VALUE`` (dropped from lists and mappings)."""

    def __init__(
        self, template: Mapping[str, Any], parameters: Mapping[str, str] | None = None
    ) -> None:
        self.template = template
        self.resources: Mapping[str, Any] = template.get("Resources", {})
        self.conditions: Mapping[str, Any] = template.get("Conditions", {})
        values = {
            name: str(spec["Default"])
            for name, spec in template.get("Parameters", {}).items()
            if "Default" in spec
        }
        values.update(PSEUDO_PARAMETERS)
        values.update(parameters or {})
        self.parameters = values

    def resolve(self, node: Any) -> Any:
        if isinstance(node, list):
            items = [self.resolve(item) for item in node]
            return [item for item in items if item is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, arg),) = node.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Fn::GetAtt":
                logical_id, attribute = arg.split(".", 1) if isinstance(arg, str) else arg
                return self.attribute(logical_id, self.resolve(attribute))
            if key == "Fn::Sub":
                return self.sub(arg)
            if key == "Fn::Join":
                separator, parts = arg
                return str(separator).join(str(p) for p in self.resolve(parts))
            if key == "Fn::If":
                name, if_true, if_false = arg
                return self.resolve(if_true if self.condition(name) else if_false)
            if key == "Fn::Select":
                index, items = arg
                return self.resolve(items)[int(self.resolve(index))]
            if key == "Fn::Split":
                separator, text = arg
                return str(self.resolve(text)).split(separator)
            if key.startswith("Fn::"):
                raise ValueError(f"cannot evaluate {key}: {arg!r}")
        resolved = {key: self.resolve(value) for key, value in node.items()}
        return {key: value for key, value in resolved.items() if value is not NO_VALUE}

    def ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.parameters:
            return self.parameters[name]
        resource = self.resources.get(name)
        if resource is None:
            raise KeyError(f"Ref to nothing: {name}")
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::S3::Bucket" and "BucketName" in properties:
            return self.resolve(properties["BucketName"])
        if resource["Type"] == "AWS::ApiGateway::Stage":
            return self.resolve(properties["StageName"])
        return f"<{name}>"

    def attribute(self, logical_id: str, attribute: str) -> str:
        resource = self.resources.get(logical_id)
        if resource is None:
            raise KeyError(f"Fn::GetAtt of nothing: {logical_id}.{attribute}")
        if resource["Type"] == "AWS::S3::Bucket" and attribute == "Arn":
            name = self.ref(logical_id)
            if not name.startswith("<"):
                return f"arn:{self.parameters['AWS::Partition']}:s3:::{name}"
        return f"<{logical_id}.{attribute}>"

    def sub(self, arg: Any) -> str:
        text, variables = (arg, {}) if isinstance(arg, str) else arg
        values = {name: self.resolve(value) for name, value in variables.items()}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in values:
                return str(values[name])
            if "." in name and name.split(".", 1)[0] in self.resources:
                return self.attribute(*name.split(".", 1))
            return str(self.ref(name))

        return _SUB_VARIABLE.sub(replace, text)

    def condition(self, name: str) -> bool:
        if name not in self.conditions:
            raise KeyError(f"no condition {name}")
        return self.evaluate(self.conditions[name])

    def evaluate(self, node: Any) -> bool:
        """A condition expression (``Fn::Equals``, ``Fn::Not``, ``Fn::And``, ``Fn::Or``,
        ``Condition``)."""
        ((key, arg),) = node.items()
        if key == "Condition":
            return self.condition(arg)
        if key == "Fn::Equals":
            left, right = (self.resolve(a) for a in arg)
            return bool(str(left) == str(right))
        if key == "Fn::Not":
            return not self.evaluate(arg[0])
        if key == "Fn::And":
            return all(self.evaluate(a) for a in arg)
        if key == "Fn::Or":
            return any(self.evaluate(a) for a in arg)
        raise ValueError(f"not a condition: {node!r}")

    def active(self, logical_id: str) -> bool:
        """Whether the resource is created (its ``Condition``, if any, holds)."""
        condition = self.resources[logical_id].get("Condition")
        return condition is None or self.condition(condition)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--template", type=Path, default=TEMPLATE_PATH)
    parser.add_argument("-p", "--parameter", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("-o", "--output", type=Path, help="write here instead of stdout")
    args = parser.parse_args(argv)
    parameters = dict(item.split("=", 1) for item in args.parameter)
    try:
        translated = translate(args.template, parameters)
    except TranslateError as exc:
        print(f"translate: {exc}", file=sys.stderr)
        return 1
    text = json.dumps(translated, indent=2) + "\n"
    if args.output:
        args.output.write_text(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
