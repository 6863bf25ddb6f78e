"""The CloudFront distribution in front of the API, as SAM's translation of ``template.yaml``
gives it: a cache key of exactly what the API reads, the API's own Cache-Control honoured,
HTTPS only, HTTP/2 and HTTP/3, compression, the signup routes never cached, no way around it
to the execute-api URL, links on the public base URL, and nothing of it when ``EnableCdn`` is
false.

CloudFront's rules these tests hold the template to: a cache policy's query strings and headers
are both the cache key and all that reaches the origin (CloudFront developer guide,
"Understand cache policies"); forwarding ``Host`` to an execute-api origin makes API Gateway
answer 403 (AWS re:Post knowledge center, "configure CloudFront to forward headers"); the TTL
the origin's ``s-maxage``/``max-age`` asks for is used when it lies between the policy's MinTTL
and MaxTTL ("Managing how long content stays in the cache")."""

import re
from typing import Any

import pytest

from devtools.translate import Resolver
from newsroom.http.caching import CACHE_KEY_HEADERS, Freshness
from newsroom.read_api.operations import CACHE_KEY_QUERY_PARAMETERS
from tests.support.template_routes import api_events

CDN_TYPES = {
    "AWS::CloudFront::Distribution",
    "AWS::CloudFront::CachePolicy",
    "AWS::CloudFront::OriginRequestPolicy",
    "AWS::CloudFront::Function",
    "AWS::SecretsManager::Secret",
}
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # Managed-CachingDisabled
API_FUNCTIONS = {"ApiFunction", "SubscriptionsFunction"}  # event sources of the API
SECRET_REFERENCE = "{{resolve:secretsmanager:<OriginVerifySecret>:SecretString}}"


def properties(translated: dict[str, Any], resolver: Resolver, logical_id: str) -> Any:
    return resolver.resolve(translated["Resources"][logical_id]["Properties"])


def distribution(translated: dict[str, Any], resolver: Resolver) -> dict[str, Any]:
    config: dict[str, Any] = properties(translated, resolver, "ApiDistribution")[
        "DistributionConfig"
    ]
    return config


def behaviours(config: dict[str, Any]) -> list[dict[str, Any]]:
    return [config["DefaultCacheBehavior"], *config.get("CacheBehaviors", [])]


def behaviour_for(config: dict[str, Any], path: str) -> dict[str, Any]:
    """The behaviour CloudFront picks for ``path``: the first pattern that matches, else the
    default (``*`` matches any characters, CloudFront developer guide "Path pattern")."""
    for behaviour in config.get("CacheBehaviors", []):
        pattern = re.escape(behaviour["PathPattern"]).replace(r"\*", ".*")
        if re.fullmatch(pattern, path):
            return dict(behaviour)
    return dict(config["DefaultCacheBehavior"])


def function_env(translated: dict[str, Any], resolver: Resolver, function: str) -> Any:
    props = properties(translated, resolver, function)
    return props["Environment"]["Variables"]


# -- the cache ----------------------------------------------------------------------------------


def test_the_cache_key_is_exactly_the_query_parameters_and_headers_the_api_reads(
    translated: dict[str, Any], resolver: Resolver
) -> None:
    config = properties(translated, resolver, "ApiCachePolicy")["CachePolicyConfig"]
    key = config["ParametersInCacheKeyAndForwardedToOrigin"]
    assert key["QueryStringsConfig"]["QueryStringBehavior"] == "whitelist"
    assert sorted(key["QueryStringsConfig"]["QueryStrings"]) == sorted(CACHE_KEY_QUERY_PARAMETERS)
    assert key["HeadersConfig"] == {
        "HeaderBehavior": "whitelist",
        "Headers": list(CACHE_KEY_HEADERS),
    }
    assert key["CookiesConfig"] == {"CookieBehavior": "none"}
    assert key["EnableAcceptEncodingGzip"] is True and key["EnableAcceptEncodingBrotli"] is True


def test_the_cache_honours_the_apis_cache_control_and_caches_nothing_without_it(
    translated: dict[str, Any], resolver: Resolver
) -> None:
    config = properties(translated, resolver, "ApiCachePolicy")["CachePolicyConfig"]
    assert int(config["MinTTL"]) == 0  # no-store errors are never kept
    assert int(config["DefaultTTL"]) == 0  # nor an answer that says nothing
    # The longest s-maxage the API can send (CacheSeconds' maximum) is used as sent.
    longest = Freshness(int(translated["Parameters"]["CacheSeconds"]["MaxValue"]))
    assert longest.seconds <= int(config["MaxTTL"])
    env = function_env(translated, resolver, "ApiFunction")
    assert env["CACHE_SECONDS"] == str(translated["Parameters"]["CacheSeconds"]["Default"])


def test_a_failing_origins_errors_are_not_kept_so_stale_if_error_serves_the_last_good_copy(
    translated: dict[str, Any], resolver: Resolver
) -> None:
    errors = {
        int(e["ErrorCode"]): e for e in distribution(translated, resolver)["CustomErrorResponses"]
    }
    for status in (500, 502, 503, 504):
        assert int(errors[status]["ErrorCachingMinTTL"]) == 0, status
        assert "ResponsePagePath" not in errors[status]  # the API's problem document stays


