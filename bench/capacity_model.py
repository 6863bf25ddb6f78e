"""The capacity and cost model: a traffic profile, the deployed settings (``template.yaml``
and a ``samconfig.toml`` environment) and the measured figures of this code
(``bench.capacity_measure``) in; per-route units and dollars, monthly cost, each
component's ceiling, a spike through a model of the cache, the ingest of a large batch and
the digest out. Pure functions of their inputs: the tests drive them with known figures.

The cache: every public answer is fresh for ``C`` seconds (``CacheSeconds``: max-age,
s-maxage and stale-while-revalidate, ``newsroom.http.caching.Freshness``). CloudFront's
POPs fetch misses through its regional edge caches (or one Origin Shield), and each of those
``L`` locations refetches a URL at most once per ``C`` seconds (request collapsing; with
stale-while-revalidate the refetch does not hold viewers up). So one hot URL sends at most
``L / C`` requests per second to the origin, whatever its viewers do; the long tail of URLs
is modelled by an overall hit rate (a profile field).
"""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bench import capacity_prices as price
from bench.capacity_measure import ROUTE_METHODS, Measured, RouteMeasure
from bench.capacity_prices import GB, MILLION, Quote
from bench.capacity_units import write_units

DAY = 86_400

# -- inputs ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Profile:
    """The traffic the model is asked about (every field can be set from the command line)."""

    environment: str = "prod"  # whose samconfig.toml parameter overrides to deploy with
    daily_readers: int = 1_000_000
    requests_per_reader: float = 5.0
    route_mix: Mapping[str, float] = field(
        default_factory=lambda: {
            "story": 0.55,
            "list": 0.25,
            "list_topic": 0.10,
            "feed_json": 0.03,
            "feed_xml": 0.07,
        }
    )
    hit_rate: float = 0.90  # of viewer requests CloudFront answers from its cache
    peak_to_average: float = 3.0  # the busiest hour's rate over the day's average
    origin_shield: bool | None = None  # None: as the template's distribution says
    spike_multiplier: float = 100.0  # one story at this many times the usual (peak) traffic
    spike_seconds: int = 600
    spike_margin_seconds: int = 300  # shown before and after the spike
    stories_per_day: int = 100
    ingest_batch: int = 100_000  # stories uploaded at once
    subscribers: int = 1_000_000
    ses_rate: float = 100.0  # the account's SES sending quota, emails per second
    days_per_month: float = 30.0

    @property
    def viewer_requests_per_day(self) -> float:
        return self.daily_readers * self.requests_per_reader

    @property
    def average_rps(self) -> float:
        return self.viewer_requests_per_day / DAY

    @property
    def peak_rps(self) -> float:
        return self.average_rps * self.peak_to_average


@dataclass(frozen=True, slots=True)
class Goals:
    """The issue's goals, with the defaults."""

    cost_per_million_reads: float = 1.50
    first_ceiling_rps: float = 20_000
    ingest_seconds: float = 3600
    digest_seconds: float = 3 * 3600


@dataclass(frozen=True, slots=True)
class Deployment:
    """What the template deploys with one environment's parameters (read, never typed in)."""

    environment: str
    overrides: Mapping[str, str]
    parameters: Mapping[str, str]
    memory_mb: Mapping[str, int]
    timeout_s: Mapping[str, int]
    throttle_rate: float  # per method (ApiThrottlingRateLimit)
    throttle_burst: float
    cache_seconds: int
    cdn_enabled: bool
    origin_shield: bool
    waf_enabled: bool
    waf_rules: int
    alarms: int
    dashboards: int
    ingest_concurrency: int
    ingest_reserved: int  # 0: none
    max_stories_per_file: int
    ses_max_send_rate: float
    digest_senders: int
    api_tracing: bool
    access_log_format: str
    log_format: str  # Lambda's LoggingConfig LogFormat: Text or JSON


# -- results ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RouteCost:
    """What one route costs per million viewer requests at the profile's hit rate."""

    route: str
    share: float
    origin_requests: float  # per million viewer requests
    read_units: float
    lambda_gb_seconds: float
    lambda_billed_ms: int  # per origin request
    transfer_gb: float
    log_bytes: float
    traces: float
    dollars: Mapping[str, float]  # component -> $ per million viewer requests

    @property
    def total(self) -> float:
        return sum(self.dollars.values())


@dataclass(frozen=True, slots=True)
class Ceiling:
    component: str
    limit: str  # the quota or setting, with its value
    viewer_rps: float
    remedy: str  # what it would take to reach the goal, when it is below it


@dataclass(frozen=True, slots=True)
class IngestResult:
    stories: int
    files: int
    invocations_at_once: int
    stories_per_second_per_invocation: float
    bound_by: str  # "CPU" or "writers"
    seconds_per_file: float
    file_within_timeout: bool
    seconds: float
    write_units_per_second: float
    feed_partition_units_per_second: float
    topic_partition_units_per_second: float
    throttles: list[str]
    remedy: str
    capped_invocations: int  # at most this many at once stay under every limit
    capped_seconds: float


