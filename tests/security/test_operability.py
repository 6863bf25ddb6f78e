"""What an operator of the deployed stack has, checked on ``template.yaml`` as SAM translates it:
log groups with a retention for every function and for the API (access logs as JSON), the
account setting API Gateway logs with, a dashboard whose every metric names a resource of the
stack, alarms on throttling, latency and every dead-letter queue, Logs Insights queries over
fields the logs really have, and the answers API Gateway gives itself (gateway responses):
CORS headers from the origins parameter and bodies that are JSON whatever the error says."""

import io
import json
import logging
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, fields
from typing import Any

import pytest
from aws_lambda_powertools import Logger

from devtools.events import s3_event, s3_record
from devtools.template import function_environment
from devtools.translate import Resolver
from newsroom.ingest.ingestor import Ingestor
from newsroom.ingest.settings import IngestSettings
from newsroom.newsletter.digest_runs import METRICS as DIGEST_METRICS
from newsroom.newsletter.feedback import FeedbackResult
from newsroom.stories.repository import StoryRepository, WriteOutcome
from tests.support.story_files import SAMPLES
from tests.support.translated import as_list, depends_on, props, resources_of_type

LOG_GROUP = "AWS::Logs::LogGroup"
ALARM = "AWS::CloudWatch::Alarm"
# The functions' EMF metrics (Powertools Metrics): the digest's planner and senders
# (newsroom/newsletter/digest_runs.py METRICS: "digest_<outcome>", "digest_run_seconds",
# "digest_run_finished"); the ingest (newsroom/ingest/ingestor.py) "stories_<outcome>" for
# each write outcome and rejection, and "files_failed".
EMF_METRICS = (
    set(DIGEST_METRICS)
    | {f"stories_{outcome.value}" for outcome in WriteOutcome}
    | {"stories_rejected", "files_failed"}
    # functions/bounces/app.py: "subscribers_<field>" for each field of FeedbackResult.
    | {f"subscribers_{f.name}" for f in fields(FeedbackResult)}
)
# What the access log must say about each request (the issue's list), by field name.
ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "ip": "$context.identity.sourceIp",
    "httpMethod": "$context.httpMethod",
    "resourcePath": "$context.resourcePath",
    "status": "$context.status",
    "responseLatency": "$context.responseLatency",
    "integrationLatency": "$context.integrationLatency",
}
# $context variables API Gateway always sets to a number in an access log line; every other
# one can be "-" (no integration ran, no error, ...), so it must be quoted to stay JSON.
ACCESS_LOG_NUMBERS = {"status", "responseLatency"}
GATEWAY_RESPONSES = {
    "DEFAULT_4XX",
    "DEFAULT_5XX",
    "MISSING_AUTHENTICATION_TOKEN",
    "THROTTLED",
    "REQUEST_TOO_LARGE",
    "INTEGRATION_TIMEOUT",
}
# Messages API Gateway's own errors may carry, with what breaks a JSON string.
HOSTILE_MESSAGES = [
    "Internal server error",
    'Endpoint "request" timed out',
    "back\\slash \\u0000 and \\",
    "two\nlines\r\nand a\ttab",
    "</script><script>alert(1)</script> é 日本 \u2028",
    "",
]
INSIGHTS_WORDS = {
    "fields", "filter", "stats", "sort", "limit", "by", "as", "desc", "asc", "and", "or", "not",
    "like", "in", "count", "sum", "avg", "min", "max", "pct", "display",
}  # fmt: skip


# -- helpers ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Metric:
    namespace: str
    name: str
    dimensions: dict[str, str]
    stat: str | None