def test_the_signup_routes_are_never_cached_and_get_every_query_parameter(
    translated: dict[str, Any], resolver: Resolver
) -> None:
    config = distribution(translated, resolver)
    routes = {
        (event["Method"].upper(), event["Path"])
        for function in ("ApiFunction", "SubscriptionsFunction")
        for event in api_events(function).values()
    }
    assert ("POST", "/subscriptions") in routes and ("GET", "/stories") in routes
    for method, path in routes:
        behaviour = behaviour_for(config, path)
        if path.startswith("/subscriptions"):
            assert behaviour["CachePolicyId"] == CACHING_DISABLED, path
            policy = properties(translated, resolver, "SubscriptionsOriginRequestPolicy")
            queries = policy["OriginRequestPolicyConfig"]["QueryStringsConfig"]
            assert queries == {"QueryStringBehavior": "all"}  # ?token=...
            assert method in behaviour["AllowedMethods"]
        else:
            assert behaviour["CachePolicyId"] == "<ApiCachePolicy>", path
            assert behaviour["AllowedMethods"] == ["GET", "HEAD", "OPTIONS"]
            assert method in behaviour["AllowedMethods"], (method, path)


def test_host_never_reaches_the_execute_api_origin(
    translated: dict[str, Any], resolver: Resolver
) -> None:
    cache = properties(translated, resolver, "ApiCachePolicy")["CachePolicyConfig"]
    forwarded = cache["ParametersInCacheKeyAndForwardedToOrigin"]["HeadersConfig"]["Headers"]
    policy = properties(translated, resolver, "SubscriptionsOriginRequestPolicy")
    headers = policy["OriginRequestPolicyConfig"]["HeadersConfig"]
    assert headers["HeaderBehavior"] == "whitelist"
    for name in [*forwarded, *headers["Headers"]]:
        assert name.lower() not in {"host", "x-forwarded-for"}, name


# -- the viewer side ---------------------------------------------------------------------------


def test_viewers_get_https_only_http2_and_http3_and_compression(
    translated: dict[str, Any], resolver: Resolver
) -> None:
    config = distribution(translated, resolver)
    assert config["HttpVersion"] == "http2and3"
    for behaviour in behaviours(config):
        assert behaviour["ViewerProtocolPolicy"] == "https-only"
        assert behaviour["Compress"] is True
        assert behaviour["ResponseHeadersPolicyId"]  # HSTS, nosniff (managed security headers)
    (origin,) = config["Origins"]
    assert origin["DomainName"] == "<ContentApi>.execute-api.us-east-1.amazonaws.com"
    assert origin["OriginPath"] == "/v1"
    assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"


def test_a_custom_domain_gets_its_certificate_and_modern_tls(translated: dict[str, Any]) -> None:
    arn = "arn:aws:acm:us-east-1:123456789012:certificate/abc"
    resolver = Resolver(translated, {"CdnDomainName": "api.example.org", "CdnCertificateArn": arn})
    config = distribution(translated, resolver)
    assert config["Aliases"] == ["api.example.org"]
    assert config["ViewerCertificate"] == {
        "AcmCertificateArn": arn,
        "SslSupportMethod": "sni-only",
        "MinimumProtocolVersion": "TLSv1.2_2021",
    }
    assert re.fullmatch(translated["Parameters"]["CdnCertificateArn"]["AllowedPattern"], arn)
    # CloudFront takes certificates from us-east-1 only.
    elsewhere = arn.replace("us-east-1", "eu-west-1")
    assert not re.fullmatch(
        translated["Parameters"]["CdnCertificateArn"]["AllowedPattern"], elsewhere
    )
    assert "Aliases" not in distribution(translated, Resolver(translated))


# -- no way around it ----------------------------------------------------------------------------


def origin_rule(translated: dict[str, Any], resolver: Resolver) -> dict[str, Any]:
    (acl,) = [r for r in translated["Resources"].values() if r["Type"] == "AWS::WAFv2::WebACL"]
    rules = resolver.resolve(acl["Properties"])["Rules"]
    (rule,) = [r for r in rules if r["Name"] == "cdn-origin-only"]
    return dict(rule)


def refused(rule: dict[str, Any], headers: dict[str, str]) -> bool:
    """WAF's verdict on a request with ``headers`` (header names match case-insensitively;
    AWS WAF developer guide, "Request components": single header)."""
    match = rule["Statement"]["NotStatement"]["Statement"]["ByteMatchStatement"]
    assert match["PositionalConstraint"] == "EXACTLY"
    assert match["TextTransformations"] == [{"Priority": 0, "Type": "NONE"}]
    name = match["FieldToMatch"]["SingleHeader"]["Name"]
    value = {k.lower(): v for k, v in headers.items()}.get(name.lower())
    return "Block" in rule["Action"] and value != match["SearchString"]