@dataclass(frozen=True, slots=True)
class DigestResult:
    subscribers: int
    send_rate: float
    bound_by: str
    senders: int
    senders_needed: int
    seconds: float
    planner_seconds: float
    dollars_per_run: Mapping[str, float]
    confirmed_partition_write_units_per_second: float
    remedy: str
    goal_settings: Mapping[str, float]  # the parameters that would meet the goal, if any do


# -- the deployment, from template.yaml and samconfig.toml ---------------------------------


def _condition_rules(rules: Sequence[Any]) -> int:
    """Rules of a web ACL; a rule under ``Fn::If`` counts (the conditions that keep it are the
    deployed defaults: CDN on)."""
    return sum(1 for rule in rules if rule)


def load_deployment(environment: str) -> Deployment:
    """The deployed settings of ``environment`` (samconfig.toml) over the template's defaults."""
    from devtools.samconfig import deploy_parameters, parameter_overrides
    from devtools.template import load_template
    from newsroom.http.caching import Freshness

    template = load_template()
    resources = template["Resources"]
    parameters = deploy_parameters(environment)
    globals_ = template.get("Globals", {}).get("Function", {})
    memory = {}
    timeout = {}
    for name, spec in resources.items():
        if spec["Type"] == "AWS::Serverless::Function":
            props = spec.get("Properties", {})
            memory[name] = int(props.get("MemorySize", globals_.get("MemorySize", 128)))
            timeout[name] = int(props.get("Timeout", globals_.get("Timeout", 3)))
    methods = resources["ContentApi"]["Properties"].get("MethodSettings", [{}])
    acl = resources.get("ContentApiWebAcl", {}).get("Properties", {})
    origins = (
        resources.get("ApiDistribution", {})
        .get("Properties", {})
        .get("DistributionConfig", {})
        .get("Origins", [])
    )
    api_props = resources["ContentApi"]["Properties"]
    logging = resources["ApiFunction"]["Properties"].get("LoggingConfig", {})

    def number(name: str, default: float) -> float:
        value = parameters.get(name, "")
        return float(value) if value not in ("", None) else default

    throttle = methods[0]
    rate = throttle.get("ThrottlingRateLimit")
    burst = throttle.get("ThrottlingBurstLimit")
    return Deployment(
        environment=environment,
        overrides=parameter_overrides(environment),
        parameters=parameters,
        memory_mb=memory,
        timeout_s=timeout,
        throttle_rate=number(rate["Ref"], 10_000)
        if isinstance(rate, dict)
        else float(rate or 10_000),
        throttle_burst=number(burst["Ref"], 5_000)
        if isinstance(burst, dict)
        else float(burst or 5_000),
        cache_seconds=int(number("CacheSeconds", Freshness().seconds)),
        cdn_enabled=parameters.get("EnableCdn", "false") == "true"
        and "ApiDistribution" in resources,
        origin_shield=any(o.get("OriginShield", {}).get("Enabled") is True for o in origins),
        waf_enabled=parameters.get("EnableWaf", "false") == "true" and bool(acl),
        waf_rules=_condition_rules(acl.get("Rules", [])),
        alarms=sum(1 for r in resources.values() if r["Type"] == "AWS::CloudWatch::Alarm"),
        dashboards=sum(1 for r in resources.values() if r["Type"] == "AWS::CloudWatch::Dashboard"),
        ingest_concurrency=int(number("IngestConcurrency", 16)),
        ingest_reserved=int(number("IngestReservedConcurrency", 0)),
        max_stories_per_file=int(number("MaxStoriesPerFile", 10_000)),
        ses_max_send_rate=number("SesMaxSendRate", 1),
        digest_senders=int(number("DigestSenderMaxConcurrency", 1)),
        api_tracing=bool(api_props.get("TracingEnabled")),
        access_log_format=str(api_props.get("AccessLogSetting", {}).get("Format", "")),
        log_format=str(logging.get("LogFormat", "Text")),
    )


# -- per request -----------------------------------------------------------------------------


def cpu_slowdown(memory_mb: int) -> float:
    """How much slower CPU-bound code runs in Lambda at ``memory_mb`` than on one full core
    (Lambda allocates CPU in proportion to memory, one vCPU at 1,769 MB); this machine's core
    is taken as one vCPU."""
    return max(1.0, price.LAMBDA_FULL_VCPU_MB.value / memory_mb)


def lambda_ms(handler_us: float, dynamodb_calls: float, memory_mb: int) -> float:
    """Wall milliseconds of one invocation: the measured handler time at Lambda's CPU share
    plus each DynamoDB call's round trip."""
    return (
        handler_us / 1000 * cpu_slowdown(memory_mb) + dynamodb_calls * price.DYNAMODB_CALL_MS.value
    )


def origin_seconds(measured: Measured, deployment: Deployment, profile: Profile) -> float:
    """Mean seconds of one origin request of the profile's mix (its Lambda invocation)."""
    memory = deployment.memory_mb["ApiFunction"]
    return sum(
        share * lambda_ms(r.handler_us, r.dynamodb_calls, memory) / 1000
        for r, share in ((measured.routes[n], s) for n, s in profile.route_mix.items())
    )