def dashboard_metrics(translated: dict[str, Any], resolver: Resolver) -> list[Metric]:
    (dashboard,) = resources_of_type(translated, "AWS::CloudWatch::Dashboard").values()
    body = json.loads(resolver.resolve(dashboard["Properties"]["DashboardBody"]))
    found = []
    for widget in body["widgets"]:
        properties = widget["properties"]
        for entry in properties.get("metrics", []):
            options = entry[-1] if isinstance(entry[-1], dict) else {}
            namespace, name, *dims = entry[:-1] if options else entry
            assert len(dims) % 2 == 0 and "..." not in dims, entry  # no shorthand
            stat = options.get("stat", properties.get("stat"))
            found.append(Metric(namespace, name, dict(zip(dims[::2], dims[1::2])), stat))
    return found


def watched(alarm: dict[str, Any]) -> Iterator[Metric]:
    """The metrics an (evaluated) alarm watches: its own, or those of its metric math."""
    if "MetricName" in alarm:
        dims = {d["Name"]: d["Value"] for d in alarm.get("Dimensions", [])}
        stat = alarm.get("Statistic") or alarm.get("ExtendedStatistic")
        yield Metric(alarm["Namespace"], alarm["MetricName"], dims, stat)
    for query in alarm.get("Metrics", []):
        if "MetricStat" in query:
            stat = query["MetricStat"]
            metric = stat["Metric"]
            dims = {d["Name"]: d["Value"] for d in metric.get("Dimensions", [])}
            yield Metric(metric["Namespace"], metric["MetricName"], dims, stat["Stat"])


def alarms(translated: dict[str, Any], resolver: Resolver) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resolver.resolve(res["Properties"])
        for logical_id, res in resources_of_type(translated, ALARM).items()
        if resolver.active(logical_id)
    }


def alarms_watching(
    translated: dict[str, Any], resolver: Resolver, namespace: str, name: str, dims: dict[str, str]
) -> list[dict[str, Any]]:
    return [
        alarm
        for alarm in alarms(translated, resolver).values()
        if any(
            (m.namespace, m.name, m.dimensions) == (namespace, name, dims) for m in watched(alarm)
        )
    ]


def fires_on_any(alarm: dict[str, Any]) -> bool:
    """One datapoint above 0 in one period breaches it."""
    return (
        alarm["ComparisonOperator"] == "GreaterThanThreshold"
        and float(alarm["Threshold"]) == 0
        and int(alarm["EvaluationPeriods"]) == 1
    )


def table_indexes(translated: dict[str, Any], table_id: str) -> list[str]:
    return [i["IndexName"] for i in props(translated, table_id).get("GlobalSecondaryIndexes", [])]


