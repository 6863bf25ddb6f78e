"""Reads ``template.yaml``, the single source of truth for the table, bucket and routes,
so tests and the local stack build their resources from it instead of copying it."""

from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_PATH = ROOT / "template.yaml"


class _CfnLoader(yaml.SafeLoader):
    """YAML loader that keeps CloudFormation's short-form tags as ``{"Fn::X": ...}``."""


def _tag(loader: yaml.Loader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CfnLoader.add_multi_constructor("!", _tag)


@cache
def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    """The parsed template (intrinsic functions kept as plain dicts)."""
    with path.open() as handle:
        template: dict[str, Any] = yaml.load(handle, Loader=_CfnLoader)  # noqa: S506 - SafeLoader
        return template


def resource(logical_id: str) -> dict[str, Any]:
    """One resource's ``Properties``."""
    return dict(load_template()["Resources"][logical_id].get("Properties", {}))


def parameter_default(name: str) -> Any:
    return load_template()["Parameters"][name].get("Default")


def create_table_kwargs(logical_id: str, table_name: str) -> dict[str, Any]:
    """``CreateTable`` arguments for a table declared in the template."""
    props = resource(logical_id)
    kwargs: dict[str, Any] = {
        "TableName": table_name,
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
    }
    if props.get("GlobalSecondaryIndexes"):
        kwargs["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
    return kwargs


def function_environment(logical_id: str) -> dict[str, str]:
    """A function's environment variables with template defaults resolved: Globals merged
    with the function's own; ``!Ref Parameter`` becomes the parameter's default. References
    to resources are left out (the caller supplies table and bucket names)."""
    template = load_template()
    variables: dict[str, Any] = dict(
        template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    )
    variables.update(resource(logical_id).get("Environment", {}).get("Variables", {}))
    resolved: dict[str, str] = {}
    for name, value in variables.items():
        if isinstance(value, dict) and "Ref" in value:
            if value["Ref"] not in template.get("Parameters", {}):
                continue
            value = parameter_default(value["Ref"])
        if isinstance(value, dict):
            continue
        resolved[name] = "" if value is None else str(value)
    return resolved


def s3_event_prefix(function_id: str) -> str:
    """The key prefix the function's S3 event filters on."""
    for event in resource(function_id).get("Events", {}).values():
        if event["Type"] == "S3":
            for rule in event["Properties"]["Filter"]["S3Key"]["Rules"]:
                if rule["Name"].lower() == "prefix":
                    return str(rule["Value"])
    raise LookupError(f"{function_id} has no S3 event with a prefix filter")