def billed_ms(duration_ms: float) -> int:
    """Lambda bills duration rounded up to the next millisecond."""
    return max(1, math.ceil(duration_ms - 1e-9))


_CONTEXT_VALUES = {
    "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
    "extendedRequestId": "Ab1CdEfGhIjKlMn=",
    "identity.sourceIp": "203.0.113.75",
    "requestTime": "22/Oct/2025:14:05:09 +0000",
    "protocol": "HTTP/1.1",
    "responseLatency": "12",
    "integrationLatency": "10",
    "integrationStatus": "200",
    "error.responseType": "-",
    "xrayTraceId": "Root=1-68f8e4b5-0123456789abcdef01234567",
}


def access_log_line(fmt: str, route: RouteMeasure) -> str:
    """The API stage's access log line for one request of ``route``: the template's format
    with this request's values (what API Gateway writes to ApiAccessLogGroup)."""
    import re

    method, resource_path = route.method.split(" ", 1)
    values = {
        **_CONTEXT_VALUES,
        "httpMethod": method,
        "resourcePath": resource_path,
        "path": resource_path.replace("{slug}", "a-typical-story-slug-of-forty-characters"),
        "status": str(route.status),
        "responseLength": str(round(route.body_bytes)),
    }
    return re.sub(r"\$context\.([A-Za-z.]+)", lambda m: values.get(m.group(1), "-"), fmt)


_XRAY_SEGMENT = (
    "\nXRAY TraceId: 1-68f8e4b5-0123456789abcdef01234567\tSegmentId: 0123456789abcdef\t"
    "Sampled: true\t"
)


def platform_log_lines(
    duration_ms: float, memory_mb: int, log_format: str, traced: bool
) -> list[str]:
    """Lambda's own log lines per invocation (START, END, REPORT, with the X-Ray segment when
    the invocation is traced), in the function's log format."""
    request = "8f5e6b0e-6c4c-4f3a-9b1e-2d3c4b5a6f70"
    if log_format.upper() == "JSON":
        time = '"time":"2025-10-22T14:05:09.123Z"'
        lines = [
            f'{{{time},"type":"platform.start","record":{{"requestId":"{request}",'
            '"version":"$LATEST"}}',
            f'{{{time},"type":"platform.report","record":{{"requestId":"{request}","metrics":'
            f'{{"durationMs":{duration_ms:.3f},"billedDurationMs":{billed_ms(duration_ms)},'
            f'"memorySizeMB":{memory_mb},"maxMemoryUsedMB":98}},"status":"success"}}}}',
        ]
    else:
        lines = [
            f"START RequestId: {request} Version: $LATEST",
            f"END RequestId: {request}",
            f"REPORT RequestId: {request}\tDuration: {duration_ms:.2f} ms\t"
            f"Billed Duration: {billed_ms(duration_ms)} ms\tMemory Size: {memory_mb} MB\t"
            f"Max Memory Used: 98 MB\t",
        ]
    if traced:
        lines[-1] += _XRAY_SEGMENT
    return lines


def traced_fraction(origin_rps: float) -> float:
    """The share of origin requests X-Ray records under the default rule: the first each
    second, then 5 % of the rest."""
    if origin_rps <= 0:
        return 0.0
    reservoir = min(origin_rps, price.XRAY_RESERVOIR.value)
    return (reservoir + price.XRAY_FIXED_RATE.value * (origin_rps - reservoir)) / origin_rps


def origin_log_bytes(
    route: RouteMeasure, deployment: Deployment, duration_ms: float, traced: float
) -> float:
    """CloudWatch Logs bytes ingested for one origin request: Lambda's lines, the function's
    own (measured), the stage's access log line; each event with its 26-byte overhead."""
    memory = deployment.memory_mb["ApiFunction"]
    untraced = platform_log_lines(duration_ms, memory, deployment.log_format, traced=False)
    traced_lines = platform_log_lines(duration_ms, memory, deployment.log_format, traced=True)
    events = [*untraced, access_log_line(deployment.access_log_format, route)]
    size = sum(len(e.encode("utf-8")) + price.LOG_EVENT_OVERHEAD.value for e in events)
    size += traced * (len(traced_lines[-1]) - len(untraced[-1]))  # the REPORT's X-Ray segment
    size += route.function_log_bytes + route.function_log_events * price.LOG_EVENT_OVERHEAD.value
    return size


