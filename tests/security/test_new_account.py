"""The stack deploys on a new AWS account and fails no first create, checked on
``template.yaml`` as SAM translates it, against the rules of the real services (which neither
moto nor ``sam local`` apply): Lambda's unreserved concurrency, what a rolled-back create
leaves behind, S3's bucket names, the stages SAM deploys, what a method's throttling limits,
S3's answer for a missing key, and CloudFormation's dependency order."""

import graphlib
import ipaddress
import re
import uuid
from typing import Any

import pytest

from devtools.translate import NO_VALUE, PSEUDO_PARAMETERS, Resolver
from tests.support import iam
from tests.support.translated import dependencies, props, resources_of_type

FUNCTIONS = "AWS::Lambda::Function"
RESERVATIONS = {
    "IngestFunction": "IngestReservedConcurrency",
    "DigestFunction": "DigestReservedConcurrency",
}
# A new account's Lambda quota ("Concurrent executions", Service Quotas) can be 10.
NEW_ACCOUNT_QUOTA = 10
RAISED_QUOTA = 1000
RECOMMENDED = re.compile(r"Recommended[^:]*: (\d+)")
STACK_NAME_MAX = 128  # CloudFormation: a stack name is at most 128 characters


# -- Lambda concurrency ------------------------------------------------------------------


def unreserved_minimum(account_quota: int) -> int:
    """Lambda's rule (Lambda API reference, PutFunctionConcurrency): reservations must "leave
    at least 100 simultaneous executions unreserved"; an account whose quota is lower keeps
    all of it unreserved (a new account: quota 10, UnreservedConcurrentExecutionsMinimum 10,
    so any reservation fails with "decreases account's UnreservedConcurrentExecution below its
    minimum value")."""
    return min(100, account_quota)


def reservations(translated: dict[str, Any], parameters: dict[str, str]) -> dict[str, int]:
    """``ReservedConcurrentExecutions`` of every function that has one, for these parameters
    (``AWS::NoValue`` leaves the property out: no reservation)."""
    resolver = Resolver(translated, parameters)
    found = {}
    for function_id in resources_of_type(translated, FUNCTIONS):
        value = props(translated, function_id).get("ReservedConcurrentExecutions", NO_VALUE)
        resolved = resolver.resolve({"Value": value}).get("Value")
        if resolved is not None:
            found[function_id] = int(resolved)
    return found


def deploys(account_quota: int, reserved: dict[str, int]) -> bool:
    return account_quota - sum(reserved.values()) >= unreserved_minimum(account_quota)


def recommended(translated: dict[str, Any]) -> dict[str, str]:
    """The value each reservation parameter's description recommends turning it on with."""
    values = {}
    for parameter in RESERVATIONS.values():
        found = RECOMMENDED.search(translated["Parameters"][parameter]["Description"])
        assert found, f"{parameter}'s description recommends no value"
        values[parameter] = found.group(1)
    return values


def test_with_the_defaults_no_function_reserves_concurrency_so_a_new_account_deploys(
    translated: dict[str, Any],
) -> None:
    reserved = reservations(translated, {})
    assert reserved == {}
    assert deploys(NEW_ACCOUNT_QUOTA, reserved)


def test_the_recommended_reservations_deploy_once_the_quota_is_raised_and_not_before(
    translated: dict[str, Any],
) -> None:
    values = recommended(translated)
    reserved = reservations(translated, values)
    assert reserved == {function: int(values[p]) for function, p in RESERVATIONS.items()}
    assert all(count >= 1 for count in reserved.values())
    assert deploys(RAISED_QUOTA, reserved)
    # The model bites: on a new account the same reservations fail the deploy.
    assert not deploys(NEW_ACCOUNT_QUOTA, reserved)