def stage(translated: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    ((stage_id, res),) = resources_of_type(translated, "AWS::ApiGateway::Stage").items()
    return stage_id, dict(res["Properties"])


def api_dimensions(translated: dict[str, Any], resolver: Resolver) -> dict[str, str]:
    """REST API metrics are keyed by the API's name and its stage's name."""
    _, properties = stage(translated)
    return {
        "ApiName": resolver.resolve(props(translated, "ContentApi")["Name"]),
        "Stage": resolver.resolve(properties["StageName"]),
    }


def dead_letter_queues(translated: dict[str, Any]) -> set[str]:
    """Queues the template sends failures to: on-failure destinations, DeadLetterConfig of a
    function or a rule target, a queue's RedrivePolicy."""
    found = set()

    def queue_of(arn: Any) -> None:
        if isinstance(arn, dict) and "Fn::GetAtt" in arn:
            found.add(arn["Fn::GetAtt"][0])

    for res in resources_of_type(translated, "AWS::Lambda::EventInvokeConfig").values():
        queue_of(
            res["Properties"].get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
        )
    for res in resources_of_type(translated, "AWS::Lambda::Function").values():
        queue_of(res["Properties"].get("DeadLetterConfig", {}).get("TargetArn"))
    for res in resources_of_type(translated, "AWS::Events::Rule").values():
        for target in res["Properties"].get("Targets", []):
            queue_of(target.get("DeadLetterConfig", {}).get("Arn"))
    for res in resources_of_type(translated, "AWS::SQS::Queue").values():
        queue_of(res["Properties"].get("RedrivePolicy", {}).get("deadLetterTargetArn"))
    return {q for q in found if translated["Resources"][q]["Type"] == "AWS::SQS::Queue"}


def render_access_log(format_: str) -> str:
    """An access log line as API Gateway writes it when every variable it may leave empty is
    "-" (API Gateway Developer Guide, "Variables for access logging": "-" for no value)."""
    return re.sub(
        r"\$context\.([A-Za-z.]+)",
        lambda m: "123" if m.group(1) in ACCESS_LOG_NUMBERS else "-",
        format_,
    )


def render_gateway_response(template: str, message: str, request_id: str) -> str:
    """A gateway response body: a non-VTL template with simple substitution of $context
    variables (API Gateway Developer Guide, "Gateway responses"). $context.error.messageString
    is "the quoted value of $context.error.message", i.e. the message as a JSON string."""
    values = {"requestId": request_id, "error.messageString": json.dumps(message)}

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        assert name in values, f"${name} is not modelled here"
        return values[name]

    return re.sub(r"\$context\.([A-Za-z]+(?:\.[A-Za-z]+)*)", value, template)


def query_fields(query: str) -> set[str]:
    """The log fields a Logs Insights query reads (not its keywords, functions, aliases,
    string literals, numbers or @-fields)."""
    text = re.sub(r'"[^"]*"', " ", query)
    aliases = set(re.findall(r"\bas\s+(\w+)", text))
    names = set(re.findall(r"[A-Za-z_@][\w.@]*", text))
    return {n for n in names if n not in INSIGHTS_WORDS | aliases and not n.startswith("@")}


def flatten(document: dict[str, Any], prefix: str = "") -> set[str]:
    """JSON keys as Logs Insights names them: nested keys joined with dots."""
    names = set()
    for key, value in document.items():
        names.add(prefix + key)
        if isinstance(value, dict):
            names |= flatten(value, f"{prefix}{key}.")
    return names


def queries(translated: dict[str, Any], resolver: Resolver) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resolver.resolve(res["Properties"])
        for logical_id, res in resources_of_type(translated, "AWS::Logs::QueryDefinition").items()
    }


def query_named(translated: dict[str, Any], resolver: Resolver, suffix: str) -> dict[str, Any]:
    (query,) = [q for q in queries(translated, resolver).values() if q["Name"].endswith(suffix)]
    return query


# -- log groups -------------------------------------------------------------------------


def test_every_function_logs_to_its_own_log_group_with_the_retention(
    translated: dict[str, Any],
) -> None:
    functions = resources_of_type(translated, "AWS::Lambda::Function")
    assert translated["Parameters"]["LogRetentionDays"]["Default"] == 30
    groups = {}
    for function_id in functions:
        target = props(translated, function_id).get("LoggingConfig", {}).get("LogGroup")
        assert isinstance(target, dict) and set(target) == {"Ref"}, f"{function_id}: {target}"
        assert translated["Resources"][target["Ref"]]["Type"] == LOG_GROUP, function_id
        groups[function_id] = target["Ref"]
    assert len(set(groups.values())) == len(functions), groups  # one each
    for days in ("30", "365"):
        resolver = Resolver(translated, {"LogRetentionDays": days})
        for function_id, group in groups.items():
            retention = resolver.resolve(props(translated, group)["RetentionInDays"])
            assert retention == days, (function_id, group)


def test_every_log_group_of_the_stack_has_the_retention(translated: dict[str, Any]) -> None:
    groups = resources_of_type(translated, LOG_GROUP)
    assert len(groups) >= 6  # four functions, the API's access and execution logs
    for logical_id, group in groups.items():
        assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}, logical_id