def route_cost(
    route: RouteMeasure,
    share: float,
    deployment: Deployment,
    hit_rate: float,
    origin_rps: float,
) -> RouteCost:
    """Units and dollars of ``route`` per million viewer requests (origin requests are the
    misses; CloudFront answers the hits)."""
    miss = 1.0 - hit_rate if deployment.cdn_enabled else 1.0
    origin = MILLION * miss
    memory = deployment.memory_mb["ApiFunction"]
    duration = lambda_ms(route.handler_us, route.dynamodb_calls, memory)
    billed = billed_ms(duration)
    gb_seconds = origin * billed / 1000 * memory / 1024
    traced = traced_fraction(origin_rps) if deployment.api_tracing else 0.0
    log_bytes = origin * origin_log_bytes(route, deployment, duration, traced)
    transfer = MILLION * (route.gzip_bytes + route.header_bytes) / GB
    dollars = {
        "CloudFront requests": MILLION * price.CLOUDFRONT_HTTPS_REQUEST.value
        if deployment.cdn_enabled
        else 0.0,
        "CloudFront transfer": transfer * price.CLOUDFRONT_DATA_OUT.value,
        "API Gateway": origin * price.API_GATEWAY_REST_REQUEST.value,
        "WAF": origin * price.WAF_REQUEST.value if deployment.waf_enabled else 0.0,
        "Lambda requests": origin * price.LAMBDA_REQUEST.value,
        "Lambda duration": gb_seconds * price.LAMBDA_GB_SECOND.value,
        "DynamoDB reads": origin * route.read_units * price.DYNAMODB_READ_REQUEST_UNIT.value,
        "CloudWatch Logs": log_bytes / GB * price.LOGS_INGESTED.value,
        "X-Ray": origin * traced * price.XRAY_TRACE_RECORDED.value,
    }
    return RouteCost(
        route=route.name,
        share=share,
        origin_requests=origin,
        read_units=origin * route.read_units,
        lambda_gb_seconds=gb_seconds,
        lambda_billed_ms=billed,
        transfer_gb=transfer,
        log_bytes=log_bytes,
        traces=origin * traced,
        dollars=dollars,
    )


def route_costs(
    measured: Measured, deployment: Deployment, profile: Profile, hit_rate: float | None = None
) -> list[RouteCost]:
    """Every route of the profile's mix, per million viewer requests of that route."""
    hit = profile.hit_rate if hit_rate is None else hit_rate
    miss = 1.0 - hit if deployment.cdn_enabled else 1.0
    origin_rps = profile.average_rps * miss
    return [
        route_cost(measured.routes[name], share, deployment, hit, origin_rps)
        for name, share in profile.route_mix.items()
    ]


def cost_per_million_reads(costs: Sequence[RouteCost], *, transfer: bool = True) -> float:
    """Dollars per million viewer requests of the profile's mix."""
    total = 0.0
    for cost in costs:
        dollars = cost.total if transfer else cost.total - cost.dollars["CloudFront transfer"]
        total += cost.share * dollars
    return total


def hit_rate_for(
    measured: Measured, deployment: Deployment, profile: Profile, target: float
) -> float | None:
    """The lowest hit rate (to 0.1 %) at which the mix costs at most ``target`` per million
    reads, or None when even 100 % does not."""
    if cost_per_million_reads(route_costs(measured, deployment, profile, 1.0)) > target:
        return None
    low, high = 0.0, 1.0
    for _ in range(40):
        mid = (low + high) / 2
        if cost_per_million_reads(route_costs(measured, deployment, profile, mid)) <= target:
            high = mid
        else:
            low = mid
    return math.ceil(high * 1000) / 1000


# -- monthly ---------------------------------------------------------------------------------


def monthly_cost(
    measured: Measured,
    deployment: Deployment,
    profile: Profile,
    costs: Sequence[RouteCost],
    digest: DigestResult,
) -> dict[str, float]:
    """Dollars a month for the profile: reads, the daily ingest, the daily digest, and what
    the stack costs whatever the traffic (web ACL and rules, alarms, dashboards)."""
    reads_m = profile.viewer_requests_per_day * profile.days_per_month / MILLION
    ingest = (
        ingest_cost_per_story(measured, deployment)
        * profile.stories_per_day
        * profile.days_per_month
    )
    fixed = (
        deployment.alarms * price.ALARM_MONTH.value
        + deployment.dashboards * price.DASHBOARD_MONTH.value
    )
    if deployment.waf_enabled:
        fixed += price.WAF_WEB_ACL_MONTH.value + deployment.waf_rules * price.WAF_RULE_MONTH.value
    return {
        "reads": reads_m * cost_per_million_reads(costs),
        "ingest": ingest,
        "digest": sum(digest.dollars_per_run.values()) * profile.days_per_month,
        "fixed (WAF ACL and rules, alarms, dashboard)": fixed,
    }


def ingest_cost_per_story(measured: Measured, deployment: Deployment) -> float:
    """Dollars to ingest one story: its writes and reads, the ingest's Lambda time (CPU at its
    memory's share), requests and logs (per file, spread over a full file)."""
    memory = deployment.memory_mb["IngestFunction"]
    ingest = measured.ingest
    seconds = ingest.cpu_ms_per_story / 1000 * cpu_slowdown(memory)
    per_file = 1 / max(deployment.max_stories_per_file, 1)
    log_bytes = per_file * (
        ingest.log_bytes_per_file + ingest.log_events_per_file * price.LOG_EVENT_OVERHEAD.value
    )
    return (
        ingest.write_units_per_story * price.DYNAMODB_WRITE_REQUEST_UNIT.value
        + ingest.read_units_per_story * price.DYNAMODB_READ_REQUEST_UNIT.value
        + seconds * memory / 1024 * price.LAMBDA_GB_SECOND.value
        + per_file * price.LAMBDA_REQUEST.value
        + log_bytes / GB * price.LOGS_INGESTED.value
    )


