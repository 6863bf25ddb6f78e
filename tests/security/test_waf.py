"""The WAF web ACL in front of the API, as SAM's translation of ``template.yaml`` gives it: on
the v1 stage, a per-IP rate limit on ``POST /subscriptions`` only, AWS's managed rule groups,
metrics for each rule, and nothing of it when ``EnableWaf`` is false.

The scope-down statement is evaluated here the way WAF evaluates it (AWS WAF developer guide:
"Using text transformations" — URL_DECODE, NORMALIZE_PATH; "String match rule statement",
"Regex match rule statement"), over every route the template declares and the paths a client
can spell them with."""

import posixpath
import re
from typing import Any
from urllib.parse import unquote

import pytest

from devtools.template import load_template
from devtools.translate import Resolver

WAF_TYPES = ("AWS::WAFv2::WebACL", "AWS::WAFv2::WebACLAssociation")
MANAGED_GROUPS = {
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesAmazonIpReputationList",
}
EVALUATION_WINDOWS = {60, 120, 300, 600}  # seconds (WAFv2 API reference, RateBasedStatement)
LOWEST_RATE_LIMIT = 10  # AWS WAF developer guide, "Rate-based rule high-level settings"


def of_type(translated: dict[str, Any], type_: str) -> dict[str, dict[str, Any]]:
    return {k: r for k, r in translated["Resources"].items() if r["Type"] == type_}


def web_acl(translated: dict[str, Any], resolver: Resolver) -> dict[str, Any]:
    ((_, acl),) = of_type(translated, "AWS::WAFv2::WebACL").items()
    resolved: dict[str, Any] = resolver.resolve(acl["Properties"])
    return resolved


def rate_rule(translated: dict[str, Any], resolver: Resolver) -> dict[str, Any]:
    rules: list[dict[str, Any]] = web_acl(translated, resolver)["Rules"]
    (rule,) = [r for r in rules if "RateBasedStatement" in r["Statement"]]
    return rule


# -- WAF's matching, as documented ------------------------------------------------------------


def transform(value: str, transformations: list[dict[str, Any]]) -> str:
    for step in sorted(transformations, key=lambda t: int(t["Priority"])):
        kind = step["Type"]
        if kind == "NONE":
            continue
        if kind == "URL_DECODE":
            value = unquote(value)
        elif kind == "NORMALIZE_PATH":
            # Multiple slashes, self-references (/./) and back-references (/../) removed.
            trailing = value.endswith("/") and value != "/"
            value = posixpath.normpath(value).replace("//", "/") + ("/" if trailing else "")
        elif kind == "LOWERCASE":
            value = value.lower()
        else:
            raise NotImplementedError(f"text transformation {kind}")
    return value


def field(request: tuple[str, str], to_match: dict[str, Any]) -> str:
    method, path = request
    if set(to_match) == {"Method"}:
        return method
    if set(to_match) == {"UriPath"}:
        return path
    raise NotImplementedError(f"field to match {to_match}")


def matches(statement: dict[str, Any], request: tuple[str, str]) -> bool:
    ((kind, body),) = statement.items()
    if kind == "AndStatement":
        return all(matches(s, request) for s in body["Statements"])
    if kind == "OrStatement":
        return any(matches(s, request) for s in body["Statements"])
    if kind == "NotStatement":
        return not matches(body["Statement"], request)
    value = transform(field(request, body["FieldToMatch"]), body["TextTransformations"])
    if kind == "ByteMatchStatement":
        wanted, where = str(body["SearchString"]), body["PositionalConstraint"]
        return {
            "EXACTLY": value == wanted,
            "STARTS_WITH": value.startswith(wanted),
            "ENDS_WITH": value.endswith(wanted),
            "CONTAINS": wanted in value,
        }[where]
    if kind == "RegexMatchStatement":
        return re.search(body["RegexString"], value) is not None
    raise NotImplementedError(kind)


def declared_routes() -> set[tuple[str, str]]:
    """Every (METHOD, path) of every function's Api events."""
    routes = set()
    for resource in load_template()["Resources"].values():
        for event in resource.get("Properties", {}).get("Events", {}).values():
            if event["Type"] == "Api":
                routes.add((event["Properties"]["Method"].upper(), event["Properties"]["Path"]))
    return routes


# -- the tests -----------------------------------------------------------------------------------


def test_the_web_acl_is_associated_with_the_v1_stage_once_the_stage_exists(
    translated: dict[str, Any], resolver: Resolver
) -> None:
    ((_, association),) = of_type(translated, "AWS::WAFv2::WebACLAssociation").items()
    (stage_id,) = of_type(translated, "AWS::ApiGateway::Stage")
    stage = translated["Resources"][stage_id]["Properties"]
    api = resolver.resolve({"Ref": stage["RestApiId"]["Ref"]})
    properties = resolver.resolve(association["Properties"])
    assert properties["ResourceArn"] == (
        f"arn:aws:apigateway:{resolver.parameters['AWS::Region']}::/restapis/{api}"
        f"/stages/{stage['StageName']}"
    )
    assert stage["StageName"] == "v1"
    assert properties["WebACLArn"] == "<ContentApiWebAcl.Arn>"
    # The stage is SAM's, generated: without the DependsOn the association can be created
    # before it and fail (WAFNonexistentItemException).
    depends = association["DependsOn"]
    assert stage_id in (depends if isinstance(depends, list) else [depends])
    assert web_acl(translated, resolver)["Scope"] == "REGIONAL"


