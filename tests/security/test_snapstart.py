"""Lambda SnapStart for the REST functions (``EnableSnapStart``), as SAM's translation of
``template.yaml`` gives it, held to Lambda's rules ("Improving startup performance with Lambda
SnapStart", "Supported features and limitations", in the Lambda developer guide): SnapStart
applies to published versions and to aliases that point to them, never to ``$LATEST``; Python
3.12 and later; no provisioned concurrency, no Amazon EFS, ephemeral storage of 512 MB at
most. So API Gateway must invoke the alias, or the snapshot would never serve a request."""

import re
from typing import Any

from devtools.translate import Resolver
from tests.support.translated import props, resources_of_type

SNAPSTART_FUNCTIONS = {"ApiFunction", "SubscriptionsFunction"}


def alias_of(translated: dict[str, Any]) -> dict[str, str]:
    """Function logical id -> the logical id of its alias."""
    return {
        props(translated, alias)["FunctionName"]["Ref"]: alias
        for alias in resources_of_type(translated, "AWS::Lambda::Alias")
    }


def test_snapstart_is_off_by_default_and_on_with_the_parameter(translated: dict[str, Any]) -> None:
    off, on = Resolver(translated), Resolver(translated, {"EnableSnapStart": "true"})
    for function in resources_of_type(translated, "AWS::Lambda::Function"):
        setting = props(translated, function).get("SnapStart")
        if function in SNAPSTART_FUNCTIONS:
            assert off.resolve(setting) == {"ApplyOn": "None"}, function
            assert on.resolve(setting) == {"ApplyOn": "PublishedVersions"}, function
        else:  # invoked asynchronously (S3, SQS, SNS, schedule): a cold start delays no reader
            assert setting is None, function


def test_each_snapstart_function_has_an_alias_on_a_published_version_of_itself(
    translated: dict[str, Any],
) -> None:
    aliases = alias_of(translated)
    versions = resources_of_type(translated, "AWS::Lambda::Version")
    for function in SNAPSTART_FUNCTIONS:
        alias = props(translated, aliases[function])
        version_id = alias["FunctionVersion"]["Fn::GetAtt"][0]
        assert props(translated, version_id)["FunctionName"] == {"Ref": function}
        assert version_id in versions


def test_api_gateway_invokes_the_alias_never_latest(
    translated: dict[str, Any], resolver: Resolver
) -> None:
    aliases = alias_of(translated)
    invoked = re.compile(r".*/functions/\$\{([A-Za-z0-9]+)(\.Arn)?\}/invocations")
    targets = set()
    for methods in props(translated, "ContentApi")["Body"]["paths"].values():
        for operation in methods.values():
            found = invoked.fullmatch(
                operation["x-amazon-apigateway-integration"]["uri"]["Fn::Sub"]
            )
            assert found, operation
            targets.add(found.group(1))
    assert targets == {aliases[f] for f in SNAPSTART_FUNCTIONS}
    for logical_id, permission in resources_of_type(translated, "AWS::Lambda::Permission").items():
        properties = resolver.resolve(permission["Properties"])
        if properties["Principal"] == "apigateway.amazonaws.com":
            assert properties["FunctionName"] in {f"<{aliases[f]}>" for f in SNAPSTART_FUNCTIONS}, (
                logical_id
            )


def test_snapstart_functions_use_only_what_snapstart_supports(
    translated: dict[str, Any], resolver: Resolver
) -> None:
    for function in SNAPSTART_FUNCTIONS:
        properties = resolver.resolve(props(translated, function))
        runtime = re.fullmatch(r"python3\.(\d+)", properties["Runtime"])
        assert runtime and int(runtime.group(1)) >= 12, properties["Runtime"]
        assert "FileSystemConfigs" not in properties, function
        assert properties.get("EphemeralStorage", {}).get("Size", 512) <= 512, function
    for alias in resources_of_type(translated, "AWS::Lambda::Alias"):
        assert "ProvisionedConcurrencyConfig" not in props(translated, alias), alias
