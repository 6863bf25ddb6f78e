"""The capacity model's figures, computed once (``Figures``) and written out: the printed
report, one section per question, and the JSON document (``bench/capacity.json``)."""

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from bench import capacity_model as model
from bench.capacity_measure import Measured
from bench.capacity_prices import all_quotes

HIT_RATES = (0.0, 0.5, 0.8, 0.9, 0.95, 0.99)
CLOUDFRONT_REQUESTS = "CloudFront requests"


# -- formatting ------------------------------------------------------------------------------


def money(value: float) -> str:
    if value == 0:
        return "$0"
    if abs(value) >= 100:
        return f"${value:,.0f}"
    if abs(value) >= 1:
        return f"${value:,.2f}"
    return f"${value:.3g}"


def duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:,.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:,.1f} min"
    return f"{seconds / 3600:,.2f} h"


def table(header: Sequence[str], rows: Sequence[Sequence[str]], left: int = 1) -> str:
    """A plain-text table: the first ``left`` columns left-aligned, the rest (numbers) right."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]

    def line(cells: Sequence[str]) -> str:
        padded = [
            c.ljust(w) if i < left else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(padded).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths]), *(line(r) for r in rows)])


def verdict(met: bool) -> str:
    return "met" if met else "NOT MET"


def flag(value: bool) -> str:
    return "true" if value else "false"


# -- the figures -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Figures:
    """Everything the report shows, computed from the inputs."""

    measured: Measured
    deployment: model.Deployment
    profile: model.Profile
    goals: model.Goals
    costs: list[model.RouteCost]
    per_million: float
    per_million_without_transfer: float
    by_hit_rate: dict[str, float]
    hit_rate_for_goal: float | None
    monthly: dict[str, float]
    ceilings: list[model.Ceiling]
    spike: model.Spike
    ingest: model.IngestResult
    digest: model.DigestResult
    digest_at_goal: model.DigestResult | None  # with the settings its remedy names
    simulation: Mapping[str, Any] | None
    simulation_model: model.DigestResult | None  # the model at the simulation's settings
    simulation_model_full: model.DigestResult | None  # the same for the profile's subscribers

    @property
    def first(self) -> model.Ceiling:
        return model.binding(self.ceilings)

    def component(self, name: str) -> float:
        """$ per million reads of the mix for one cost component."""
        return sum(c.share * c.dollars[name] for c in self.costs)

    @property
    def goals_met(self) -> dict[str, bool]:
        return {
            "cost_per_million_reads": self.per_million <= self.goals.cost_per_million_reads,
            "first_ceiling_rps": self.first.viewer_rps >= self.goals.first_ceiling_rps,
            "ingest_seconds": not self.ingest.throttles
            and self.ingest.file_within_timeout
            and self.ingest.seconds <= self.goals.ingest_seconds,
            "digest_seconds": self.digest.seconds <= self.goals.digest_seconds,
        }


def compute(
    measured: Measured,
    deployment: model.Deployment,
    profile: model.Profile,
    goals: model.Goals,
    simulation: Mapping[str, Any] | None = None,
    simulation_subscribers: int = 10_000,
) -> Figures:
    """Run every part of the model on the inputs."""
    costs = model.route_costs(measured, deployment, profile)
    digest = model.digest(measured, deployment, profile, profile.subscribers, goals.digest_seconds)
    at_goal = None
    if digest.goal_settings:
        settings = replace(
            deployment,
            ses_max_send_rate=digest.goal_settings["SesMaxSendRate"],
            digest_senders=int(digest.goal_settings["DigestSenderMaxConcurrency"]),
        )
        at_goal = model.digest(
            measured, settings, profile, profile.subscribers, goals.digest_seconds
        )
    simulated = simulated_million = None
    if simulation is not None:  # the model at the simulation's own settings, for comparison
        rate = float(simulation.get("ses_rate", profile.ses_rate))
        same = replace(
            deployment,
            ses_max_send_rate=rate,
            digest_senders=int(simulation.get("senders", deployment.digest_senders)),
        )
        quota = replace(profile, ses_rate=max(profile.ses_rate, rate))
        subscribers = int(simulation.get("subscribers", simulation_subscribers))
        simulated = model.digest(measured, same, quota, subscribers, goals.digest_seconds)
        simulated_million = model.digest(
            measured, same, quota, profile.subscribers, goals.digest_seconds
        )
    return Figures(
        measured=measured,
        deployment=deployment,
        profile=profile,
        goals=goals,
        costs=costs,
        per_million=model.cost_per_million_reads(costs),
        per_million_without_transfer=model.cost_per_million_reads(costs, transfer=False),
        by_hit_rate={
            f"{h:.0%}": model.cost_per_million_reads(
                model.route_costs(measured, deployment, profile, h)
            )
            for h in HIT_RATES
        },
        hit_rate_for_goal=model.hit_rate_for(
            measured, deployment, profile, goals.cost_per_million_reads
        ),
        monthly=model.monthly_cost(measured, deployment, profile, costs, digest),
        ceilings=model.ceilings(measured, deployment, profile, goals.first_ceiling_rps),
        spike=model.spike(measured, deployment, profile),
        ingest=model.ingest(measured, deployment, profile.ingest_batch, goals.ingest_seconds),
        digest=digest,
        digest_at_goal=at_goal,
        simulation=simulation,
        simulation_model=simulated,
        simulation_model_full=simulated_million,
    )


# -- the printed report, section by section --------------------------------------------------


def profile_section(f: Figures) -> list[str]:
    p, d = f.profile, f.deployment
    overrides = ", ".join(f"{k}={v}" for k, v in d.overrides.items()) or "none"
    memory = d.memory_mb
    return [
        "== profile ==",
        f"{p.daily_readers:,} readers a day x {p.requests_per_reader:g} requests = "
        f"{p.viewer_requests_per_day:,.0f} viewer requests a day ({p.average_rps:,.0f} rps on "
        f"average, {p.peak_rps:,.0f} in the peak hour at {p.peak_to_average:g}x); CDN hit rate "
        f"{p.hit_rate:.0%}; mix " + ", ".join(f"{k} {v:.0%}" for k, v in p.route_mix.items()),
        f"spike: one story at {p.spike_multiplier:g}x the peak ({f.spike.hot_viewer_rps:,.0f} "
        f"rps) for {p.spike_seconds // 60} min; {p.stories_per_day} stories a day, a batch of "
        f"{p.ingest_batch:,}; {p.subscribers:,} subscribers, an SES quota of {p.ses_rate:g}/s; "
        f"{p.days_per_month:g} days a month; us-east-1 list prices, no free tier",
        f"deployed as samconfig.toml [{d.environment}], overrides: {overrides}",
        f"settings: CacheSeconds={d.cache_seconds}, ApiThrottlingRateLimit={d.throttle_rate:g} "
        f"(burst {d.throttle_burst:g}) per method, EnableCdn={flag(d.cdn_enabled)}, "
        f"{f.spike.locations} cache locations (Origin Shield "
        f"{'on' if f.spike.locations == 1 else 'off'}), EnableWaf={flag(d.waf_enabled)} "
        f"({d.waf_rules} rules), ApiFunction {memory['ApiFunction']} MB, IngestFunction "
        f"{memory['IngestFunction']} MB, IngestConcurrency={d.ingest_concurrency}, "
        f"IngestReservedConcurrency={d.ingest_reserved}, MaxStoriesPerFile="
        f"{d.max_stories_per_file:,}, SesMaxSendRate={d.ses_max_send_rate:g}, "
        f"DigestSenderMaxConcurrency={d.digest_senders}",
    ]


def measured_section(f: Figures) -> list[str]:
    m, memory = f.measured, f.deployment.memory_mb["ApiFunction"]
    rows = []
    for name in f.profile.route_mix:
        r = m.routes[name]
        ms = model.lambda_ms(r.handler_us, r.dynamodb_calls, memory)
        rows.append(
            [
                name, r.method, str(r.samples), f"{r.body_bytes:,.0f}", f"{r.gzip_bytes:,.0f}",
                f"{r.header_bytes:,.0f}", f"{r.dynamodb_calls:g}", f"{r.read_units:g}",
                r.partition or "-", f"{r.handler_us:,.0f}", f"{ms:.1f}", str(model.billed_ms(ms)),
            ]
        )  # fmt: skip
    header = [
        "route", "method", "answers", "body B", "gzip B", "headers B", "calls", "read units",
        "partition", "handler µs", "Lambda ms", "billed ms",
    ]  # fmt: skip
    i, g, s = m.items, m.ingest, m.subscriber
    calls = ", ".join(f"{op} {n:.2f}" for op, n in g.calls_per_story.items())
    return [
        "== measured in this run ==",
        table(header, rows, left=2),
        f"items ({i.stories} published samples, by DynamoDB's item-size rules): story "
        f"{i.story_item_bytes_mean:,.0f} B mean, {i.story_item_bytes_max:,} B max; topic entry "
        f"{i.topic_entry_bytes_mean:,.0f} B; feed-index entry {i.feed_entry_bytes_mean:,.0f} B; "
        f"{i.topics_per_story:.2f} topics a story, the busiest ({i.top_topic}) on "
        f"{i.top_topic_share:.0%} of them",
        f"ingest ({g.files} sample files, {g.stories_created} stories): {calls} calls a story; "
        f"{g.write_units_per_story:.2f} write and {g.read_units_per_story:.2f} read units a story "
        f"({g.feed_partition_write_units_per_story:.2f} on the feed partition); CPU "
        f"{g.cpu_ms_per_story:.2f} ms a story ({g.cpu_stories} stories, AWS answered by"
        " bench.ingest_latency's fake, its CPU excluded)",
        f"subscriber: item {s.item_bytes} B, confirmed-index entry {s.confirmed_entry_bytes} B, "
        f"a digest claim {s.claim_write_units} write units",
        f"handler µs: warm, in-process, DynamoDB answered by a Stubber, {m.timing_requests} "
        f"requests a route; Lambda ms = handler x {model.cpu_slowdown(memory):.2f} (the CPU "
        f"share of {memory} MB) + 5 ms a DynamoDB call (assumed)",
    ]


def cost_section(f: Figures) -> list[str]:
    rows = [
        [
            c.route, f"{c.share:.0%}", f"{c.origin_requests:,.0f}", f"{c.read_units:,.0f}",
            f"{c.lambda_gb_seconds:,.0f}", f"{c.origin_requests:,.0f}", "1,000,000",
            f"{c.transfer_gb:.2f}", f"{c.log_bytes / 1e6:,.0f}", money(c.total),
        ]
        for c in f.costs
    ]  # fmt: skip
    header = [
        "route", "share", "origin req", "read units", "Lambda GB-s", "API GW req",
        "CloudFront req", "transfer GB", "log MB", "$ / M",
    ]  # fmt: skip
    names = list(f.costs[0].dollars)
    components = [[k, money(f.component(k))] for k in names] + [["total", money(f.per_million)]]
    met = f.goals_met["cost_per_million_reads"]
    lines = [
        f"== per route, per million viewer requests, {f.profile.hit_rate:.0%} hit rate "
        "(reads write nothing) ==",
        table(header, rows),
        "",
        "$ per million reads of the mix, by component:",
        table(["component", "$ / M reads"], components),
        f"goal <= {money(f.goals.cost_per_million_reads)} per million reads at "
        f"{f.profile.hit_rate:.0%}: {money(f.per_million)}, {verdict(met)} (without data "
        f"transfer: {money(f.per_million_without_transfer)})",
        "by hit rate: " + ", ".join(f"{k} {money(v)}" for k, v in f.by_hit_rate.items()),
    ]
    if not met:
        over = sorted(
            ((k, f.component(k)) for k in names if k != CLOUDFRONT_REQUESTS), key=lambda kv: -kv[1]
        )
        needed = f.hit_rate_for_goal
        lines.append(
            f"  what stops it: beyond CloudFront's own request fee "
            f"({money(f.component(CLOUDFRONT_REQUESTS))}), "
            + ", ".join(f"{k} {money(v)}" for k, v in over if v >= 0.01)
            + "; "
            + (f"a hit rate of {needed:.1%} would meet it" if needed else "no hit rate meets it")
        )
    return lines


def monthly_section(f: Figures) -> list[str]:
    rows = [[k, money(v)] for k, v in f.monthly.items()]
    rows.append(["total", money(sum(f.monthly.values()))])
    return [f"== per month ({f.profile.days_per_month:g} days) ==", table(["part", "$"], rows)]


def ceilings_section(f: Figures) -> list[str]:
    rows = [[c.component, c.limit, f"{c.viewer_rps:,.0f}"] for c in f.ceilings]
    first, goal = f.first, f.goals.first_ceiling_rps
    lines = [
        f"== ceilings, in viewer requests/s ({f.profile.hit_rate:.0%} hit rate, the mix) ==",
        table(["component", "limit", "viewer rps"], rows, left=2),
        f"binds first: {first.component} at {first.viewer_rps:,.0f} viewer rps; goal >= "
        f"{goal:,.0f}: {verdict(f.goals_met['first_ceiling_rps'])}; the profile's peak hour is "
        f"{f.profile.peak_rps:,.0f} rps",
    ]
    lines += [f"  to reach {goal:,.0f}: {c.remedy}" for c in f.ceilings if c.viewer_rps < goal]
    return lines


def spike_section(f: Figures) -> list[str]:
    s, p = f.spike, f.profile
    start = p.spike_margin_seconds
    during = range(start, start + p.spike_seconds)
    peak = max(s.seconds, key=lambda n: s.origin_rps[n])
    hot_mean = sum(s.hot_origin_rps[n] for n in during) / len(during)
    costs = ", ".join(f"{k} {money(v)}" for k, v in s.dollars.items())
    return [
        f"== spike: one story at {s.hot_viewer_rps:,.0f} viewer rps for {p.spike_seconds // 60} "
        "min ==",
        f"viewer rps {max(s.viewer_rps):,.0f}; origin rps {s.origin_rps[peak]:,.1f} at most "
        f"(second {peak - start} of the spike: the cold caches); the hot URL {hot_mean:.3f}/s on "
        f"average, the bound {s.locations} locations / {s.cache_seconds} s = "
        f"{s.locations / s.cache_seconds:.3f}/s",
        f"DynamoDB: the hot story's partition at {max(s.story_partition_utilisation):.3%} of its "
        f"3,000 read units/s at most, the feed partition at "
        f"{max(s.feed_partition_utilisation):.2%}; Lambda concurrency "
        f"{max(s.lambda_concurrency):.1f} at most; origin requests over the per-method limit: "
        f"{s.throttled_requests:,.0f}",
        f"the spike costs {money(sum(s.dollars.values()))}: {costs} "
        f"({s.extra_viewer_requests:,.0f} more viewer requests, {s.extra_origin_requests:,.0f} "
        "of them to the origin)",
    ]


def ingest_section(f: Figures) -> list[str]:
    i, d = f.ingest, f.deployment
    timeout = d.timeout_s["IngestFunction"]
    lines = [
        f"== ingest of {i.stories:,} stories ==",
        f"{i.files} files of up to {d.max_stories_per_file:,}, {i.invocations_at_once} "
        f"invocations at once, {i.stories_per_second_per_invocation:,.0f} stories/s each (bound "
        f"by {i.bound_by}); {duration(i.seconds_per_file)} a file (timeout {timeout} s: "
        f"{'within' if i.file_within_timeout else 'OVER'}); all in {duration(i.seconds)}",
        f"writes: {i.write_units_per_second:,.0f} units/s on the table, "
        f"{i.feed_partition_units_per_second:,.0f}/s on the feed partition, "
        f"{i.topic_partition_units_per_second:,.0f}/s on the busiest topic's",
        f"goal: within {duration(f.goals.ingest_seconds)} without throttling: "
        f"{verdict(f.goals_met['ingest_seconds'])}",
    ]
    lines += [f"  throttles: {t}" for t in i.throttles]
    if i.remedy:
        lines.append(f"  what it would take: {i.remedy}")
    return lines


def digest_section(f: Figures) -> list[str]:
    g = f.digest
    costs = ", ".join(f"{k} {money(v)}" for k, v in g.dollars_per_run.items())
    lines = [
        f"== digest of {g.subscribers:,} subscribers ==",
        f"{g.send_rate:,.1f} emails/s (bound by {g.bound_by}; {g.senders} senders, "
        f"{g.senders_needed} fill the budget): {duration(g.seconds)} (planner "
        f"{duration(g.planner_seconds)}); {money(sum(g.dollars_per_run.values()))} a run: {costs}",
        f"goal: under {duration(f.goals.digest_seconds)}: {verdict(f.goals_met['digest_seconds'])}",
    ]
    if g.remedy:
        lines.append(f"  what it would take: {g.remedy}")
    if f.digest_at_goal is not None:
        best = f.digest_at_goal
        lines.append(
            f"  with those: {best.send_rate:,.1f}/s, {duration(best.seconds)} "
            f"({verdict(best.seconds <= f.goals.digest_seconds)})"
        )
    sim, mod, full = f.simulation, f.simulation_model, f.simulation_model_full
    if sim is not None and mod is not None and full is not None:
        lines += [
            "",
            f"the digest simulation (bench/digest_simulation.py: the real planner and senders on "
            f"moto, virtual clock) against the model at its settings ({sim.get('ses_rate')}/s, "
            f"{sim.get('senders')} senders):",
            table(
                ["", "simulation", "model"],
                [
                    ["subscribers", f"{sim.get('subscribers', 0):,}", f"{mod.subscribers:,}"],
                    ["seconds", f"{sim.get('virtual_seconds', 0):,.1f}", f"{mod.seconds:,.1f}"],
                    ["planner seconds", str(sim.get("planner_seconds")),
                     f"{mod.planner_seconds:.2f}"],
                    ["emails", f"{sim.get('emails', 0):,}", f"{mod.subscribers:,}"],
                    ["busiest second", str(sim.get("busiest_second")), f"{mod.send_rate:g}"],
                    ["budget writes an email", str(sim.get("budget_writes_per_email")),
                     f"{1 / model.digest_shape().budget_chunk:g}"],
                    [f"hours for {full.subscribers:,}", str(sim.get("extrapolated_hours")),
                     f"{full.seconds / 3600:.3f}"],
                ],
            ),
            "  (" + ", ".join(f"{k} {v}" for k, v in sim.items()) + ")",
        ]  # fmt: skip
    elif sim is None:
        lines.append("digest simulation: not run (bench/digest_simulation.py absent, or --quick)")
    return lines


def quotes_section() -> list[str]:
    lines = ["== prices and quotas (us-east-1; * not double-checked here, ! an assumption) =="]
    for name, q in all_quotes().items():
        mark = "!" if q.assumption else ("*" if not q.confirmed else " ")
        lines.append(f" {mark} {name}: {q.value:g} {q.unit} ({q.source})")
    return lines


def render(f: Figures) -> str:
    sections = [
        profile_section(f),
        measured_section(f),
        cost_section(f),
        monthly_section(f),
        ceilings_section(f),
        spike_section(f),
        ingest_section(f),
        digest_section(f),
        quotes_section(),
    ]
    return "\n\n".join("\n".join(s) for s in sections)


# -- the JSON document ----------------------------------------------------------------------

_SERIES = (
    "seconds", "viewer_rps", "origin_rps", "hot_origin_rps", "feed_partition_utilisation",
    "story_partition_utilisation", "lambda_concurrency",
)  # fmt: skip


def document(f: Figures) -> dict[str, Any]:
    """Every figure of the report, for ``bench/capacity.json``."""
    d = f.deployment
    spike = {k: v for k, v in asdict(f.spike).items() if k not in _SERIES}
    spike["every_10_s"] = {
        "second": f.spike.seconds[::10],
        "viewer_rps": f.spike.viewer_rps[::10],
        "origin_rps": f.spike.origin_rps[::10],
    }
    met = f.goals_met
    values = {
        "cost_per_million_reads": f.per_million,
        "first_ceiling_rps": f.first.viewer_rps,
        "ingest_seconds": f.ingest.seconds,
        "digest_seconds": f.digest.seconds,
    }
    needed = f.hit_rate_for_goal
    remedies = {
        "cost_per_million_reads": f"a hit rate of {needed:.1%}" if needed else "no hit rate",
        "first_ceiling_rps": "; ".join(
            c.remedy for c in f.ceilings if c.viewer_rps < f.goals.first_ceiling_rps
        ),
        "ingest_seconds": "; ".join([*f.ingest.throttles, f.ingest.remedy]),
        "digest_seconds": f.digest.remedy,
    }
    return {
        "profile": asdict(f.profile) | {"route_mix": dict(f.profile.route_mix)},
        "deployment": {
            n.name: getattr(d, n.name)
            for n in fields(d)
            if n.name not in ("parameters", "access_log_format")
        }
        | {
            "overrides": dict(d.overrides),
            "memory_mb": dict(d.memory_mb),
            "timeout_s": dict(d.timeout_s),
        },
        "measured": f.measured.to_json(),
        "per_route_per_million_reads": [asdict(c) | {"total": c.total} for c in f.costs],
        "cost_per_million_reads": f.per_million,
        "cost_per_million_reads_without_transfer": f.per_million_without_transfer,
        "cost_per_million_reads_by_hit_rate": f.by_hit_rate,
        "hit_rate_for_cost_goal": f.hit_rate_for_goal,
        "monthly": f.monthly,
        "ceilings": [asdict(c) for c in f.ceilings],
        "binds_first": asdict(f.first),
        "spike": spike,
        "ingest": asdict(f.ingest),
        "digest": asdict(f.digest),
        "digest_at_goal_settings": asdict(f.digest_at_goal) if f.digest_at_goal else None,
        "digest_simulation": f.simulation,
        "goals": {
            name: {
                "goal": getattr(f.goals, name),
                "value": values[name],
                "met": met[name],
                "what_it_would_take": "" if met[name] else remedies[name],
            }
            for name in met
        },
        "quotes": {name: asdict(q) for name, q in all_quotes().items()},
    }