# -- ceilings --------------------------------------------------------------------------------


def method_shares(profile: Profile) -> dict[str, float]:
    """The share of viewer requests each API Gateway method gets (its routes' shares)."""
    shares: dict[str, float] = {}
    for name, share in profile.route_mix.items():
        shares[ROUTE_METHODS[name]] = shares.get(ROUTE_METHODS[name], 0.0) + share
    return shares


def partition_read_units(measured: Measured, profile: Profile) -> dict[str, float]:
    """Read units per viewer request (before the cache) that land on each index partition: the
    feed's "feed" partition for the first pages and the feeds; a topic's list on its topic's
    partition (topic lists asked for in proportion to how many stories carry each topic, so
    the busiest topic's partition takes that topic's share of them)."""
    units: dict[str, float] = {}
    for name, share in profile.route_mix.items():
        route = measured.routes[name]
        if not route.partition:
            continue
        weight = (
            share if route.partition == "feed" else share * measured.items.top_topic_request_share
        )
        units[route.partition] = units.get(route.partition, 0.0) + weight * route.read_units
    return units


def ceilings(
    measured: Measured, deployment: Deployment, profile: Profile, goal_rps: float
) -> list[Ceiling]:
    """Each component's ceiling in viewer requests per second for the profile's mix and hit
    rate, lowest first, with what it would take to reach ``goal_rps``."""
    miss = 1.0 - profile.hit_rate if deployment.cdn_enabled else 1.0
    env = deployment.environment
    found: list[Ceiling] = []
    if deployment.cdn_enabled:
        cf = price.CLOUDFRONT_RPS.value
        found.append(
            Ceiling("CloudFront distribution", f"{cf:,.0f} rps per distribution", cf,
                    f"request a CloudFront quota of {goal_rps:,.0f} requests per second")
        )  # fmt: skip
    account = price.API_GATEWAY_ACCOUNT_RPS.value
    found.append(
        Ceiling("API Gateway account", f"{account:,.0f} rps per account and region", account / miss,
                f"request an API Gateway throttle quota of {math.ceil(goal_rps * miss):,} rps")
    )  # fmt: skip
    shares = method_shares(profile)
    method, share = max(shares.items(), key=lambda kv: kv[1])
    needed = math.ceil(goal_rps * miss * share)
    found.append(
        Ceiling(
            f"API Gateway stage, {method}",
            f"ApiThrottlingRateLimit {deployment.throttle_rate:,.0f} rps per method "
            f"(burst {deployment.throttle_burst:,.0f})",
            deployment.throttle_rate / (miss * share),
            f"raise ApiThrottlingRateLimit to {needed:,} (ApiThrottlingBurstLimit to "
            f"{2 * needed:,}) in samconfig.toml [{env}]",
        )
    )
    seconds = origin_seconds(measured, deployment, profile)
    concurrency = price.LAMBDA_CONCURRENCY.value
    per_unit = price.LAMBDA_RPS_PER_CONCURRENCY.value
    by_concurrency = concurrency / (miss * seconds)
    by_rps = concurrency * per_unit / miss
    if by_rps <= by_concurrency:  # short requests: the 10-per-unit limit comes first
        needed = math.ceil(goal_rps * miss / per_unit)
        found.append(
            Ceiling(
                "Lambda requests per second",
                f"{per_unit:g} x {concurrency:,.0f} concurrency",
                by_rps,
                f"request a Lambda concurrency quota of {needed:,}",
            )
        )
    else:
        needed = math.ceil(goal_rps * miss * seconds)
        found.append(
            Ceiling(
                "Lambda concurrency",
                f"{concurrency:,.0f} concurrent executions",
                by_concurrency,
                f"request a Lambda concurrency quota of {needed:,}",
            )
        )
    partition = price.DYNAMODB_PARTITION_READ.value
    for key, units in partition_read_units(measured, profile).items():
        found.append(
            Ceiling(
                f"DynamoDB index partition feed_pk={key}",
                f"{partition:,.0f} read units per second per partition",
                partition / (miss * units),
                "cache the lists longer (CacheSeconds) or add Origin Shield: a hot key cannot "
                "be spread over partitions",
            )
        )
    table_units = sum(
        share * measured.routes[name].read_units for name, share in profile.route_mix.items()
    )
    table = price.DYNAMODB_TABLE_ON_DEMAND.value
    found.append(
        Ceiling("DynamoDB table (on-demand)", f"{table:,.0f} read units per second per table",
                table / (miss * table_units),
                f"request a table read quota of {math.ceil(goal_rps * miss * table_units):,} units")
    )  # fmt: skip
    return sorted(found, key=lambda c: c.viewer_rps)


