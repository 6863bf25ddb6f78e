"""``template.yaml``, the security and shape of what it deploys: every function's API events on
the content API (GET and OPTIONS only, a preflight for every GET path, no greedy proxy route,
the read routes and the subscription routes in separate functions), the API function's
read-only access to the stories table and its index, the API's compression, throttling and
``v1`` stage, Python 3.13 for every function and the layer (built without boto3 and
botocore). ``sam validate --lint`` runs in tests/security (it needs SAM CLI)."""

import json
from typing import Any

from devtools.template import ROOT, load_template, parameter_default, resource
from tests.support.template_routes import api_events, template_routes


def policy_statements(logical_id: str) -> list[dict[str, Any]]:
    statements: list[dict[str, Any]] = []
    for policy in resource(logical_id).get("Policies", []):
        # Only inline documents: a SAM policy template or managed policy name would hide
        # what is granted.
        assert isinstance(policy, dict) and "Statement" in policy, policy
        statements.extend(policy["Statement"])
    return statements


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# -- routes -----------------------------------------------------------------------------


def test_every_api_event_is_on_the_content_api_with_get_or_options() -> None:
    for name, props in api_events().items():
        assert props["RestApiId"] == {"Ref": "ContentApi"}, name
        assert props["Method"].upper() in {"GET", "OPTIONS"}, name


def test_every_get_path_has_a_preflight_event() -> None:
    get_paths = {path for _, path in template_routes("GET")}
    options_paths = {path for _, path in template_routes("OPTIONS")}
    assert get_paths == options_paths, f"missing OPTIONS for {get_paths - options_paths}"


def test_no_greedy_proxy_route_anywhere() -> None:
    assert "proxy+" not in (ROOT / "template.yaml").read_text()
    for logical_id, res in load_template()["Resources"].items():
        if res["Type"] != "AWS::Serverless::Function":
            continue
        for props in api_events(logical_id).values():
            assert "+}" not in props["Path"] and props["Method"].lower() != "any", logical_id


def test_read_routes_and_subscription_routes_are_served_by_separate_functions() -> None:
    # The read API's function stays read-only: the newsletter's routes have their own.
    serving = {
        logical_id
        for logical_id, res in load_template()["Resources"].items()
        if res["Type"] == "AWS::Serverless::Function" and api_events(logical_id)
    }
    assert serving == {"ApiFunction", "SubscriptionsFunction"}
    paths = {event["Path"] for event in api_events("SubscriptionsFunction").values()}
    assert all(path.startswith("/subscriptions") for path in paths)
    assert not any(
        event["Path"].startswith("/subscriptions") for event in api_events("ApiFunction").values()
    )


# -- security, runtime and shape --------------------------------------------------------


def test_api_function_can_only_read_the_table_the_public_base_url_and_the_signing_key() -> None:
    statements = policy_statements("ApiFunction")
    granted = set()
    for statement in statements:
        assert statement["Effect"] == "Allow"
        assert "NotAction" not in statement and "NotResource" not in statement
        for action in as_list(statement["Action"]):
            assert "*" not in action, action
            for resource_ in as_list(statement["Resource"]):
                assert resource_ != "*"
                granted.add((action, json.dumps(resource_, sort_keys=True)))
    public_base_url = (
        "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}"
        ":parameter/${AWS::StackName}/public-base-url"
    )
    signing_key = (
        "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}"
        ":parameter${SigningKeyParameterName}"
    )
    assert granted == {
        ("dynamodb:GetItem", json.dumps({"Fn::GetAtt": ["StoriesTable", "Arn"]})),
        ("dynamodb:Query", json.dumps({"Fn::Sub": "${StoriesTable.Arn}/index/feed"})),
        ("dynamodb:Query", json.dumps({"Fn::GetAtt": ["StoriesTable", "Arn"]})),
        ("ssm:GetParameter", json.dumps({"Fn::Sub": public_base_url})),
        ("ssm:GetParameter", json.dumps({"Fn::Sub": signing_key})),  # preview links
    }
    # A Query of the table itself only in the topic stats partition.
    table = {"Fn::GetAtt": ["StoriesTable", "Arn"]}
    (table_query,) = [
        s for s in statements if s["Action"] == "dynamodb:Query" and s["Resource"] == table
    ]
    assert table_query["Condition"] == {
        "ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["topics"]}
    }
    # That parameter is the stack's own (PublicBaseUrl), not secret.
    assert resource("PublicBaseUrl")["Name"] == {"Fn::Sub": "/${AWS::StackName}/public-base-url"}
    assert resource("PublicBaseUrl")["Type"] == "String"
    # The index the policy names is the one the table declares.
    indexes = [i["IndexName"] for i in resource("StoriesTable")["GlobalSecondaryIndexes"]]
    assert indexes == ["feed"]


def test_api_gateway_compression_and_throttling() -> None:
    api = resource("ContentApi")
    assert isinstance(api["MinimumCompressionSize"], int) and api["MinimumCompressionSize"] > 0
    settings = api["MethodSettings"]
    assert settings, "no stage throttling"
    for setting in settings:
        assert setting["ResourcePath"] == "/*" and setting["HttpMethod"] == "*"
        assert setting["ThrottlingRateLimit"] == {"Ref": "ApiThrottlingRateLimit"}
        assert setting["ThrottlingBurstLimit"] == {"Ref": "ApiThrottlingBurstLimit"}
    parameters = load_template()["Parameters"]
    for name in ("ApiThrottlingRateLimit", "ApiThrottlingBurstLimit"):
        assert parameters[name]["Type"] == "Number"
        assert int(parameters[name]["Default"]) > 0
    rate = int(parameter_default("ApiThrottlingRateLimit"))
    assert int(parameter_default("ApiThrottlingBurstLimit")) >= rate


def test_every_function_runs_python_3_13() -> None:
    template = load_template()
    assert template["Globals"]["Function"]["Runtime"] == "python3.13"
    functions = [
        (name, res["Properties"])
        for name, res in template["Resources"].items()
        if res["Type"] == "AWS::Serverless::Function"
    ]
    assert {name for name, _ in functions} >= {"ApiFunction", "IngestFunction"}
    for name, props in functions:
        assert props.get("Runtime", "python3.13") == "python3.13", name
    layer = template["Resources"]["CommonLayer"]
    assert layer["Properties"]["CompatibleRuntimes"] == ["python3.13"]
    # The layer is built by its own Makefile, for CPython 3.13 wheels.
    assert layer["Metadata"]["BuildMethod"] == "makefile"
    makefile = (ROOT / "layers" / "common" / "Makefile").read_text()
    assert "--python-version 3.13" in makefile
    assert "PYTHON ?= python3.13" in makefile


def test_layer_ships_no_boto3_or_botocore() -> None:
    # Lambda's runtime provides them; the layer's pins leave them (and theirs) out, and its
    # Makefile installs with --no-deps so nothing drags them back in.
    pins = (ROOT / "layers" / "common" / "requirements.txt").read_text().lower()
    for package in ("boto3", "botocore", "s3transfer", "urllib3"):
        assert f"{package}==" not in pins, package
    assert "--no-deps" in (ROOT / "layers" / "common" / "Makefile").read_text()


def test_stage_is_v1() -> None:
    assert resource("ContentApi")["StageName"] == "v1"
    api_url = load_template()["Outputs"]["ApiUrl"]["Value"]["Fn::Sub"]
    assert api_url.endswith("/v1") and "${ContentApi}" in api_url
