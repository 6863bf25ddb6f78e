"""``bench.capacity*``: the capacity and cost model. Its rules on known figures (DynamoDB's
size and unit rules, the cache's bound on origin requests, which ceiling binds, cost against
hit rate, the ingest's and the digest's limits) and, against moto, that the measured units
are those of the items the real ingest stores."""

import dataclasses
import json
import math
from typing import Any

import boto3
import pytest
from moto import mock_aws

from bench import capacity_model as model
from bench.capacity import chart
from bench.capacity_measure import (
    ROUTE_METHODS,
    TABLE,
    TRANSACTION_FACTOR,
    IngestMeasure,
    ItemsMeasure,
    Measured,
    Meter,
    MotoSession,
    RouteMeasure,
    SubscriberMeasure,
    TableShape,
    sample_files,
    saved_environment,
)
from bench.capacity_prices import MILLION, all_quotes
from bench.capacity_report import compute, document, render
from bench.capacity_units import item_size, projected, read_units, write_units
from devtools.samconfig import deploy_parameters
from devtools.template import create_table_kwargs
from newsroom.stories.topic_stats import STATS_PK


def route(name: str, *, handler_us: float = 300.0, read_units: float = 1.0) -> RouteMeasure:
    partition = {"story": "", "list_topic": "topic#ai"}.get(name, "feed")
    return RouteMeasure(
        name=name,
        method=ROUTE_METHODS[name],
        samples=1,
        status=200,
        body_bytes=5000.0,
        gzip_bytes=2000.0,
        header_bytes=500.0,
        dynamodb_calls=1.0,
        read_units=0.5 if name == "story" else read_units,
        partition=partition,
        function_log_events=0.0,
        function_log_bytes=0.0,
        handler_us=handler_us,
    )


def measured(**ingest: Any) -> Measured:
    ingest_figures: dict[str, Any] = {
        "files": 1,
        "stories_created": 10,
        "calls_per_story": {"PutItem": 1.0, "BatchWriteItem": 0.2, "BatchGetItem": 0.1},
        "write_units_per_story": 8.0,
        "read_units_per_story": 1.0,
        "feed_partition_write_units_per_story": 1.0,
        "log_bytes_per_file": 900.0,
        "log_events_per_file": 2.0,
        "cpu_ms_per_story": 2.0,
        "cpu_stories": 100,
    } | ingest
    return Measured(
        routes={name: route(name) for name in model.Profile().route_mix},
        items=ItemsMeasure(10, 1700.0, 4000, 600.0, 560.0, 2.8, "ai", 0.5, 0.18),
        ingest=IngestMeasure(**ingest_figures),
        subscriber=SubscriberMeasure(
            item_bytes=286, confirmed_entry_bytes=194, claim_write_units=2
        ),
        timing_requests=100,
    )


@pytest.fixture(scope="module")
def prod() -> model.Deployment:
    return model.load_deployment("prod")


# -- prices and quotas ----------------------------------------------------------------------


def test_every_price_and_quota_names_its_source() -> None:
    quotes = all_quotes()
    assert len(quotes) >= 30
    for name, quote in quotes.items():
        assert quote.unit, name
        assert len(quote.source) > 20, name
        assert quote.value >= 0, name


def test_assumed_figures_say_they_are_assumptions() -> None:
    assumed = {name: q for name, q in all_quotes().items() if q.assumption}
    assert assumed  # the latencies: no AWS document gives them
    for name, quote in assumed.items():
        assert quote.source.startswith("Assumption"), name
        assert not quote.confirmed, name


# -- DynamoDB's rules --------------------------------------------------------------------


def test_item_size_is_the_sum_of_attribute_names_and_values() -> None:
    item = {
        "pk": "story#a",  # 2 + 7
        "n": 123,  # 1 + (2 bytes for 3 significant digits + 1)
        "ok": True,  # 2 + 1
        "tags": ["x", "yz"],  # 4 + 3 + (1 + 1) + (2 + 1)
        "m": {"k": "v"},  # 1 + 3 + (1 + 1 + 1)
        "none": None,  # 4 + 1
        "é": "ü",  # 2 + 2: UTF-8 bytes
    }
    assert item_size(item) == 9 + 4 + 3 + 12 + 7 + 5 + 4