def test_api_gateway_writes_execution_logs_of_errors_into_a_group_with_the_retention(
    translated: dict[str, Any], resolver: Resolver
) -> None:
    """API Gateway names a stage's execution log group "API-Gateway-Execution-Logs_{rest-api-id}
    /{stage_name}" and creates it itself, without a retention, unless it exists first."""
    stage_id, properties = stage(translated)
    (setting,) = properties["MethodSettings"]
    assert setting["LoggingLevel"] == "ERROR"
    assert setting["DataTraceEnabled"] is False  # never request or response bodies
    name = f"API-Gateway-Execution-Logs_<ContentApi>/{resolver.resolve(properties['StageName'])}"
    (group,) = [
        logical_id
        for logical_id, res in resources_of_type(translated, LOG_GROUP).items()
        if resolver.resolve(res["Properties"]["LogGroupName"]) == name
    ]
    assert depends_on(translated, stage_id, group)


# -- access logs ------------------------------------------------------------------------


def test_access_logs_are_json_lines_with_the_request_and_its_latencies(
    translated: dict[str, Any],
) -> None:
    _, properties = stage(translated)
    setting = properties["AccessLogSetting"]
    destination = setting["DestinationArn"]
    assert destination["Fn::GetAtt"][1] == "Arn"
    assert translated["Resources"][destination["Fn::GetAtt"][0]]["Type"] == LOG_GROUP
    line = json.loads(render_access_log(setting["Format"]))
    assert isinstance(line, dict)
    placeholders = dict(re.findall(r'"(\w+)":"?(\$context\.[A-Za-z.]+)', setting["Format"]))
    assert {k: placeholders.get(k) for k in ACCESS_LOG_FIELDS} == ACCESS_LOG_FIELDS
    assert isinstance(line["status"], int) and isinstance(line["responseLatency"], int)


def test_the_stage_is_created_after_api_gateway_has_its_logging_role(
    translated: dict[str, Any],
) -> None:
    """Access and execution logging need the account's CloudWatch role (API Gateway Developer
    Guide, "Set up CloudWatch logging for REST APIs"), one per account and region
    (AWS::ApiGateway::Account); by default the stack sets it, before the stage."""
    stage_id, _ = stage(translated)
    assert translated["Parameters"]["CreateApiGatewayLoggingRole"]["Default"] == "true"
    assert Resolver(translated).active("ApiGatewayAccount")
    account = props(translated, "ApiGatewayAccount")
    assert account["CloudWatchRoleArn"] == {"Fn::GetAtt": ["ApiGatewayLoggingRole", "Arn"]}
    assert depends_on(translated, stage_id, "ApiGatewayAccount")
    # Kept when the stack goes: the region's setting keeps naming a role that exists.
    role = translated["Resources"]["ApiGatewayLoggingRole"]
    assert role["DeletionPolicy"] == "RetainExceptOnCreate"
    assert not Resolver(translated, {"CreateApiGatewayLoggingRole": "false"}).active(
        "ApiGatewayAccount"
    )


def test_no_resource_depends_on_one_its_conditions_may_leave_out(
    translated: dict[str, Any],
) -> None:
    # CloudFormation rejects a DependsOn on a resource that is not created (its condition
    # false) while the dependent one is.
    resources = translated["Resources"]
    for logical_id, res in resources.items():
        for other in as_list(res.get("DependsOn", [])):
            condition = resources[other].get("Condition")
            assert condition is None or res.get("Condition") == condition, (logical_id, other)


# -- the dashboard ----------------------------------------------------------------------