def test_only_requests_carrying_cloudfronts_secret_header_reach_the_api(
    translated: dict[str, Any], resolver: Resolver
) -> None:
    (origin,) = distribution(translated, resolver)["Origins"]
    (header,) = origin["OriginCustomHeaders"]
    assert header["HeaderName"] == "X-Origin-Verify"
    # The value is generated by Secrets Manager at deploy time: no literal in the repository.
    assert header["HeaderValue"] == SECRET_REFERENCE
    secret = properties(translated, resolver, "OriginVerifySecret")
    assert int(secret["GenerateSecretString"]["PasswordLength"]) >= 32

    rule = origin_rule(translated, resolver)
    assert rule["Action"]["Block"]["CustomResponse"]["ResponseCode"] == 403
    assert not refused(rule, {header["HeaderName"]: header["HeaderValue"]})
    assert not refused(rule, {"x-origin-verify": header["HeaderValue"]})
    assert refused(rule, {})  # a client on the execute-api URL
    assert refused(rule, {"X-Origin-Verify": "guess"})
    assert refused(rule, {"X-Origin-Verify": header["HeaderValue"] + " "})


def test_the_signup_rate_limit_keys_on_the_address_cloudfront_saw(
    translated: dict[str, Any], resolver: Resolver
) -> None:
    config = distribution(translated, resolver)
    behaviour = behaviour_for(config, "/subscriptions")
    (association,) = behaviour["FunctionAssociations"]
    assert association["EventType"] == "viewer-request"
    assert association["FunctionARN"] == "<ViewerIpFunction.FunctionMetadata.FunctionARN>"
    code = properties(translated, resolver, "ViewerIpFunction")["FunctionCode"]
    # Overwritten from event.viewer.ip, whatever the viewer sent.
    assert "request.headers['x-viewer-ip'] = { value: event.viewer.ip }" in code
    policy = properties(translated, resolver, "SubscriptionsOriginRequestPolicy")
    assert "X-Viewer-Ip" in policy["OriginRequestPolicyConfig"]["HeadersConfig"]["Headers"]
    # Cache hits of the read routes run no function (each viewer request of its behaviour
    # would be billed).
    assert "FunctionAssociations" not in config["DefaultCacheBehavior"]


# -- links -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("parameters", "public", "api_fixed", "api_lookup"),
    [
        ({}, "https://<ApiDistribution.DomainName>", "", "/signal-noise/public-base-url"),
        (
            {
                "CdnDomainName": "api.example.org",
                "CdnCertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/x",
            },
            "https://api.example.org",
            "https://api.example.org",
            "",
        ),
        (
            {"EnableCdn": "false"},
            "https://<ContentApi>.execute-api.us-east-1.amazonaws.com/v1",
            "",
            "",
        ),
        (
            {"PublicApiUrl": "https://news.example.org/api"},
            "https://news.example.org/api",
            "https://news.example.org/api",
            "",
        ),
    ],
)
def test_links_point_to_the_public_base_url_never_the_execute_api_host_behind_the_cdn(
    translated: dict[str, Any],
    parameters: dict[str, str],
    public: str,
    api_fixed: str,
    api_lookup: str,
) -> None:
    resolver = Resolver(translated, parameters)
    assert properties(translated, resolver, "PublicBaseUrl")["Value"] == public
    api = function_env(translated, resolver, "ApiFunction")
    assert (api["PUBLIC_API_URL"], api["PUBLIC_BASE_URL_PARAMETER"]) == (api_fixed, api_lookup)
    if api_lookup:
        assert properties(translated, resolver, "PublicBaseUrl")["Name"] == api_lookup
    # The functions that write emails (no event source of the API) get the value itself.
    emailing = set()
    for logical_id, resource in translated["Resources"].items():
        if resource["Type"] != "AWS::Lambda::Function" or logical_id in API_FUNCTIONS:
            continue
        env = resolver.resolve(resource["Properties"].get("Environment", {})).get("Variables", {})
        if "PUBLIC_API_URL" in env:
            assert env["PUBLIC_API_URL"] == "<PublicBaseUrl.Value>", logical_id
            emailing.add(logical_id)
    assert {"MailerFunction", "DigestSenderFunction"} <= emailing, emailing


def test_enable_cdn_false_removes_every_cdn_resource_and_nothing_refers_to_them(
    translated: dict[str, Any],
) -> None:
    cdn = [k for k, r in translated["Resources"].items() if r["Type"] in CDN_TYPES]
    assert {translated["Resources"][k]["Type"] for k in cdn} == CDN_TYPES
    assert translated["Parameters"]["EnableCdn"]["Default"] == "true"
    on, off = Resolver(translated), Resolver(translated, {"EnableCdn": "false"})
    assert all(on.active(k) for k in cdn)
    assert not any(off.active(k) for k in cdn)
    for logical_id, resource in translated["Resources"].items():
        if logical_id in cdn or not off.active(logical_id):
            continue
        text = repr(off.resolve(resource))
        for gone in cdn:
            assert f"<{gone}" not in text, (logical_id, gone)
    outputs = {
        k
        for k, o in translated["Outputs"].items()
        if "Condition" not in o or off.condition(o["Condition"])
    }
    assert "PublicUrl" in outputs and "DistributionId" not in outputs