def test_a_numbers_size_counts_its_significant_digits_only() -> None:
    assert item_size({"n": 1000}) == 1 + 2  # leading and trailing zeros trimmed: "1"
    assert item_size({"n": 12.50}) == 1 + 3  # "125"
    assert item_size({"n": 0}) == 1 + 2


def test_a_query_sums_its_items_and_rounds_up_to_4_kb() -> None:
    assert read_units([3000, 3000], consistent=False) == 1.0  # 6,000 B: 2 blocks, halved
    assert read_units([3000, 3000], consistent=True) == 2.0
    assert read_units([100], consistent=False) == 0.5
    assert read_units([], consistent=False) == 0.5  # a read costs at least one block


def test_a_write_costs_a_unit_per_started_kilobyte() -> None:
    assert [write_units(n) for n in (0, 1024, 1025, 4096)] == [1, 1, 2, 4]


def test_the_sparse_feed_index_holds_only_published_items_with_their_projection() -> None:
    shape = TableShape.of("StoriesTable")
    feed = shape.index("feed")
    draft = {"pk": "story#a", "sk": "story", "title": "T", "sections": []}
    assert projected(draft, feed, shape.keys) is None
    published = draft | {"feed_pk": "feed", "feed_sk": "2025#a", "slug": "a"}
    assert projected(published, feed, shape.keys) == {
        "pk": "story#a", "sk": "story", "title": "T", "feed_pk": "feed", "feed_sk": "2025#a",
        "slug": "a",
    }  # fmt: skip


# -- the deployment -------------------------------------------------------------------------


def test_the_deployment_takes_the_environments_overrides_over_the_template(
    prod: model.Deployment,
) -> None:
    parameters = deploy_parameters("prod")
    assert prod.throttle_rate == float(parameters["ApiThrottlingRateLimit"])
    assert prod.cache_seconds == int(parameters["CacheSeconds"])
    assert prod.memory_mb["ApiFunction"] == 512 and prod.memory_mb["IngestFunction"] == 1024
    assert dict(prod.overrides)["LogLevel"] == "INFO"


def test_the_access_log_line_is_the_stages_format_with_the_requests_values(
    prod: model.Deployment,
) -> None:
    line = json.loads(model.access_log_line(prod.access_log_format, route("story")))
    assert line["httpMethod"] == "GET" and line["resourcePath"] == "/stories/{slug}"
    assert line["status"] == 200 and line["responseLength"] == "5000"


# -- cost -------------------------------------------------------------------------------------


def test_lambda_bills_whole_milliseconds() -> None:
    assert [model.billed_ms(x) for x in (0.2, 5.0, 5.01)] == [1, 5, 6]


def test_the_cost_per_million_reads_falls_as_the_hit_rate_rises(prod: model.Deployment) -> None:
    figures, profile = measured(), model.Profile()
    costs = [
        model.cost_per_million_reads(model.route_costs(figures, prod, profile, hit))
        for hit in (0.0, 0.5, 0.9, 0.99, 1.0)
    ]
    assert costs == sorted(costs, reverse=True) and len(set(costs)) == len(costs)


def test_at_a_full_hit_rate_only_cloudfront_is_paid(prod: model.Deployment) -> None:
    costs = model.route_costs(measured(), prod, model.Profile(), 1.0)
    for cost in costs:
        paid = {k for k, v in cost.dollars.items() if v > 0}
        assert paid == {"CloudFront requests", "CloudFront transfer"}, cost.route
        assert cost.dollars["CloudFront requests"] == pytest.approx(1.00)  # $0.0100 per 10,000


def test_without_the_cdn_every_viewer_request_reaches_the_origin(prod: model.Deployment) -> None:
    no_cdn = dataclasses.replace(prod, cdn_enabled=False)
    for cost in model.route_costs(measured(), no_cdn, model.Profile()):
        assert cost.origin_requests == MILLION
        assert cost.dollars["CloudFront requests"] == 0


def test_the_hit_rate_for_a_cost_goal_meets_it_and_a_lower_one_does_not(
    prod: model.Deployment,
) -> None:
    figures, profile = measured(), model.Profile()
    hit = model.hit_rate_for(figures, prod, profile, 1.50)
    assert hit is not None

    def cost(h: float) -> float:
        return model.cost_per_million_reads(model.route_costs(figures, prod, profile, h))

    assert cost(hit) <= 1.50 < cost(hit - 0.002)
    assert model.hit_rate_for(figures, prod, profile, 0.5) is None  # under CloudFront's own fee