def test_the_rate_rule_blocks_one_client_ip_past_the_limit_with_a_429(
    translated: dict[str, Any],
) -> None:
    parameter = translated["Parameters"]["SubscribeRateLimit"]
    assert int(parameter["Default"]) >= LOWEST_RATE_LIMIT
    assert int(parameter["MinValue"]) == LOWEST_RATE_LIMIT
    resolver = Resolver(translated, {"SubscribeRateLimit": "25"})
    rule = rate_rule(translated, resolver)
    statement = rule["Statement"]["RateBasedStatement"]
    assert statement["Limit"] == "25"
    # Behind the CDN (the default) the source IP is CloudFront's: the key is the viewer's
    # address, from the header that ViewerIpFunction overwrites (tests/security/test_cdn.py).
    assert statement["AggregateKeyType"] == "FORWARDED_IP"
    assert statement["ForwardedIPConfig"] == {
        "HeaderName": "X-Viewer-Ip",
        "FallbackBehavior": "MATCH",
    }
    direct = rate_rule(translated, Resolver(translated, {"EnableCdn": "false"}))
    assert direct["Statement"]["RateBasedStatement"]["AggregateKeyType"] == "IP"
    assert "ForwardedIPConfig" not in direct["Statement"]["RateBasedStatement"]
    assert statement["EvaluationWindowSec"] in EVALUATION_WINDOWS
    response = rule["Action"]["Block"]["CustomResponse"]
    assert response["ResponseCode"] == 429
    bodies = web_acl(translated, resolver)["CustomResponseBodies"]
    assert bodies[response["CustomResponseBodyKey"]]["ContentType"] == "APPLICATION_JSON"


@pytest.mark.parametrize(
    "path", ["/v1/subscriptions", "/subscriptions", "/v1/subscriptions/", "/v1//subscriptions"]
)
def test_the_rate_rule_counts_post_subscriptions_however_the_path_is_spelled(
    translated: dict[str, Any], resolver: Resolver, path: str
) -> None:
    """/v1/... on the execute-api URL, /... behind a custom domain's base path mapping."""
    scope = rate_rule(translated, resolver)["Statement"]["RateBasedStatement"]
    assert matches(scope["ScopeDownStatement"], ("POST", path))
    assert matches(scope["ScopeDownStatement"], ("POST", path.replace("sub", "%73ub")))


def test_the_rate_rule_counts_no_other_route_of_the_api(
    translated: dict[str, Any], resolver: Resolver
) -> None:
    scope = rate_rule(translated, resolver)["Statement"]["RateBasedStatement"]
    routes = declared_routes()
    assert ("POST", "/subscriptions") in routes
    methods = {"GET", "POST", "PUT", "DELETE", "OPTIONS", "HEAD", "PATCH"}
    requests = {(m, p) for m in methods for _, p in routes} | {
        ("POST", "/v1/subscriptions/confirm"),
        ("POST", "/v1/subscriptions-extra"),
        ("POST", "/v2/subscriptions"),
        ("POST", "/v1/stories/subscriptions"),
    }
    counted = {
        (m, p)
        for m, p in requests
        if matches(scope["ScopeDownStatement"], (m, "/v1" + p if p.startswith("/") else p))
        or matches(scope["ScopeDownStatement"], (m, p))
    }
    assert counted == {("POST", "/subscriptions")}


def test_the_aws_managed_rule_groups_guard_the_api(
    translated: dict[str, Any], resolver: Resolver
) -> None:
    rules = web_acl(translated, resolver)["Rules"]
    managed = {
        r["Statement"]["ManagedRuleGroupStatement"]["Name"]: r
        for r in rules
        if "ManagedRuleGroupStatement" in r["Statement"]
    }
    assert set(managed) == MANAGED_GROUPS
    for name, rule in managed.items():
        assert rule["Statement"]["ManagedRuleGroupStatement"]["VendorName"] == "AWS"
        assert rule["OverrideAction"] == {"None": {}}, name  # the group's own actions apply
    # Requests around the CDN are refused first; then the signup limit is evaluated, before
    # a managed group can allow or count.
    order = [r["Name"] for r in sorted(rules, key=lambda r: int(r["Priority"]))]
    assert order[:2] == ["cdn-origin-only", rate_rule(translated, resolver)["Name"]]
    assert len({int(r["Priority"]) for r in rules}) == len(rules)
    direct = web_acl(translated, Resolver(translated, {"EnableCdn": "false"}))["Rules"]
    first = min(direct, key=lambda r: int(r["Priority"]))["Name"]
    assert first == rate_rule(translated, resolver)["Name"]


def test_every_rule_and_the_web_acl_publish_metrics_and_samples(
    translated: dict[str, Any], resolver: Resolver
) -> None:
    acl = web_acl(translated, resolver)
    configs = [acl["VisibilityConfig"]] + [r["VisibilityConfig"] for r in acl["Rules"]]
    for config in configs:
        assert config["CloudWatchMetricsEnabled"] is True
        assert config["SampledRequestsEnabled"] is True
    names = [c["MetricName"] for c in configs]
    assert len(set(names)) == len(names)


def test_waf_is_on_by_default_and_enable_waf_false_removes_every_waf_resource(
    translated: dict[str, Any],
) -> None:
    waf = [k for k, r in translated["Resources"].items() if r["Type"].startswith("AWS::WAFv2::")]
    assert sorted(translated["Resources"][k]["Type"] for k in waf) == sorted(WAF_TYPES)
    assert translated["Parameters"]["EnableWaf"]["Default"] == "true"
    on, off = Resolver(translated), Resolver(translated, {"EnableWaf": "false"})
    assert all(on.active(k) for k in waf)
    assert not any(off.active(k) for k in waf)
    # Nothing left in the stack refers to them when they are off.
    for logical_id, resource in translated["Resources"].items():
        if logical_id in waf or not off.active(logical_id):
            continue
        text = repr(resource)
        assert not any(f"'{k}'" in text for k in waf), logical_id