def binding(found: Sequence[Ceiling]) -> Ceiling:
    """The ceiling reached first (the lowest)."""
    return min(found, key=lambda c: c.viewer_rps)


# -- the spike through the cache ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Spike:
    seconds: list[int]
    viewer_rps: list[float]
    origin_rps: list[float]
    hot_origin_rps: list[float]  # of the hot story's URL alone
    feed_partition_utilisation: list[float]
    story_partition_utilisation: list[float]
    lambda_concurrency: list[float]
    locations: int
    cache_seconds: int
    hot_viewer_rps: float
    extra_viewer_requests: float
    extra_origin_requests: float
    dollars: Mapping[str, float]
    throttled_requests: float  # origin requests over the per-method limit


def duration_text(seconds: float) -> str:
    return f"{seconds:,.0f} s" if seconds < 120 else f"{seconds / 60:,.1f} min"


def hot_url_fetches(demand: Sequence[float], locations: int, cache_seconds: int) -> list[int]:
    """Origin requests per second for one URL through ``locations`` caches that each keep a
    copy ``cache_seconds`` and refetch it (once, however many viewers ask) on the first
    request after it went stale. ``demand`` is the URL's viewer requests each second, spread
    evenly over the locations."""
    last: list[float | None] = [None] * locations
    owed = [0.0] * locations  # requests arrived at each location, not yet counted whole
    fetches = []
    for second, rps in enumerate(demand):
        count = 0
        for location in range(locations):
            owed[location] += rps / locations
            if owed[location] < 1.0:
                continue
            owed[location] -= math.floor(owed[location])
            fetched = last[location]
            if fetched is None or second - fetched >= cache_seconds:
                last[location] = second
                count += 1
        fetches.append(count)
    return fetches


def spike(measured: Measured, deployment: Deployment, profile: Profile) -> Spike:
    """One story at ``spike_multiplier`` times the usual peak traffic for ``spike_seconds``,
    second by second: the rest of the traffic through the hit rate, the hot story's URL
    through the cache model (cold when the spike starts)."""
    shield = deployment.origin_shield if profile.origin_shield is None else profile.origin_shield
    locations = 1 if shield else int(price.CLOUDFRONT_REGIONAL_EDGE_CACHES.value)
    cache_seconds = deployment.cache_seconds
    margin, length = profile.spike_margin_seconds, profile.spike_seconds
    seconds = list(range(margin + length + margin))
    baseline = profile.peak_rps
    hot = baseline * profile.spike_multiplier
    in_spike = [margin <= s < margin + length for s in seconds]
    hot_demand = [hot if on else 0.0 for on in in_spike]
    if deployment.cdn_enabled:
        fetches: list[float] = [
            float(f) for f in hot_url_fetches(hot_demand, locations, cache_seconds)
        ]
        miss = 1.0 - profile.hit_rate
    else:
        fetches, miss = list(hot_demand), 1.0
    story = measured.routes["story"]
    feed_units = partition_read_units(measured, profile).get("feed", 0.0)
    viewer = [baseline + h for h in hot_demand]
    origin = [baseline * miss + f for f in fetches]
    story_share = profile.route_mix.get("story", 0.0)
    story_method_rps = [baseline * miss * story_share + f for f in fetches]
    throttled = sum(max(0.0, r - deployment.throttle_rate) for r in story_method_rps)
    partition = price.DYNAMODB_PARTITION_READ.value
    hot_units = story.read_units
    mean_seconds = origin_seconds(measured, deployment, profile)
    extra_viewer = hot * length
    extra_origin = sum(fetches)
    per_story = route_cost(story, 1.0, deployment, profile.hit_rate, baseline * miss)
    origin_dollars = sum(
        v for k, v in per_story.dollars.items() if not k.startswith("CloudFront")
    ) / max(per_story.origin_requests, 1)
    dollars = {
        "CloudFront requests": extra_viewer * price.CLOUDFRONT_HTTPS_REQUEST.value
        if deployment.cdn_enabled
        else 0.0,
        "CloudFront transfer": extra_viewer
        * (story.gzip_bytes + story.header_bytes)
        / GB
        * price.CLOUDFRONT_DATA_OUT.value,
        "origin (API Gateway, WAF, Lambda, DynamoDB, logs, X-Ray)": extra_origin * origin_dollars,
    }
    return Spike(
        seconds=seconds,
        viewer_rps=viewer,
        origin_rps=origin,
        hot_origin_rps=fetches,
        feed_partition_utilisation=[baseline * miss * feed_units / partition for _ in seconds],
        story_partition_utilisation=[f * hot_units / partition for f in fetches],
        lambda_concurrency=[o * mean_seconds for o in origin],
        locations=locations,
        cache_seconds=cache_seconds,
        hot_viewer_rps=hot,
        extra_viewer_requests=extra_viewer,
        extra_origin_requests=extra_origin,
        dollars=dollars,
        throttled_requests=throttled,
    )


# -- ingest of a large batch ---------------------------------------------------------------