# -- ceilings ---------------------------------------------------------------------------------


def test_the_ceiling_that_binds_is_the_lowest(prod: model.Deployment) -> None:
    found = model.ceilings(measured(), prod, model.Profile(), 20_000)
    assert model.binding(found).viewer_rps == min(c.viewer_rps for c in found)
    assert model.binding(found) == found[0]


def test_the_per_method_throttle_binds_at_its_rate_over_the_methods_origin_share(
    prod: model.Deployment,
) -> None:
    low = dataclasses.replace(prod, throttle_rate=100.0)
    profile = model.Profile(hit_rate=0.9)
    first = model.binding(model.ceilings(measured(), low, profile, 20_000))
    story_share = profile.route_mix["story"]
    assert first.component == "API Gateway stage, GET /stories/{slug}"
    assert first.viewer_rps == pytest.approx(100 / (0.1 * story_share))
    assert "ApiThrottlingRateLimit to 1,100" in first.remedy  # 20,000 x 10 % x 55 %


def test_raising_the_throttle_moves_the_binding_ceiling_elsewhere(prod: model.Deployment) -> None:
    high = dataclasses.replace(prod, throttle_rate=1e9)
    first = model.binding(model.ceilings(measured(), high, model.Profile(), 20_000))
    assert not first.component.startswith("API Gateway stage")


# -- the cache and the spike -----------------------------------------------------------------


def test_a_hot_url_reaches_the_origin_at_most_once_per_location_per_cache_lifetime() -> None:
    locations, fresh = 13, 60
    fetches = model.hot_url_fetches([10_000.0] * 600, locations, fresh)
    for start in range(0, 600 - fresh):
        assert sum(fetches[start : start + fresh]) <= locations
    assert sum(fetches) == locations * 600 // fresh
    assert sum(model.hot_url_fetches([10_000.0] * 600, 1, fresh)) == 600 // fresh


def test_a_url_is_fetched_only_when_asked_for_after_its_copy_went_stale() -> None:
    assert sum(model.hot_url_fetches([0.0] * 300, 13, 60)) == 0
    # One request every 10 s at each of 13 locations (1.3/s in all) for 600 s: copies fresh for
    # 5 s are stale at every request (about 60 fetches a location), for 60 s at every 6th.
    assert 13 * 59 <= sum(model.hot_url_fetches([1.3] * 600, 13, 5)) <= 13 * 60
    assert 13 * 9 <= sum(model.hot_url_fetches([1.3] * 600, 13, 60)) <= 13 * 10


def test_the_spikes_origin_load_is_the_rest_of_the_traffic_plus_the_hot_urls_refetches(
    prod: model.Deployment,
) -> None:
    profile = model.Profile(spike_seconds=600, spike_margin_seconds=120)
    spike = model.spike(measured(), prod, profile)
    miss = 1 - profile.hit_rate
    assert max(spike.viewer_rps) == pytest.approx(profile.peak_rps * (1 + profile.spike_multiplier))
    for viewer, origin, hot in zip(
        spike.viewer_rps, spike.origin_rps, spike.hot_origin_rps, strict=True
    ):
        assert origin == pytest.approx(profile.peak_rps * miss + hot)
        assert origin < viewer
    assert (
        sum(spike.hot_origin_rps) == spike.locations * profile.spike_seconds // spike.cache_seconds
    )


def test_origin_shield_leaves_one_location_to_refetch(prod: model.Deployment) -> None:
    spike = model.spike(measured(), prod, model.Profile(origin_shield=True))
    assert spike.locations == 1
    assert max(spike.hot_origin_rps) == 1


# -- ingest and digest ---------------------------------------------------------------------


def test_the_ingest_throttles_when_its_writes_pass_a_partitions_thousand_units(
    prod: model.Deployment,
) -> None:
    figures = measured()
    result = model.ingest(figures, prod, 100_000, 3600)
    assert result.files == 10 and result.invocations_at_once == 10
    assert result.feed_partition_units_per_second > 1000
    assert any("feed_pk=feed" in t for t in result.throttles)
    capped = dataclasses.replace(prod, ingest_reserved=result.capped_invocations)
    within = model.ingest(figures, capped, 100_000, 3600)
    assert not within.throttles
    assert within.seconds == pytest.approx(result.capped_seconds)