@pytest.mark.parametrize(("function_id", "parameter"), RESERVATIONS.items())
def test_a_reservation_of_0_means_none_not_a_function_that_never_runs(
    translated: dict[str, Any], function_id: str, parameter: str
) -> None:
    # ReservedConcurrentExecutions: 0 would throttle every invocation: 0 must leave it out.
    spec = translated["Parameters"][parameter]
    assert spec["Type"] == "Number" and str(spec["Default"]) == "0"
    assert function_id not in reservations(translated, {parameter: "0"})
    assert reservations(translated, {parameter: "1"})[function_id] == 1
    description = spec["Description"]
    assert "0 (the default)" in description and "100" in description, description


def test_the_digest_says_what_keeps_two_runs_from_mailing_twice_without_a_reservation(
    translated: dict[str, Any],
) -> None:
    # EventBridge delivers a schedule at least once: without the reservation two runs can
    # overlap, and the per-subscriber claim (a conditional write of last_digest_on) is what
    # keeps each subscriber to one digest a day (newsletter/subscribers.py claim_digest).
    description = translated["Parameters"]["DigestReservedConcurrency"]["Description"]
    assert "last_digest_on" in description and "conditional write" in description


# -- stateful resources and the bucket's name --------------------------------------------


@pytest.mark.parametrize("type_", ["AWS::S3::Bucket", "AWS::DynamoDB::Table"])
def test_stateful_resources_are_kept_on_delete_but_not_after_a_failed_first_create(
    translated: dict[str, Any], type_: str
) -> None:
    """CloudFormation's DeletionPolicy attribute: ``Retain`` also keeps a resource when the
    stack's first create rolls back, and a named one then fails the next create ("already
    exists"); ``RetainExceptOnCreate`` deletes it in that case only."""
    found = resources_of_type(translated, type_)
    assert found
    for logical_id, res in found.items():
        assert res.get("DeletionPolicy") == "RetainExceptOnCreate", logical_id
        assert res.get("UpdateReplacePolicy") == "Retain", logical_id


def stack(name: str, region: str = "eu-west-1") -> dict[str, str]:
    """Pseudo parameters of a stack called ``name``, with an id as CloudFormation makes them
    (``arn:aws:cloudformation:<region>:<account>:stack/<name>/<uuid>``)."""
    account = PSEUDO_PARAMETERS["AWS::AccountId"]
    return {
        "AWS::StackName": name,
        "AWS::Region": region,
        "AWS::StackId": f"arn:aws:cloudformation:{region}:{account}:stack/{name}/{uuid.uuid4()}",
    }


def s3_bucket_name_problems(name: str) -> list[str]:
    """What S3's naming rules for general purpose buckets (S3 User Guide, "General purpose
    bucket naming rules") say against ``name``."""
    problems = []
    if not 3 <= len(name) <= 63:
        problems.append(f"{len(name)} characters (3 to 63)")
    if not re.fullmatch(r"[a-z0-9][a-z0-9.-]*[a-z0-9]", name):
        problems.append(
            "only lowercase letters, digits, dots and hyphens; a letter or digit first and last"
        )
    if ".." in name:
        problems.append("two adjacent periods")
    try:
        ipaddress.IPv4Address(name)
        problems.append("formatted as an IP address")
    except ValueError:
        pass
    for prefix in ("xn--", "sthree-", "amzn-s3-demo-"):
        if name.startswith(prefix):
            problems.append(f"starts with {prefix}")
    for suffix in ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"):
        if name.endswith(suffix):
            problems.append(f"ends with {suffix}")
    return problems


@pytest.mark.parametrize(
    "name",
    [
        "signal-noise",
        "SignalNoise-Prod",  # stack names may have capitals, bucket names may not
        "S" + "-signal-noise" * 9 + "-x" * 5,  # 128 characters
    ],
)
def test_the_bucket_name_is_valid_whatever_the_stack_is_called(
    translated: dict[str, Any], name: str
) -> None:
    assert len(name) <= STACK_NAME_MAX
    deployed = Resolver(translated, stack(name))
    bucket = deployed.resolve({"Ref": "ContentBucket"})
    assert s3_bucket_name_problems(bucket) == [], bucket
    # The ingest policy names the same bucket (it cannot refer to it: a circular dependency).
    arn = deployed.resolve({"Fn::GetAtt": ["ContentBucket", "Arn"]})
    role = iam.function_role(translated, "IngestFunction", deployed)
    resources = {resource for s in role.statements for resource in s.resources or ()}
    assert {arn, f"{arn}/incoming/*", f"{arn}/receipts/*"} <= resources, resources


