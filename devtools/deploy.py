"""``make deploy ENV=dev|prod``: ``sam build``, then ``sam deploy --config-env ENV`` with the
SAM CLI of its own environment (the one ``make sam-*`` use, never the app's ``.venv``).

    python -m devtools.deploy deploy dev [--profile P] [--region R] [--guided]
    python -m devtools.deploy api-url prod [--profile P] [--region R]   # the stack's PublicUrl

Unlike ``devtools.samlocal``, which gives sam dummy credentials, this keeps the caller's AWS
credentials and profile: it deploys to a real account. The environment's overrides are checked
against the template first (a wrong value fails here, not half-way through a change set).
"""

import argparse
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from devtools import samconfig
from devtools.samlocal import SamLocalError, find_sam, python_bin_dir
from devtools.template import ROOT


class DeployError(RuntimeError):
    """Something stops the deploy; the message says what to do."""


def sam_environment(base: dict[str, str] | None = None) -> dict[str, str]:
    """The caller's environment (credentials, profile) for sam, with no telemetry and a
    ``python3.13`` first on ``PATH`` (``sam build`` looks for one)."""
    env = dict(os.environ if base is None else base)
    if env.get("AWS_ENDPOINT_URL"):
        raise DeployError(
            f"AWS_ENDPOINT_URL is set ({env['AWS_ENDPOINT_URL']}): sam would deploy there, "
            "not to AWS. Unset it to deploy."
        )
    env["SAM_CLI_TELEMETRY"] = "0"
    env["PATH"] = f"{python_bin_dir()}{os.pathsep}{env.get('PATH', '')}"
    return env


def aws_options(profile: str | None, region: str | None) -> list[str]:
    return [*(["--profile", profile] if profile else []), *(["--region", region] if region else [])]


def deploy(
    env_name: str,
    *,
    profile: str | None = None,
    region: str | None = None,
    guided: bool = False,
    sam: Path | None = None,
    config: Path = samconfig.SAMCONFIG_PATH,
) -> int:
    """Build, then deploy ``env_name`` of ``config`` (``guided``: SAM CLI asks every question,
    with the environment's values as defaults); returns sam's exit status."""
    settings = samconfig.deploy_settings(env_name, config)
    problems = samconfig.override_problems(env_name, config)
    if problems:
        raise DeployError("samconfig.toml: " + "; ".join(problems))
    executable = sam or find_sam(install=True)
    if executable is None:
        raise DeployError("no SAM CLI: run make sam-setup")
    env = sam_environment()
    commands = [
        [str(executable), "build"],
        [
            str(executable),
            "deploy",
            *(["--guided"] if guided else []),
            "--config-file",
            str(config),
            "--config-env",
            env_name,
            *aws_options(profile, region),
        ],
    ]
    for command in commands:
        print("deploy: " + " ".join(command[1:]), file=sys.stderr, flush=True)
        result = subprocess.run(command, cwd=ROOT, env=env, check=False)  # noqa: S603
        if result.returncode != 0:
            return result.returncode
    stack = str(settings["stack_name"])
    try:
        url = api_url(stack, profile=profile, region=region or settings.get("region"))
    except DeployError as exc:
        print(f"deploy: deployed {stack}; {exc}", file=sys.stderr)
        return 0
    print(f"deploy: {stack} serves {url}")
    print(f"deploy: verify it with: make smoke URL={url} ENV={env_name}")
    return 0


def api_url(stack: str, *, profile: str | None = None, region: Any = None) -> str:
    """The URL clients call: the stack's ``PublicUrl`` output (the CDN; the execute-api URL
    refuses them when the CDN is on), or ``ApiUrl`` for a stack deployed before it."""
    session = boto3.Session(profile_name=profile, region_name=region)
    try:
        described = session.client("cloudformation").describe_stacks(StackName=stack)
    except (ClientError, BotoCoreError) as exc:
        raise DeployError(f"cannot read the outputs of stack {stack}: {exc}") from None
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described["Stacks"][0].get("Outputs", [])}
    for key in ("PublicUrl", "ApiUrl"):
        if key in outputs:
            return str(outputs[key])
    raise DeployError(f"stack {stack} has no ApiUrl output (not deployed yet?)")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.deploy",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for name, help_text in (
        ("deploy", "sam build + sam deploy --config-env ENV"),
        ("api-url", "print the PublicUrl output of ENV's stack (the URL clients call)"),
    ):
        command = commands.add_parser(name, help=help_text)
        command.add_argument("env", help="a samconfig.toml environment: dev or prod")
        command.add_argument("--profile", help="AWS profile (default: the usual credential chain)")
        command.add_argument("--region", help="AWS region (default: the environment's)")
        if name == "deploy":
            command.add_argument(
                "--guided", action="store_true", help="sam deploy --guided: review every value"
            )
    args = parser.parse_args(argv)
    try:
        if args.command == "deploy":
            return deploy(args.env, profile=args.profile, region=args.region, guided=args.guided)
        settings = samconfig.deploy_settings(args.env)
        region = args.region or settings.get("region")
        print(api_url(str(settings["stack_name"]), profile=args.profile, region=region))
        return 0
    except (DeployError, SamLocalError, samconfig.SamConfigError) as exc:
        print(f"deploy: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