def test_every_dashboard_metric_names_a_resource_of_the_stack(
    translated: dict[str, Any], resolver: Resolver
) -> None:
    resources = translated["Resources"]
    env = props(translated, "ApiFunction")["Environment"]["Variables"]
    api = api_dimensions(translated, resolver)

    def resource_id(value: str, type_: str, attribute: str = "") -> str:
        found = re.fullmatch(rf"<(\w+){re.escape(attribute)}>", value)
        assert found and resources.get(found.group(1), {}).get("Type") == type_, (value, type_)
        return found.group(1)

    metrics = dashboard_metrics(translated, resolver)
    assert metrics
    for metric in metrics:
        dims = metric.dimensions
        match metric.namespace:
            case "AWS/Lambda":
                assert set(dims) == {"FunctionName"}, metric
                resource_id(dims["FunctionName"], "AWS::Lambda::Function")
            case "AWS/DynamoDB":
                assert set(dims) <= {"TableName", "GlobalSecondaryIndexName"}, metric
                table = resource_id(dims["TableName"], "AWS::DynamoDB::Table")
                if "GlobalSecondaryIndexName" in dims:
                    assert dims["GlobalSecondaryIndexName"] in table_indexes(translated, table)
            case "AWS/SQS":
                assert set(dims) == {"QueueName"}, metric
                resource_id(dims["QueueName"], "AWS::SQS::Queue", ".QueueName")
            case "AWS/ApiGateway":
                assert dims == api, metric
            case "AWS/SES":  # the account's reputation (SES developer guide, "Reputation metrics")
                assert dims == {}, metric
                assert metric.name in {"Reputation.BounceRate", "Reputation.ComplaintRate"}
            case custom:
                assert custom == env["POWERTOOLS_METRICS_NAMESPACE"], metric
                assert dims == {"service": env["POWERTOOLS_SERVICE_NAME"]}, metric
                assert metric.name in EMF_METRICS, metric


def test_the_dashboard_shows_what_the_issue_asks_for(
    translated: dict[str, Any], resolver: Resolver
) -> None:
    shown = {
        (m.namespace, m.name, tuple(sorted(m.dimensions.items())), m.stat)
        for m in dashboard_metrics(translated, resolver)
    }
    names = {(namespace, name, dims) for namespace, name, dims, _ in shown}
    api = tuple(sorted(api_dimensions(translated, resolver).items()))
    for metric in ("Count", "4XXError", "5XXError"):
        assert ("AWS/ApiGateway", metric, api) in names, metric
    for percentile in ("p50", "p99"):
        assert ("AWS/ApiGateway", "Latency", api, percentile) in shown, percentile
    for function_id in resources_of_type(translated, "AWS::Lambda::Function"):
        dims = (("FunctionName", f"<{function_id}>"),)
        for metric in ("Errors", "Throttles", "Duration", "ConcurrentExecutions"):
            assert ("AWS/Lambda", metric, dims) in names, (function_id, metric)
    for table_id in resources_of_type(translated, "AWS::DynamoDB::Table"):
        dims = (("TableName", f"<{table_id}>"),)
        for metric in (
            "ReadThrottleEvents",
            "WriteThrottleEvents",
            "ConsumedReadCapacityUnits",
            "ConsumedWriteCapacityUnits",
        ):
            assert ("AWS/DynamoDB", metric, dims) in names, (table_id, metric)
    for queue_id in dead_letter_queues(translated):
        dims = (("QueueName", f"<{queue_id}.QueueName>"),)
        assert ("AWS/SQS", "ApproximateNumberOfMessagesVisible", dims) in names, queue_id
    custom = {name for namespace, name, _ in names if not namespace.startswith("AWS/")}
    assert {"digest_sent", "digest_failed"} <= custom


# -- alarms -----------------------------------------------------------------------------


def test_every_function_has_an_alarm_on_its_throttles(
    translated: dict[str, Any], resolver: Resolver
) -> None:
    for function_id in resources_of_type(translated, "AWS::Lambda::Function"):
        dims = {"FunctionName": f"<{function_id}>"}
        found = alarms_watching(translated, resolver, "AWS/Lambda", "Throttles", dims)
        assert found, function_id
        assert all(fires_on_any(a) and a["Statistic"] == "Sum" for a in found), function_id


def test_every_table_and_index_has_an_alarm_on_throttled_requests(
    translated: dict[str, Any], resolver: Resolver
) -> None:
    for table_id in resources_of_type(translated, "AWS::DynamoDB::Table"):
        scopes = [{"TableName": f"<{table_id}>"}] + [
            {"TableName": f"<{table_id}>", "GlobalSecondaryIndexName": index}
            for index in table_indexes(translated, table_id)
        ]
        candidates = [
            alarm
            for alarm in alarms(translated, resolver).values()
            if all(
                any(
                    m.name == f"{op}ThrottleEvents" and m.dimensions == dims for m in watched(alarm)
                )
                for op in ("Read", "Write")
                for dims in scopes
            )
        ]
        (alarm,) = candidates
        assert fires_on_any(alarm), table_id
        # Metric math: the one series returned adds up every metric it reads.
        (returned,) = [q for q in alarm["Metrics"] if q.get("ReturnData", True)]
        inputs = [q["Id"] for q in alarm["Metrics"] if "MetricStat" in q]
        assert all(re.search(rf"\b{i}\b", returned["Expression"]) for i in inputs), returned