def test_an_ingest_invocation_is_as_fast_as_its_cpu_share_or_its_writers_allow(
    prod: model.Deployment,
) -> None:
    by_cpu = model.ingest(measured(cpu_ms_per_story=10.0), prod, 10_000, 3600)
    assert by_cpu.bound_by == "CPU"
    slowdown = model.cpu_slowdown(prod.memory_mb["IngestFunction"])
    assert by_cpu.stories_per_second_per_invocation == pytest.approx(1000 / (10 * slowdown))
    by_writers = model.ingest(measured(cpu_ms_per_story=0.001), prod, 10_000, 3600)
    assert by_writers.bound_by == "writers"


def test_the_digest_goes_at_the_smallest_of_its_budget_the_ses_quota_and_its_senders(
    prod: model.Deployment,
) -> None:
    figures, profile = measured(), model.Profile(ses_rate=100)
    budget = dataclasses.replace(prod, ses_max_send_rate=10, digest_senders=100)
    assert model.digest(figures, budget, profile, 1000, 3600).send_rate == 10
    senders = dataclasses.replace(prod, ses_max_send_rate=1000, digest_senders=2)
    result = model.digest(figures, senders, profile, 1000, 3600)
    assert result.send_rate == pytest.approx(2 * model.sender_rate())
    quota = dataclasses.replace(prod, ses_max_send_rate=1000, digest_senders=1000)
    assert model.digest(figures, quota, profile, 1000, 3600).send_rate == 100


def test_a_million_subscribers_in_three_hours_need_the_whole_100_per_second(
    prod: model.Deployment,
) -> None:
    figures, profile = measured(), model.Profile(ses_rate=100)
    slow = dataclasses.replace(prod, ses_max_send_rate=10, digest_senders=2)
    result = model.digest(figures, slow, profile, 1_000_000, 3 * 3600)
    assert result.seconds > 3 * 3600 and result.goal_settings["SesMaxSendRate"] == 100
    fixed = dataclasses.replace(
        slow,
        ses_max_send_rate=result.goal_settings["SesMaxSendRate"],
        digest_senders=int(result.goal_settings["DigestSenderMaxConcurrency"]),
    )
    again = model.digest(figures, fixed, profile, 1_000_000, 3 * 3600)
    assert again.seconds == pytest.approx(1_000_000 / 100 + again.planner_seconds)
    assert again.seconds < 3 * 3600 and not again.remedy


# -- measured against moto -------------------------------------------------------------------


def test_the_ingests_write_units_are_those_of_the_items_it_stores() -> None:
    """A fresh table: the real ingest of the samples writes every stored item and its index
    entries once; the story items with ``PutItem`` (their units), the topic entries and
    markers in transactions (twice their units), and each topic's count in every transaction
    that adds entries of it: one per sample file with stories of that topic (each file's new
    stories fit one transaction). So the metered write units equal those computed from the
    stored items."""
    shape = TableShape.of("StoriesTable")
    with saved_environment(), mock_aws():
        boto3.client("dynamodb", region_name="us-east-1").create_table(
            **create_table_kwargs("StoriesTable", TABLE)
        )
        session = MotoSession(deploy_parameters("prod"))
        ingest, stored = session.ingest_samples(sample_files())

    def units(item: dict[str, Any], factor: int = 1) -> int:
        index = sum(write_units(item_size(entry)) for _, _, entry in shape.index_entries(item))
        return factor * write_units(item_size(item)) + index

    stories = {k: i for k, i in stored.items() if i["sk"] == "story"}
    entries = [i for i in stored.values() if i["pk"] != STATS_PK and i["sk"] != "story"]
    stats = [i for i in stored.values() if i["pk"] == STATS_PK]
    files_of_topic: dict[str, set[str]] = {}
    for entry in entries:
        source = stories[entry["pk"], "story"]["source_key"]
        files_of_topic.setdefault(entry["sk"].removeprefix("topic#"), set()).add(source)
    expected = (
        sum(units(i) for i in stories.values())
        + sum(units(i, TRANSACTION_FACTOR) for i in entries)
        + sum(
            units(i, TRANSACTION_FACTOR) * len(files_of_topic[i["topic"]]) if "topic" in i
            else units(i, TRANSACTION_FACTOR)  # a marker
            for i in stats
        )
    )  # fmt: skip
    assert entries and stats  # the samples have published stories with topics
    assert ingest.write_units_per_story * ingest.stories_created == pytest.approx(expected)
    published = [i for i in stories.values() if "feed_pk" in i]
    assert ingest.feed_partition_write_units_per_story * ingest.stories_created == len(published)