def test_a_128_character_stack_name_gives_a_bucket_name_of_at_most_63(
    translated: dict[str, Any],
) -> None:
    name = "A" + "b" * (STACK_NAME_MAX - 1)
    bucket = Resolver(translated, stack(name)).resolve({"Ref": "ContentBucket"})
    assert len(bucket) <= 63 and not s3_bucket_name_problems(bucket), bucket


def test_two_stacks_of_the_same_name_get_different_buckets(translated: dict[str, Any]) -> None:
    # Bucket names are global: a stack created again (after a rollback, in another region or
    # account) must not need the name a retained bucket may still hold.
    first = Resolver(translated, stack("signal-noise")).resolve({"Ref": "ContentBucket"})
    again = Resolver(translated, stack("signal-noise")).resolve({"Ref": "ContentBucket"})
    assert first != again


# CloudFront names policies and functions per account (CloudFront API reference,
# CreateCachePolicy, CreateOriginRequestPolicy, CreateFunction: "already exists" errors), with
# at most 128 characters for a policy and 64 of [a-zA-Z0-9-_] for a function.
CLOUDFRONT_NAMES = {
    "ApiCachePolicy": ("CachePolicyConfig", 128),
    "SubscriptionsOriginRequestPolicy": ("OriginRequestPolicyConfig", 128),
    "ViewerIpFunction": (None, 64),
}


def cloudfront_names(translated: dict[str, Any], resolver: Resolver) -> dict[str, str]:
    names = {}
    for logical_id, (config, _) in CLOUDFRONT_NAMES.items():
        properties = translated["Resources"][logical_id]["Properties"]
        names[logical_id] = resolver.resolve((properties[config] if config else properties)["Name"])
    return names


def test_two_stacks_of_the_same_name_get_different_cloudfront_names(
    translated: dict[str, Any],
) -> None:
    first = cloudfront_names(translated, Resolver(translated, stack("signal-noise")))
    again = cloudfront_names(translated, Resolver(translated, stack("signal-noise")))
    assert all(first[k] != again[k] for k in CLOUDFRONT_NAMES), (first, again)


def test_cloudfront_names_are_valid_whatever_the_stack_is_called(
    translated: dict[str, Any],
) -> None:
    name = "S" + "-signal-noise" * 9 + "-x" * 5  # 128 characters
    for logical_id, value in cloudfront_names(
        translated, Resolver(translated, stack(name))
    ).items():
        longest = CLOUDFRONT_NAMES[logical_id][1]
        assert re.fullmatch(rf"[A-Za-z0-9_-]{{1,{longest}}}", value), (logical_id, value)


def test_the_bucket_name_output_is_the_bucket(translated: dict[str, Any]) -> None:
    assert translated["Outputs"]["ContentBucketName"]["Value"] == {"Ref": "ContentBucket"}


# -- one stage, and what its throttling limits -------------------------------------------


def test_the_api_has_exactly_one_stage_v1(translated: dict[str, Any], resolver: Resolver) -> None:
    """AWS::ApiGateway::Deployment: a ``StageName`` makes the deployment create that stage
    too; without ``OpenApiVersion`` SAM sets it to "Stage" (aws/serverless-application-model
    #191), a second stage without v1's throttling, logs and alarms."""
    stages = resources_of_type(translated, "AWS::ApiGateway::Stage")
    assert [resolver.resolve(s["Properties"]["StageName"]) for s in stages.values()] == ["v1"]
    for logical_id, deployment in resources_of_type(
        translated, "AWS::ApiGateway::Deployment"
    ).items():
        assert "StageName" not in deployment["Properties"], logical_id