def ingest(
    measured: Measured, deployment: Deployment, stories: int, goal_seconds: float
) -> IngestResult:
    """``stories`` uploaded at once in files of MaxStoriesPerFile: one invocation per file,
    all at once unless IngestReservedConcurrency caps them; each invocation as fast as its CPU
    share (measured CPU per story) or its writers (IngestConcurrency calls in flight) allow.
    Throttling: the table's first-peak write rate, the feed index's "feed" partition (every
    published story writes there) and the busiest topic's partition."""
    memory = deployment.memory_mb["IngestFunction"]
    m = measured.ingest
    cpu_rate = 1000 / (m.cpu_ms_per_story * cpu_slowdown(memory))
    calls = sum(m.calls_per_story.values())
    writer_rate = deployment.ingest_concurrency / (calls * price.DYNAMODB_CALL_MS.value / 1000)
    rate, bound = (cpu_rate, "CPU") if cpu_rate <= writer_rate else (writer_rate, "writers")
    per_file = min(stories, deployment.max_stories_per_file)
    files = math.ceil(stories / per_file)
    limit = int(price.LAMBDA_CONCURRENCY.value)
    at_once = min(files, deployment.ingest_reserved or limit)
    seconds_per_file = per_file / rate
    seconds = math.ceil(files / at_once) * seconds_per_file
    aggregate = at_once * rate
    topic_units = write_units(round(measured.items.topic_entry_bytes_mean))  # its index copy
    per_story = {  # write units per story on each limit, and the limit
        "the feed index partition feed_pk=feed": (
            m.feed_partition_write_units_per_story,
            price.DYNAMODB_PARTITION_WRITE.value,
        ),
        "the busiest topic's index partition": (
            measured.items.top_topic_share * topic_units,
            price.DYNAMODB_PARTITION_WRITE.value,
        ),
        "the table, new (what an on-demand table sustains before a higher peak)": (
            m.write_units_per_story,
            price.DYNAMODB_NEW_TABLE_WRITES.value,
        ),
    }
    throttles = [
        f"{name}: {aggregate * units:,.0f} > {limit:,.0f} write units/s"
        for name, (units, limit) in per_story.items()
        if aggregate * units > limit
    ]

    def most_at_once(limits: list[tuple[float, float]]) -> int:
        return max(1, min(files, math.floor(min(limit / (rate * u) for u, limit in limits))))

    cap = most_at_once(list(per_story.values()))
    warm_cap = most_at_once(list(per_story.values())[:2])  # a pre-warmed table: partitions bind
    capped_seconds = math.ceil(files / cap) * seconds_per_file
    env = deployment.environment
    remedy = ""
    if throttles:
        remedy = (
            f"set IngestReservedConcurrency={cap} in samconfig.toml [{env}] ({cap} file(s) at "
            f"once: {duration_text(capped_seconds)} for {stories:,} stories; Lambda keeps 100 "
            f"executions unreserved, so the account's concurrency quota must be over {100 + cap})"
        )
        if warm_cap > cap:
            warm_seconds = math.ceil(files / warm_cap) * seconds_per_file
            remedy += (
                f"; or pre-warm the table (WarmThroughput of "
                f"{math.ceil(warm_cap * rate * m.write_units_per_story):,} write units/s) and "
                f"reserve {warm_cap}: {duration_text(warm_seconds)}"
            )
        if cap == 1 and any(rate * u > limit for u, limit in per_story.values()):
            remedy += "; even one file at a time is over: lower IngestConcurrency"
    timeout = deployment.timeout_s["IngestFunction"]
    if seconds_per_file > timeout:
        remedy += (
            f"; a file of {per_file:,} stories takes {seconds_per_file:,.0f} s, over the "
            f"{timeout} s timeout: lower MaxStoriesPerFile"
        )
    if not remedy and seconds > goal_seconds:
        remedy = "more files at once (smaller files) or more memory for the ingest"
    return IngestResult(
        stories=stories,
        files=files,
        invocations_at_once=at_once,
        stories_per_second_per_invocation=rate,
        bound_by=bound,
        seconds_per_file=seconds_per_file,
        file_within_timeout=seconds_per_file <= timeout,
        seconds=seconds,
        write_units_per_second=aggregate * m.write_units_per_story,
        feed_partition_units_per_second=aggregate * m.feed_partition_write_units_per_story,
        topic_partition_units_per_second=aggregate * measured.items.top_topic_share * topic_units,
        throttles=throttles,
        remedy=remedy,
        capped_invocations=cap,
        capped_seconds=capped_seconds,
    )


# -- the digest ------------------------------------------------------------------------------


def sender_rate() -> float:
    """Emails per second one sender can send on its own: an SES call and the claim's write
    each, one after the other."""
    return 1000 / (price.SES_SEND_MS.value + price.DYNAMODB_CALL_MS.value)


