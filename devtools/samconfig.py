"""``samconfig.toml``, the deploy settings of each environment (``dev``, ``prod``): what SAM
CLI reads for ``sam deploy --config-env ENV``, and the template parameters that environment
deploys with (its overrides over the template's defaults).

    python -m devtools.samconfig parameter prod CorsAllowedOrigins   # the value prod deploys
    python -m devtools.samconfig check                              # every override allowed?
"""

import argparse
import re
import shlex
import sys
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

from devtools.template import ROOT, load_template

SAMCONFIG_PATH = ROOT / "samconfig.toml"


class SamConfigError(ValueError):
    """An environment or an override that cannot be deployed; the message says why."""


@cache
def load_samconfig(path: Path = SAMCONFIG_PATH) -> dict[str, Any]:
    with path.open("rb") as handle:
        return tomllib.load(handle)


def environments(path: Path = SAMCONFIG_PATH) -> list[str]:
    """The environments ``sam deploy --config-env`` can deploy (those with a stack name)."""
    return [env for env in load_samconfig(path) if _deploy_section(env, path).get("stack_name")]


def _deploy_section(env: str, path: Path) -> dict[str, Any]:
    config = load_samconfig(path).get(env)
    if not isinstance(config, dict):
        return {}
    # SAM CLI merges [env.global.parameters] under [env.deploy.parameters].
    merged: dict[str, Any] = dict(config.get("global", {}).get("parameters", {}))
    merged.update(config.get("deploy", {}).get("parameters", {}))
    return merged


def deploy_settings(env: str, path: Path = SAMCONFIG_PATH) -> dict[str, Any]:
    """``sam deploy``'s settings for ``env`` (stack_name, region, parameter_overrides...)."""
    settings = _deploy_section(env, path)
    if not settings.get("stack_name"):
        known = ", ".join(environments(path)) or "none"
        raise SamConfigError(f"samconfig.toml has no deploy environment {env!r} (known: {known})")
    return settings


def parameter_overrides(env: str, path: Path = SAMCONFIG_PATH) -> dict[str, str]:
    """``parameter_overrides`` of ``env`` as SAM CLI reads them: a string or a list of
    strings of space-separated ``Key=Value`` pairs, a value with spaces in quotes."""
    raw = deploy_settings(env, path).get("parameter_overrides", [])
    items = [raw] if isinstance(raw, str) else list(raw)
    overrides: dict[str, str] = {}
    for item in items:
        for token in shlex.split(str(item)):
            key, sep, value = token.partition("=")
            if not sep or not key:
                raise SamConfigError(f"{env}: parameter override {token!r} is not Key=Value")
            overrides[key] = value
    return overrides


def deploy_parameters(env: str, path: Path = SAMCONFIG_PATH) -> dict[str, str]:
    """Every template parameter as ``env`` deploys it: its override, else the default."""
    declared = load_template()["Parameters"]
    values = {
        name: "" if spec.get("Default") is None else str(spec["Default"])
        for name, spec in declared.items()
    }
    values.update(parameter_overrides(env, path))
    return values


def parameter_problems(name: str, value: str) -> list[str]:
    """Why CloudFormation would refuse ``value`` for the template parameter ``name`` (its
    Type, AllowedValues, AllowedPattern, Min/MaxLength, Min/MaxValue); empty when allowed."""
    declared = load_template()["Parameters"]
    if name not in declared:
        return [f"{name}: the template declares no such parameter"]
    spec = declared[name]
    problems: list[str] = []
    allowed = spec.get("AllowedValues")
    if allowed is not None and value not in [str(v) for v in allowed]:
        problems.append(f"{name}={value!r}: must be one of {', '.join(map(str, allowed))}")
    if spec.get("Type") == "Number":
        try:
            number = float(value)
        except ValueError:
            return [*problems, f"{name}={value!r}: must be a number"]
        if "MinValue" in spec and number < float(spec["MinValue"]):
            problems.append(f"{name}={value}: must be at least {spec['MinValue']}")
        if "MaxValue" in spec and number > float(spec["MaxValue"]):
            problems.append(f"{name}={value}: must be at most {spec['MaxValue']}")
    else:
        if "MinLength" in spec and len(value) < int(spec["MinLength"]):
            problems.append(f"{name}: must be at least {spec['MinLength']} characters")
        if "MaxLength" in spec and len(value) > int(spec["MaxLength"]):
            problems.append(f"{name}: must be at most {spec['MaxLength']} characters")
        pattern = spec.get("AllowedPattern")
        if pattern is not None and not re.fullmatch(str(pattern), value):
            problems.append(f"{name}={value!r}: must match {pattern}")
    return problems


def override_problems(env: str, path: Path = SAMCONFIG_PATH) -> list[str]:
    """Every problem of ``env``'s overrides (see ``parameter_problems``)."""
    problems: list[str] = []
    for name, value in parameter_overrides(env, path).items():
        problems.extend(f"{env}: {p}" for p in parameter_problems(name, value))
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.samconfig", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    get = commands.add_parser("parameter", help="print the value ENV deploys a parameter with")
    get.add_argument("env")
    get.add_argument("name")
    commands.add_parser("check", help="check every environment's overrides against the template")
    args = parser.parse_args(argv)
    try:
        if args.command == "parameter":
            values = deploy_parameters(args.env)
            if args.name not in values:
                raise SamConfigError(f"the template declares no parameter {args.name}")
            print(values[args.name])
            return 0
        problems = [p for env in environments() for p in override_problems(env)]
    except SamConfigError as exc:
        print(f"samconfig: {exc}", file=sys.stderr)
        return 2
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