@pytest.mark.parametrize("parameter", ["ApiThrottlingRateLimit", "ApiThrottlingBurstLimit"])
def test_the_throttling_parameters_say_they_limit_each_method_separately(
    translated: dict[str, Any], parameter: str
) -> None:
    """API Gateway's stage ``MethodSettings`` for ``/*`` and ``*`` are the default of every
    method, each throttled on its own (API Gateway Developer Guide, "Throttle requests to your
    REST APIs": method-level throttling overrides the stage's per method): the parameter is a
    limit per method, not for the stage."""
    ((stage_id, stage),) = resources_of_type(translated, "AWS::ApiGateway::Stage").items()
    (setting,) = stage["Properties"]["MethodSettings"]
    assert (setting["ResourcePath"], setting["HttpMethod"]) == ("/*", "*"), stage_id
    key = {
        "ApiThrottlingRateLimit": "ThrottlingRateLimit",
        "ApiThrottlingBurstLimit": "ThrottlingBurstLimit",
    }
    assert setting[key[parameter]] == {"Ref": parameter}
    description = translated["Parameters"][parameter]["Description"]
    assert "each method" in description and "separately" in description, description
    assert "for the stage" not in description, description


# -- S3's answer for a missing key -------------------------------------------------------


def test_the_ingest_may_list_incoming_only(translated: dict[str, Any], resolver: Resolver) -> None:
    """The exact grant (tests/support/iam.py evaluates it for every call): list the bucket,
    for keys under incoming/ only."""
    env = resolver.resolve(props(translated, "IngestFunction")["Environment"]["Variables"])
    policies = props(translated, "IngestFunctionRole")["Policies"]
    statements = [s for p in policies for s in p["PolicyDocument"]["Statement"]]
    (listing,) = [s for s in statements if s.get("Sid") == "ListIncoming"]
    assert resolver.resolve(listing) == {
        "Sid": "ListIncoming",
        "Effect": "Allow",
        "Action": "s3:ListBucket",
        "Resource": resolver.resolve({"Fn::GetAtt": ["ContentBucket", "Arn"]}),
        "Condition": {"StringLike": {"s3:prefix": [f"{env['INCOMING_PREFIX']}*"]}},
    }


def test_a_missing_upload_is_not_found_on_real_s3_not_access_denied(
    translated: dict[str, Any], resolver: Resolver
) -> None:
    """S3 GetObject API reference, "Permissions": for a key that does not exist S3 answers 404
    NoSuchKey only to a caller that may also s3:ListBucket the bucket, else 403 AccessDenied;
    the ingest turns NoSuchKey into a ``not_found`` receipt and AccessDenied into a failure
    (retried twice, then the dead-letter queue)."""
    bucket = resolver.resolve({"Ref": "ContentBucket"})
    role = iam.function_role(translated, "IngestFunction", resolver)

    def may_list(statements: tuple[iam.Statement, ...], key: str) -> bool:
        return iam.evaluate(statements, iam.missing_key_listing(bucket, key)).allowed

    assert may_list(role.statements, "incoming/2025/gone.json")
    assert not may_list(role.statements, "receipts/2025/gone.json.json")  # only incoming/
    without = tuple(s for s in role.statements if s.sid != "ListIncoming")
    assert not may_list(without, "incoming/2025/gone.json")  # 403: what today's grant got


# -- dependency order --------------------------------------------------------------------


def test_translated_template_has_no_circular_dependency(translated: dict[str, Any]) -> None:
    """CloudFormation refuses a template whose resources depend on each other in a cycle
    (Ref, Fn::GetAtt, Fn::Sub, DependsOn). cfn-lint checks the SAM template before translation
    and skips what runs through SAM resources; this checks what CloudFormation receives."""
    graph = dependencies(translated)
    order = list(graphlib.TopologicalSorter(graph).static_order())  # raises CycleError
    assert set(order) == set(translated["Resources"])