def digest(
    measured: Measured,
    deployment: Deployment,
    profile: Profile,
    subscribers: int,
    goal_seconds: float,
) -> DigestResult:
    """One digest run for ``subscribers``: the planner pages the ``confirmed`` index into SQS
    batches, the senders (DigestSenderMaxConcurrency of them) send under one shared budget
    (SesMaxSendRate, itself under the account's SES quota), each email a claim (a conditional
    write) then an SES call."""
    per_sender = sender_rate()
    limits = {
        "SesMaxSendRate": deployment.ses_max_send_rate,
        "the account's SES quota": profile.ses_rate,
        "DigestSenderMaxConcurrency senders": deployment.digest_senders * per_sender,
    }
    bound, rate = min(limits.items(), key=lambda kv: kv[1])
    sub = measured.subscriber
    shape = digest_shape()
    messages = math.ceil(subscribers / shape.batch_size)
    sqs_calls = math.ceil(messages / shape.messages_per_send)
    page = shape.batch_size * shape.messages_per_send  # the planner's Query Limit
    pages = math.ceil(subscribers / page)
    planner_units = (
        pages * math.ceil(page * sub.confirmed_entry_bytes / price.DYNAMODB_READ_BLOCK.value) * 0.5
    )
    planner_seconds = max(
        pages * price.DYNAMODB_CALL_MS.value / 1000 + sqs_calls * price.SQS_CALL_MS.value / 1000,
        planner_units / price.DYNAMODB_PARTITION_READ.value,  # the index's one partition key
    )
    seconds = subscribers / rate + planner_seconds
    ses_rate = min(deployment.ses_max_send_rate, profile.ses_rate)
    needed = math.ceil(ses_rate / per_sender)
    memory = deployment.memory_mb.get(
        "DigestSenderFunction", deployment.memory_mb.get("DigestFunction", 512)
    )
    # Per subscriber: its share of a consistent BatchGetItem (1 unit per item under 4 KB), the
    # claim (table item and its confirmed-index entry), a budget window write per chunk.
    reads = subscribers * 1.0 + planner_units
    writes = subscribers * (sub.claim_write_units + 1 / shape.budget_chunk)
    dollars = {
        "SES": subscribers * price.SES_EMAIL.value,
        "DynamoDB": writes * price.DYNAMODB_WRITE_REQUEST_UNIT.value
        + reads * price.DYNAMODB_READ_REQUEST_UNIT.value,
        "SQS": (sqs_calls + 2 * messages) * price.SQS_REQUEST.value,
        "Lambda": deployment.digest_senders
        * (subscribers / rate)
        * memory
        / 1024
        * price.LAMBDA_GB_SECOND.value
        + messages * price.LAMBDA_REQUEST.value,
    }
    remedy = ""
    goal_settings: dict[str, float] = {}
    if seconds > goal_seconds:
        target = subscribers / (goal_seconds - planner_seconds)
        hours = goal_seconds / 3600
        need = f"{subscribers:,} emails in {hours:g} h need {math.ceil(target):,}/s"
        if target > profile.ses_rate:
            remedy = (
                f"{need}, over the account's SES quota of {profile.ses_rate:g}/s: ask SES for "
                f"a sending quota of {math.ceil(target):,}/s, then set SesMaxSendRate to it"
            )
        else:  # use the account's whole quota, with the senders to fill it
            goal_settings = {
                "SesMaxSendRate": profile.ses_rate,
                "DigestSenderMaxConcurrency": max(
                    math.ceil(profile.ses_rate / per_sender), deployment.digest_senders
                ),
            }
            remedy = (
                f"{need}: "
                + " and ".join(f"{k}={v:g}" for k, v in goal_settings.items())
                + f" in samconfig.toml [{deployment.environment}] (the account's SES quota, and "
                "the senders that fill it)"
            )
    return DigestResult(
        subscribers=subscribers,
        send_rate=rate,
        bound_by=bound,
        senders=deployment.digest_senders,
        senders_needed=needed,
        seconds=seconds,
        planner_seconds=planner_seconds,
        dollars_per_run=dollars,
        confirmed_partition_write_units_per_second=rate * 1.0,
        remedy=remedy,
        goal_settings=goal_settings,
    )


@dataclass(frozen=True, slots=True)
class DigestShape:
    """How the digest's code splits the work (read from its modules when they exist)."""

    batch_size: int  # subscribers per SQS message
    messages_per_send: int  # messages per SendMessageBatch
    budget_chunk: int  # emails per budget UpdateItem
    source: str


def digest_shape() -> DigestShape:
    """The planner's batch size, SQS's batch and the budget's chunk, from the newsletter's
    code (the planner and senders); their documented values when that code is absent."""
    try:
        from newsroom.newsletter.budget import DEFAULT_CHUNK
        from newsroom.newsletter.digest_batches import SEND_BATCH_LIMIT
        from newsroom.newsletter.planner import BATCH_SIZE
    except ImportError:
        return DigestShape(100, 10, 10, "defaults (the planner's modules are not importable)")
    return DigestShape(BATCH_SIZE, SEND_BATCH_LIMIT, DEFAULT_CHUNK, "newsroom.newsletter.planner")


def quotes_used() -> dict[str, Quote]:
    return price.all_quotes()
