"""Security posture of the stack, checked on ``template.yaml`` as SAM translates it (the roles,
policies, permissions and stage SAM generates included), with intrinsic functions evaluated
(``devtools.translate.Resolver``): ARNs are compared, not the shapes of ``Fn::Sub``.

``tests/unit/template/test_template.py`` checks the template as written (routes, the API
function's inline policy, CORS and docs settings at their defaults); this module checks what
CloudFormation receives.
"""

import re
from collections.abc import Iterator
from typing import Any

import pytest

from devtools import samlocal
from devtools.template import TEMPLATE_PATH, parameter_default
from devtools.translate import PSEUDO_PARAMETERS, Resolver
from newsroom.read_api.settings import ApiSettings
from tests.support.translated import as_list, props, resources_of_type

ACCOUNT = PSEUDO_PARAMETERS["AWS::AccountId"]
REGION = PSEUDO_PARAMETERS["AWS::Region"]
TABLE_READS = {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchGetItem"}
SIGNING_KEY = str(parameter_default("SigningKeyParameterName"))  # the stack's HMAC key in SSM
INGEST_TABLE_ACTIONS = {
    "dynamodb:PutItem",
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:BatchWriteItem",
    "dynamodb:BatchGetItem",
    # The topic counts' TransactWriteItems is authorized as the item actions in it (DynamoDB
    # developer guide, "Using IAM with DynamoDB transactions").
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
}
XRAY_ACTIONS = {
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
    "xray:GetSamplingStatisticSummaries",
}
LOG_ACTIONS = {"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"}
# The AWS managed policies SAM attaches to a function's role (basic execution; X-Ray for
# Tracing: Active, under its old name in the aws partition) and what they grant, all on "*".
# API Gateway's CloudWatch role (AmazonAPIGatewayPushToCloudWatchLogs, "AWS managed policy
# reference"): one per account and region, it writes every API's logs.
API_GATEWAY_LOG_ACTIONS = {
    "logs:CreateLogGroup",
    "logs:CreateLogStream",
    "logs:DescribeLogGroups",
    "logs:DescribeLogStreams",
    "logs:PutLogEvents",
    "logs:GetLogEvents",
    "logs:FilterLogEvents",
}
MANAGED_POLICIES = {
    "service-role/AWSLambdaBasicExecutionRole": LOG_ACTIONS,
    "AWSXrayWriteOnlyAccess": XRAY_ACTIONS,
    "AWSXRayDaemonWriteAccess": XRAY_ACTIONS,
    "service-role/AmazonAPIGatewayPushToCloudWatchLogs": API_GATEWAY_LOG_ACTIONS,
}
MANAGED_POLICY_ARN = re.compile(r"arn:aws[\w-]*:iam::aws:policy/(.+)")
# Actions without resource-level permissions: IAM only accepts Resource "*" for them. SES's
# GetSendQuota (the digest planner reads the account's sending rate) has no resource types
# (Service Authorization Reference, "Actions, resources, and condition keys for Amazon SES").
UNSCOPABLE_ACTIONS = XRAY_ACTIONS | {"ses:GetSendQuota"}
# Accepted on "*" although CloudWatch Logs accepts log-group ARNs: they come from
# AWSLambdaBasicExecutionRole, which SAM attaches to every role it generates (scoping them
# means writing the functions' roles by hand), and from API Gateway's account-wide logging
# role, which writes the log groups of every API of the region, not only this stack's.
ACCEPTED_MANAGED_WILDCARDS = LOG_ACTIONS | API_GATEWAY_LOG_ACTIONS
# Who may assume each role that is not a function's (SAM names those <Function>Role).
SERVICE_ROLES = {
    "ApiGatewayLoggingRole": "apigateway.amazonaws.com",
    "StoryPublishSchedulerRole": "scheduler.amazonaws.com",  # invokes StoryEventsFunction
}
POLICY_RESOURCE_TYPES = {
    "AWS::IAM::Policy",
    "AWS::IAM::RolePolicy",
    "AWS::IAM::ManagedPolicy",
    "AWS::S3::BucketPolicy",
    "AWS::SQS::QueuePolicy",
    "AWS::SNS::TopicPolicy",
}
SQS_DEFAULT_RETENTION = 4 * 24 * 3600


# -- helpers ----------------------------------------------------------------------------


def policy_documents(template: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(where, document)`` for every permissions policy in the template: the roles' inline
    policies and every policy resource (trust policies are not permissions)."""
    for logical_id, res in template["Resources"].items():
        properties = res.get("Properties", {})
        if res["Type"] == "AWS::IAM::Role":
            for policy in properties.get("Policies", []):
                yield f"{logical_id}/{policy['PolicyName']}", policy["PolicyDocument"]
        elif res["Type"] in POLICY_RESOURCE_TYPES:
            yield logical_id, properties["PolicyDocument"]


def statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    return as_list(document["Statement"])


def role_of(template: dict[str, Any], function_id: str) -> str:
    role = props(template, function_id)["Role"]
    assert role == {"Fn::GetAtt": [f"{function_id}Role", "Arn"]}, role
    return f"{function_id}Role"


def inline_grants(
    template: dict[str, Any], resolver: Resolver, role_id: str
) -> set[tuple[str, str]]:
    """``(action, resource)`` for everything the role's own policies allow (its inline
    policies and any ``AWS::IAM::Policy`` attached to it), resources evaluated."""
    documents = [p["PolicyDocument"] for p in props(template, role_id).get("Policies", [])]
    for res in resources_of_type(template, "AWS::IAM::Policy").values():
        if {"Ref": role_id} in res["Properties"].get("Roles", []):
            documents.append(res["Properties"]["PolicyDocument"])
    grants = set()
    for document in documents:
        for statement in statements(document):
            assert statement["Effect"] == "Allow", (role_id, statement)
            assert "NotAction" not in statement and "NotResource" not in statement, statement
            for action in as_list(statement["Action"]):
                for resource in as_list(resolver.resolve(statement["Resource"])):
                    grants.add((action, resource))
    return grants


def managed_policies(template: dict[str, Any], role_id: str) -> set[str]:
    """Names (after ``policy/``) of the AWS managed policies attached to the role; fails on
    customer managed ones."""
    names = set()
    for arn in Resolver(template).resolve(props(template, role_id).get("ManagedPolicyArns", [])):
        match = MANAGED_POLICY_ARN.fullmatch(arn) if isinstance(arn, str) else None
        assert match, f"{role_id}: not an AWS managed policy: {arn}"
        names.add(match.group(1))
    return names


def assert_only_basic_managed_policies(template: dict[str, Any], role_id: str) -> None:
    names = managed_policies(template, role_id)
    assert "service-role/AWSLambdaBasicExecutionRole" in names, role_id
    assert names <= set(MANAGED_POLICIES), f"{role_id}: {names - set(MANAGED_POLICIES)}"
    assert len(names & {"AWSXrayWriteOnlyAccess", "AWSXRayDaemonWriteAccess"}) <= 1, names


def table_arns(template: dict[str, Any], resolver: Resolver) -> tuple[str, set[str]]:
    """The stories table's ARN and its indexes' ARNs."""
    table = resolver.resolve({"Fn::GetAtt": ["StoriesTable", "Arn"]})
    indexes = {
        f"{table}/index/{index['IndexName']}"
        for index in props(template, "StoriesTable").get("GlobalSecondaryIndexes", [])
    }
    return table, indexes


def function_env(template: dict[str, Any], function_id: str) -> dict[str, Any]:
    """A translated function's environment (Globals merged in by SAM), not evaluated."""
    return dict(props(template, function_id)["Environment"]["Variables"])


def alarms(template: dict[str, Any], resolver: Resolver) -> dict[str, dict[str, Any]]:
    """Every alarm created with these parameters, its properties evaluated."""
    return {
        logical_id: resolver.resolve(res["Properties"])
        for logical_id, res in resources_of_type(template, "AWS::CloudWatch::Alarm").items()
        if resolver.active(logical_id)
    }


def alarm_on(template: dict[str, Any], resolver: Resolver, namespace: str, metric: str) -> Any:
    found = [
        alarm
        for alarm in alarms(template, resolver).values()
        if (alarm.get("Namespace"), alarm.get("MetricName")) == (namespace, metric)
    ]
    assert found, f"no alarm on {namespace} {metric}"
    return found


def dimensions(alarm: dict[str, Any]) -> dict[str, str]:
    return {d["Name"]: d["Value"] for d in alarm.get("Dimensions", [])}


def fires_on_the_first_one(alarm: dict[str, Any]) -> bool:
    """One datapoint of at least 1 (a message, an error) breaches the alarm."""
    if alarm.get("Statistic") not in {"Sum", "Maximum", "Average"}:
        return False
    if int(alarm["EvaluationPeriods"]) != 1 or int(alarm.get("DatapointsToAlarm", 1)) != 1:
        return False
    threshold = float(alarm["Threshold"])
    match alarm["ComparisonOperator"]:
        case "GreaterThanThreshold":
            return threshold < 1
        case "GreaterThanOrEqualToThreshold":
            return threshold <= 1
    return False


# -- IAM: the functions' roles ----------------------------------------------------------


def test_api_function_role_only_reads_the_table_its_indexes_the_public_base_url_and_the_key(
    translated: dict[str, Any], resolver: Resolver
) -> None:
    role = role_of(translated, "ApiFunction")
    grants = inline_grants(translated, resolver, role)
    table, indexes = table_arns(translated, resolver)
    assert indexes, "the table declares no index"
    # Besides the table: the stack's public base URL (a String parameter, not a secret) and
    # the signing key that checks preview links.
    parameter = resolver.resolve(translated["Resources"]["PublicBaseUrl"]["Properties"]["Name"])
    public_base_url = f"arn:aws:ssm:us-east-1:123456789012:parameter{parameter}"
    assert translated["Resources"]["PublicBaseUrl"]["Properties"]["Type"] == "String"
    assert ("ssm:GetParameter", public_base_url) in grants, grants
    signing_key = f"arn:aws:ssm:us-east-1:123456789012:parameter{SIGNING_KEY}"
    assert ("ssm:GetParameter", signing_key) in grants, grants
    grants = grants - {("ssm:GetParameter", public_base_url), ("ssm:GetParameter", signing_key)}
    for action, resource in grants:
        assert action in TABLE_READS, f"{role} may {action} (only table reads are allowed)"
        assert resource in {table} | indexes, f"{role} may {action} on {resource}"
    # What the read path needs (a story by slug; the feed index for lists and feeds).
    assert ("dynamodb:GetItem", table) in grants
    assert ("dynamodb:Query", f"{table}/index/feed") in grants
    assert_only_basic_managed_policies(translated, role)


def test_ingest_function_role_reads_incoming_writes_receipts_and_the_table_only(
    translated: dict[str, Any], resolver: Resolver
) -> None:
    role = role_of(translated, "IngestFunction")
    env = resolver.resolve(function_env(translated, "IngestFunction"))
    incoming, receipts = env["INCOMING_PREFIX"], env["RECEIPTS_PREFIX"]
    # Receipts outside incoming/: a receipt must not trigger ingest again.
    assert incoming and receipts and not receipts.startswith(incoming)
    bucket = resolver.resolve({"Fn::GetAtt": ["ContentBucket", "Arn"]})
    assert bucket.startswith("arn:aws:s3:::"), f"the bucket's ARN is not known: {bucket}"
    table, _ = table_arns(translated, resolver)
    dlq = resolver.resolve({"Fn::GetAtt": ["IngestDeadLetterQueue", "Arn"]})
    assert inline_grants(translated, resolver, role) == {
        ("s3:GetObject", f"{bucket}/{incoming}*"),
        # Only for keys under incoming/ (a condition on s3:prefix: test_new_account.py).
        ("s3:ListBucket", bucket),
        ("s3:PutObject", f"{bucket}/{receipts}*"),
        *((action, table) for action in INGEST_TABLE_ACTIONS),
        ("sqs:SendMessage", dlq),  # SAM's policy for the on-failure destination
        # The preview links of drafts and scheduled stories are signed with the stack's key.
        ("ssm:GetParameter", f"arn:aws:ssm:us-east-1:123456789012:parameter{SIGNING_KEY}"),
    }
    assert_only_basic_managed_policies(translated, role)


def test_ingest_reads_the_prefix_its_s3_event_filters_on(
    translated: dict[str, Any], resolver: Resolver
) -> None:
    env = resolver.resolve(function_env(translated, "IngestFunction"))
    notifications = props(translated, "ContentBucket")["NotificationConfiguration"]
    (config,) = notifications["LambdaConfigurations"]
    assert config["Function"] == {"Fn::GetAtt": ["IngestFunction", "Arn"]}
    assert config["Event"].startswith("s3:ObjectCreated:")
    rules = {r["Name"].lower(): r["Value"] for r in config["Filter"]["S3Key"]["Rules"]}
    assert rules["prefix"] == env["INCOMING_PREFIX"]


def test_roles_can_only_be_assumed_by_lambda_or_their_one_service(
    translated: dict[str, Any],
) -> None:
    roles = resources_of_type(translated, "AWS::IAM::Role")
    functions = resources_of_type(translated, "AWS::Lambda::Function")
    assert {role_of(translated, f) for f in functions} | set(SERVICE_ROLES) == set(roles)
    for role_id, role in roles.items():
        service = SERVICE_ROLES.get(role_id, "lambda.amazonaws.com")
        for statement in statements(role["Properties"]["AssumeRolePolicyDocument"]):
            assert statement["Effect"] == "Allow", role_id
            assert as_list(statement["Action"]) == ["sts:AssumeRole"], role_id
            assert statement["Principal"] == {"Service": [service]}, role_id


def test_no_wildcard_actions_in_any_allow_statement(translated: dict[str, Any]) -> None:
    """No ``*``, ``service:*`` or ``service:Get*`` granted anywhere. Deny statements may use
    wildcards (the bucket's TLS guard denies ``s3:*``): a broad deny only takes away."""
    checked = 0
    for where, document in policy_documents(translated):
        for statement in statements(document):
            if statement["Effect"] == "Deny":
                continue
            assert "NotAction" not in statement, (where, statement)
            for action in as_list(statement["Action"]):
                assert isinstance(action, str) and "*" not in action, (where, action)
                checked += 1
    assert checked
    for role_id in resources_of_type(translated, "AWS::IAM::Role"):
        for name in managed_policies(translated, role_id):
            assert name in MANAGED_POLICIES, f"{role_id}: unreviewed managed policy {name}"
            assert all("*" not in action for action in MANAGED_POLICIES[name])


def test_no_wildcard_resources_where_aws_allows_naming_one(
    translated: dict[str, Any], resolver: Resolver
) -> None:
    """``Resource: "*"`` (or a whole service's ``arn:...:*``) only for actions IAM cannot
    scope; inline policies name their resources."""
    whole_service = re.compile(r"\*|arn:[^:]+:[^:]+:[^:]*:[^:]*:\*")
    for where, document in policy_documents(translated):
        for statement in statements(document):
            if statement["Effect"] == "Deny":
                continue
            assert "NotResource" not in statement, (where, statement)
            actions = set(as_list(statement["Action"]))
            for resource in as_list(resolver.resolve(statement["Resource"])):
                if whole_service.fullmatch(resource):
                    assert actions <= UNSCOPABLE_ACTIONS, (where, actions, resource)
    for role_id in resources_of_type(translated, "AWS::IAM::Role"):
        for name in managed_policies(translated, role_id):
            granted_on_star = MANAGED_POLICIES[name]
            assert granted_on_star <= UNSCOPABLE_ACTIONS | ACCEPTED_MANAGED_WILDCARDS, name


def test_lambda_permissions_name_their_source(
    translated: dict[str, Any], resolver: Resolver
) -> None:
    """Who may invoke the functions: API Gateway only from this API, S3 only from this
    account's buckets (SAM's S3 event permission), EventBridge only from this stack's rules,
    SNS only from this stack's topics (the bounces function: SES's feedback topic)."""
    permissions = resources_of_type(translated, "AWS::Lambda::Permission")
    functions = {f"<{f}>" for f in resources_of_type(translated, "AWS::Lambda::Function")}
    functions |= {f"<{a}>" for a in resources_of_type(translated, "AWS::Lambda::Alias")}
    rules = {f"<{r}.Arn>" for r in resources_of_type(translated, "AWS::Events::Rule")}
    topics = {f"<{t}>" for t in resources_of_type(translated, "AWS::SNS::Topic")}
    api_arn = f"arn:aws:execute-api:{REGION}:{ACCOUNT}:<ContentApi>/"
    assert permissions
    for logical_id, permission in permissions.items():
        properties = resolver.resolve(permission["Properties"])
        assert properties["Action"] == "lambda:InvokeFunction", logical_id
        assert properties["FunctionName"] in functions, logical_id
        match properties["Principal"]:
            case "apigateway.amazonaws.com":
                assert properties["SourceArn"].startswith(api_arn), logical_id
            case "s3.amazonaws.com":
                assert properties["FunctionName"] == "<IngestFunction>", logical_id
                assert properties["SourceAccount"] == ACCOUNT, logical_id
            case "events.amazonaws.com":
                assert properties["SourceArn"] in rules, logical_id
            case "sns.amazonaws.com":
                assert properties["SourceArn"] in topics, logical_id
            case other:
                pytest.fail(f"{logical_id}: unexpected principal {other}")


# -- data at rest and in transit --------------------------------------------------------


def test_bucket_blocks_public_access(translated: dict[str, Any]) -> None:
    bucket = props(translated, "ContentBucket")
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    (rule,) = bucket["OwnershipControls"]["Rules"]
    assert rule["ObjectOwnership"] == "BucketOwnerEnforced"  # ACLs disabled


def test_bucket_encrypts_at_rest(translated: dict[str, Any]) -> None:
    encryption = props(translated, "ContentBucket")["BucketEncryption"]
    rules = encryption["ServerSideEncryptionConfiguration"]
    assert rules
    for rule in rules:
        default = rule["ServerSideEncryptionByDefault"]
        assert default["SSEAlgorithm"] in {"AES256", "aws:kms", "aws:kms:dsse"}


def test_bucket_policy_denies_requests_without_tls(
    translated: dict[str, Any], resolver: Resolver
) -> None:
    bucket = resolver.resolve({"Fn::GetAtt": ["ContentBucket", "Arn"]})
    name = resolver.resolve({"Ref": "ContentBucket"})
    policies = [
        resolver.resolve(res["Properties"])
        for res in resources_of_type(translated, "AWS::S3::BucketPolicy").values()
    ]
    (policy,) = [p for p in policies if p["Bucket"] == name]
    denies = [
        s
        for s in statements(policy["PolicyDocument"])
        if s["Effect"] == "Deny"
        and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
    ]
    assert denies, "no Deny on aws:SecureTransport false"
    for statement in denies:
        assert statement["Principal"] in ("*", {"AWS": "*"}), statement
        assert as_list(statement["Action"]) == ["s3:*"], statement
        assert set(as_list(statement["Resource"])) == {bucket, f"{bucket}/*"}, statement


def test_table_has_point_in_time_recovery_and_encryption(translated: dict[str, Any]) -> None:
    table = props(translated, "StoriesTable")
    assert table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert table["SSESpecification"]["SSEEnabled"] is True


def test_dead_letter_queue_is_encrypted_and_keeps_messages(translated: dict[str, Any]) -> None:
    queue = props(translated, "IngestDeadLetterQueue")
    assert queue.get("SqsManagedSseEnabled") is True or queue.get("KmsMasterKeyId"), queue
    assert int(queue["MessageRetentionPeriod"]) > SQS_DEFAULT_RETENTION


# -- ingest: failures -------------------------------------------------------------------


def test_ingest_failures_are_retried_then_sent_to_the_dead_letter_queue(
    translated: dict[str, Any], resolver: Resolver
) -> None:
    configs = [
        resolver.resolve(res["Properties"])
        for res in resources_of_type(translated, "AWS::Lambda::EventInvokeConfig").values()
        if res["Properties"]["FunctionName"] == {"Ref": "IngestFunction"}
    ]
    (config,) = configs
    assert 1 <= int(config["MaximumRetryAttempts"]) <= 2
    assert int(config["MaximumEventAgeInSeconds"]) >= 60
    destination = config["DestinationConfig"]["OnFailure"]["Destination"]
    assert destination == "<IngestDeadLetterQueue.Arn>"


# -- the read API's browser-facing settings ---------------------------------------------


def test_cors_origins_come_from_a_parameter(translated: dict[str, Any], resolver: Resolver) -> None:
    env = function_env(translated, "ApiFunction")
    assert env["CORS_ALLOWED_ORIGINS"] == {"Ref": "CorsAllowedOrigins"}
    assert translated["Parameters"]["CorsAllowedOrigins"]["Type"] == "String"
    deployed = Resolver(translated, {"CorsAllowedOrigins": "https://a.example,https://b.example"})
    settings = ApiSettings.from_env(deployed.resolve(env))
    assert settings.cors_origins == ("https://a.example", "https://b.example")
    # Every function that answers browsers takes its origins from the same parameter.
    for function_id in resources_of_type(translated, "AWS::Lambda::Function"):
        variables = function_env(translated, function_id)
        if "CORS_ALLOWED_ORIGINS" in variables:
            assert variables["CORS_ALLOWED_ORIGINS"] == {"Ref": "CorsAllowedOrigins"}, function_id
    # Preflights reach the functions (which answer with those origins): SAM added no CORS of
    # its own (mock OPTIONS integrations with fixed origins).
    functions = "|".join(resources_of_type(translated, "AWS::Lambda::Function"))
    aliases = "|".join(resources_of_type(translated, "AWS::Lambda::Alias"))
    uri = re.compile(rf".*/functions/\$\{{(({functions})\.Arn|{aliases})\}}/invocations")
    paths = props(translated, "ContentApi")["Body"]["paths"]
    for path, methods in paths.items():
        for method, operation in methods.items():
            integration = operation["x-amazon-apigateway-integration"]
            assert integration["type"] == "aws_proxy", (path, method)
            assert uri.fullmatch(integration["uri"]["Fn::Sub"]), (path, method)
    assert "options" in paths["/stories"]


def test_swagger_ui_is_off_unless_enabled(translated: dict[str, Any], resolver: Resolver) -> None:
    parameter = translated["Parameters"]["EnableApiDocs"]
    assert parameter["Default"] == "false"
    assert set(parameter["AllowedValues"]) == {"true", "false"}
    env = function_env(translated, "ApiFunction")
    assert env["ENABLE_API_DOCS"] == {"Ref": "EnableApiDocs"}
    assert ApiSettings.from_env(resolver.resolve(env)).docs_enabled is False
    enabled = Resolver(translated, {"EnableApiDocs": "true"})
    assert ApiSettings.from_env(enabled.resolve(env)).docs_enabled is True


# -- alarms -----------------------------------------------------------------------------


def test_alarm_on_messages_in_the_ingest_dead_letter_queue(
    translated: dict[str, Any], resolver: Resolver
) -> None:
    found = alarm_on(translated, resolver, "AWS/SQS", "ApproximateNumberOfMessagesVisible")
    queue_name = resolver.resolve({"Fn::GetAtt": ["IngestDeadLetterQueue", "QueueName"]})
    (alarm,) = [a for a in found if dimensions(a) == {"QueueName": queue_name}]
    assert fires_on_the_first_one(alarm), alarm


def test_alarm_on_ingest_function_errors(translated: dict[str, Any], resolver: Resolver) -> None:
    found = alarm_on(translated, resolver, "AWS/Lambda", "Errors")
    (alarm,) = [a for a in found if dimensions(a) == {"FunctionName": "<IngestFunction>"}]
    assert fires_on_the_first_one(alarm), alarm


def test_alarm_on_api_5xx_for_the_api_stage(translated: dict[str, Any], resolver: Resolver) -> None:
    found = alarm_on(translated, resolver, "AWS/ApiGateway", "5XXError")
    # REST API metrics are keyed by the API's name and its stage's name.
    api_name = resolver.resolve(props(translated, "ContentApi")["Name"])
    stages = [
        resolver.resolve(res["Properties"]["StageName"])
        for res in resources_of_type(translated, "AWS::ApiGateway::Stage").values()
        if res["Properties"]["RestApiId"] == {"Ref": "ContentApi"}
    ]
    assert stages == ["v1"]
    expected = {"ApiName": api_name, "Stage": stages[0]}
    (alarm,) = [a for a in found if dimensions(a) == expected]
    assert alarm["Statistic"] in {"Sum", "Average", "Maximum"}
    assert alarm["ComparisonOperator"] in {"GreaterThanThreshold", "GreaterThanOrEqualToThreshold"}


def test_alarms_notify_the_alarm_email_only_when_one_is_set(translated: dict[str, Any]) -> None:
    assert translated["Parameters"]["AlarmEmail"]["Default"] == ""
    without = Resolver(translated)
    assert not without.active("AlarmTopic") and not without.active("AlarmEmailSubscription")
    for logical_id, alarm in alarms(translated, without).items():
        assert "AlarmActions" not in alarm, logical_id

    with_email = Resolver(translated, {"AlarmEmail": "ops@example.com"})
    assert with_email.active("AlarmTopic") and with_email.active("AlarmEmailSubscription")
    subscription = with_email.resolve(props(translated, "AlarmEmailSubscription"))
    assert subscription == {
        "TopicArn": "<AlarmTopic>",
        "Protocol": "email",
        "Endpoint": "ops@example.com",
    }
    found = alarms(translated, with_email)
    assert len(found) >= 3
    for logical_id, alarm in found.items():
        assert alarm["AlarmActions"] == ["<AlarmTopic>"], logical_id


# -- cfn-lint ---------------------------------------------------------------------------


def test_sam_validate_lint_reports_no_warnings(sam_cli: samlocal.SamCli) -> None:
    """Also in ``tests/samlocal`` (which needs python3.13 for ``sam build``); here it is part
    of the posture and runs wherever the translation does."""
    result = sam_cli.run(
        "validate", "--lint", "--region", REGION, "--template", str(TEMPLATE_PATH),
        capture=True, timeout=180,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert not re.search(r"\b[EWI]\d{4}\b", output), output
    assert "is a valid SAM Template" in output