def test_an_alarm_on_the_api_p99_latency(translated: dict[str, Any]) -> None:
    resolver = Resolver(translated, {"ApiLatencyAlarmMilliseconds": "750"})
    dims = api_dimensions(translated, resolver)
    (alarm,) = alarms_watching(translated, resolver, "AWS/ApiGateway", "Latency", dims)
    assert alarm["ExtendedStatistic"] == "p99"
    assert alarm["Threshold"] == "750"
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"


def test_every_dead_letter_queue_has_an_alarm_on_its_depth(
    translated: dict[str, Any], resolver: Resolver
) -> None:
    queues = dead_letter_queues(translated)
    assert queues
    for queue_id in queues:
        dims = {"QueueName": f"<{queue_id}.QueueName>"}
        found = alarms_watching(
            translated, resolver, "AWS/SQS", "ApproximateNumberOfMessagesVisible", dims
        )
        assert found and all(fires_on_any(a) for a in found), queue_id


def test_every_alarm_notifies_the_alarm_email_when_one_is_set(translated: dict[str, Any]) -> None:
    with_email = Resolver(translated, {"AlarmEmail": "ops@example.com"})
    found = alarms(translated, with_email)
    assert found and set(found) == set(resources_of_type(translated, ALARM))
    for logical_id, alarm in found.items():
        assert alarm.get("AlarmActions") == ["<AlarmTopic>"], logical_id
        assert alarm.get("OKActions") == ["<AlarmTopic>"], logical_id


# -- Logs Insights queries --------------------------------------------------------------


def test_saved_queries_read_log_groups_of_the_stack(
    translated: dict[str, Any], resolver: Resolver
) -> None:
    found = queries(translated, resolver)
    names = {q["Name"].split("/", 1)[1] for q in found.values()}
    assert {"API slowest requests", "API errors by route", "Uploads by receipt status"} <= names
    for logical_id, res in resources_of_type(translated, "AWS::Logs::QueryDefinition").items():
        for group in res["Properties"]["LogGroupNames"]:
            assert translated["Resources"][group["Ref"]]["Type"] == LOG_GROUP, logical_id


def test_the_api_queries_read_fields_of_the_access_log(
    translated: dict[str, Any], resolver: Resolver
) -> None:
    _, properties = stage(translated)
    logged = set(json.loads(render_access_log(properties["AccessLogSetting"]["Format"])))
    access_group = properties["AccessLogSetting"]["DestinationArn"]["Fn::GetAtt"][0]
    for suffix in ("API slowest requests", "API errors by route"):
        query = query_named(translated, resolver, suffix)
        assert query["LogGroupNames"] == [f"<{access_group}>"], suffix
        used = query_fields(query["QueryString"])
        assert used and used <= logged, (suffix, used - logged)
    slowest = query_named(translated, resolver, "API slowest requests")["QueryString"]
    assert "sort responseLatency desc" in slowest