def test_the_meter_prices_a_transactions_writes_at_twice_their_units() -> None:
    """DynamoDB bills each item a transaction writes twice (prepare and commit); its copy in
    the feed index once, as an ordinary write."""
    shape = TableShape.of("StoriesTable")
    entry = {"pk": "story#a", "sk": "topic#ai", "feed_pk": "topic#ai", "feed_sk": "2025#a",
             "body": "x" * 1500}  # fmt: skip
    count = {"pk": STATS_PK, "sk": "topic#ai"}
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(**create_table_kwargs("StoriesTable", TABLE))
        meter = Meter(shape)
        meter.attach(client)
        client.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": TABLE, "Item": {k: {"S": v} for k, v in entry.items()}}},
                {
                    "Update": {
                        "TableName": TABLE,
                        "Key": {k: {"S": v} for k, v in count.items()},
                        "UpdateExpression": "ADD #count :n",
                        "ExpressionAttributeNames": {"#count": "count"},
                        "ExpressionAttributeValues": {":n": {"N": "1"}},
                    }
                },
            ]
        )
    costs = meter.costs(
        {("story#a", "topic#ai"): entry, (STATS_PK, "topic#ai"): count | {"count": 1}}
    )
    feed_copy = write_units(item_size(projected(entry, shape.index("feed"), shape.keys) or {}))
    assert costs.transactional_write_units == 2 * 2 + 2 * 1  # a 2 KB entry, a tiny count
    assert costs.write_units == costs.transactional_write_units + feed_copy
    assert costs.index_writes == {("feed", "topic#ai"): feed_copy}


def test_the_meter_prices_a_get_item_by_the_stored_items_size() -> None:
    shape = TableShape.of("StoriesTable")
    big = {"pk": "story#a", "sk": "story", "body": "x" * 9000}
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(**create_table_kwargs("StoriesTable", TABLE))
        client.put_item(TableName=TABLE, Item={k: {"S": v} for k, v in big.items()})
        meter = Meter(shape)
        meter.attach(client)
        client.get_item(TableName=TABLE, Key={"pk": {"S": "story#a"}, "sk": {"S": "story"}})
    costs = meter.costs({("story#a", "story"): big})
    assert costs.calls["GetItem"] == 1
    assert costs.read_units == math.ceil(item_size(big) / 4096) * 0.5


# -- the report --------------------------------------------------------------------------------


def test_a_goal_not_met_names_what_stops_it_and_what_it_would_take(
    prod: model.Deployment,
) -> None:
    low = dataclasses.replace(prod, throttle_rate=100.0, ses_max_send_rate=10, digest_senders=2)
    figures = compute(measured(), low, model.Profile(), model.Goals())
    text = render(figures)
    assert "binds first: API Gateway stage, GET /stories/{slug} at 1,818 viewer rps" in text
    assert "raise ApiThrottlingRateLimit to 1,100" in text
    assert "bound by SesMaxSendRate" in text and "SesMaxSendRate=100" in text
    goals = json.loads(json.dumps(document(figures), default=str))["goals"]
    assert goals["first_ceiling_rps"] == {
        "goal": 20_000,
        "value": pytest.approx(1818.18, abs=0.01),
        "met": False,
        "what_it_would_take": figures.ceilings[0].remedy,
    }
    assert goals["digest_seconds"]["met"] is False


def test_the_chart_is_a_png_of_the_spike(prod: model.Deployment, tmp_path: Any) -> None:
    spike = model.spike(measured(), prod, model.Profile(spike_seconds=120, spike_margin_seconds=60))
    path = tmp_path / "spike.png"
    chart(spike, prod, model.Profile(spike_seconds=120, spike_margin_seconds=60), path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