def test_the_uploads_query_reads_fields_the_ingest_logs(
    translated: dict[str, Any],
    resolver: Resolver,
    s3: Any,
    bucket: str,
    dynamodb: Any,
    stories_table: str,
) -> None:
    # The real ingest's log line for an upload, as Powertools writes it to CloudWatch Logs.
    # A service name of its own: Powertools configures a logging.Logger of a given name once
    # per process, so "signal-noise" (already set up by any earlier test that ran the ingest
    # handler) would ignore this handler.
    stream = io.StringIO()
    logger = Logger(
        service="signal-noise-operability", logger_handler=logging.StreamHandler(stream)
    )
    settings = IngestSettings.from_env(
        {**function_environment("IngestFunction"), "STORIES_TABLE": stories_table}
    )
    ingestor = Ingestor(settings, s3, StoryRepository(dynamodb, stories_table), log=logger)
    key = "incoming/query-check.json"
    s3.put_object(Bucket=bucket, Key=key, Body=(SAMPLES / "recent-2025-10-17.json").read_bytes())
    ingestor.handle_event(s3_event(s3_record(bucket, key)))
    (line,) = [json.loads(text) for text in stream.getvalue().splitlines()]
    assert line["message"] == "upload processed"

    query = query_named(translated, resolver, "Uploads by receipt status")
    assert query["LogGroupNames"] == ["<IngestFunctionLogGroup>"]
    assert props(translated, "IngestFunction")["LoggingConfig"]["LogGroup"] == {
        "Ref": "IngestFunctionLogGroup"
    }
    assert 'filter message = "upload processed"' in query["QueryString"]
    used = query_fields(query["QueryString"])
    assert {"upload.status", "upload.counts.rejected"} <= used
    assert used <= flatten(line), used - flatten(line)


# -- gateway responses ------------------------------------------------------------------


def gateway_responses(translated: dict[str, Any], resolver: Resolver) -> dict[str, Any]:
    body = resolver.resolve(props(translated, "ContentApi")["Body"])
    responses: dict[str, Any] = body["x-amazon-apigateway-gateway-responses"]
    return responses


@pytest.mark.parametrize(
    ("origins", "header"),
    [
        ("*", "'*'"),
        ("https://signal-noise.example", "'https://signal-noise.example'"),
        # One static value per response: API Gateway cannot pick among several per request.
        (
            "https://signal-noise.example,https://www.signal-noise.example",
            "'https://signal-noise.example'",
        ),
    ],
)
def test_gateway_responses_carry_the_cors_origin_of_the_parameter(
    translated: dict[str, Any], origins: str, header: str
) -> None:
    responses = gateway_responses(translated, Resolver(translated, {"CorsAllowedOrigins": origins}))
    assert set(responses) >= GATEWAY_RESPONSES
    for kind, response in responses.items():
        parameters = response["responseParameters"]
        assert parameters["gatewayresponse.header.Access-Control-Allow-Origin"] == header, kind
        assert parameters["gatewayresponse.header.Vary"] == "'Origin'", kind
        assert parameters["gatewayresponse.header.Content-Type"] == "'application/problem+json'"


def test_the_origins_parameter_only_takes_what_a_gateway_response_can_name(
    translated: dict[str, Any],
) -> None:
    pattern = re.compile(translated["Parameters"]["CorsAllowedOrigins"]["AllowedPattern"])
    for good in ("*", "https://a.example", "https://a.example,http://127.0.0.1:3000"):
        assert pattern.fullmatch(good), good
    for bad in ("https://a.example, https://b.example", " https://a.example", "a.example", ""):
        assert not pattern.fullmatch(bad), bad


@pytest.mark.parametrize("message", HOSTILE_MESSAGES)
def test_gateway_response_bodies_are_json_whatever_the_error_message(
    translated: dict[str, Any], resolver: Resolver, message: str
) -> None:
    request_id = str(uuid.uuid4())
    for kind, response in gateway_responses(translated, resolver).items():
        template = response["responseTemplates"]["application/json"]
        # The raw message is not escaped: a quote in it would end the JSON string.
        assert not re.search(r"\$context\.error\.message(?!String)", template), kind
        document = json.loads(render_gateway_response(template, message, request_id))
        assert document["type"] == "about:blank" and document["title"], kind
        assert document["request_id"] == request_id, kind
        if "$context.error.messageString" in template:
            assert document["detail"] == message, kind
        if "status" in document:  # a status in the body is the one sent
            assert str(document["status"]) == response["statusCode"], kind
