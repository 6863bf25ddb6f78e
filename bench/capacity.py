"""``make capacity`` (``python -m bench.capacity``): the ceilings and the cost, computed.

Measures this code (``bench.capacity_measure``: the sample stories through the real ingest
and API handlers in moto, handler times, the ingest's CPU per story), reads the deployed
settings (``template.yaml`` and the chosen ``samconfig.toml`` environment), applies AWS's
prices and quotas (``bench.capacity_prices``, each with its source) to a traffic profile
(``bench.capacity_model.Profile``), then prints the report, writes ``bench/capacity.json``
and the spike's chart ``docs/capacity-spike.png``. The exit status is 0 whether or not the
goals are met (the report says which are not, and what it would take).
"""

import argparse
import importlib
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any

from bench import capacity_model as model
from bench.capacity_measure import measure
from bench.capacity_report import compute, document, render
from bench.common import say
from devtools.template import ROOT

JSON_PATH = ROOT / "bench" / "capacity.json"
CHART_PATH = ROOT / "docs" / "capacity-spike.png"
SIMULATED_SUBSCRIBERS = 10_000


def chart(
    spike: model.Spike, deployment: model.Deployment, profile: model.Profile, path: Path
) -> None:
    """Viewer vs origin requests per second over the spike (log scale) with the per-method
    limit, and the DynamoDB partitions' utilisation, as a PNG (matplotlib, headless)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    minutes = [(s - profile.spike_margin_seconds) / 60 for s in spike.seconds]
    figure, (top, bottom) = plt.subplots(
        2, 1, figsize=(9, 6.5), sharex=True, height_ratios=[3, 1.3]
    )
    viewers = "viewer requests/s (CloudFront; the origin's load without it)"
    top.plot(minutes, spike.viewer_rps, label=viewers, linewidth=2)
    top.plot(minutes, spike.origin_rps, label="origin requests/s (API Gateway)", color="#d62728")
    hot = [max(v, 1e-3) for v in spike.hot_origin_rps]  # a log scale has no 0
    top.plot(minutes, hot, label="of which the hot story's URL", color="#ff7f0e", linestyle=":")
    top.axhline(
        deployment.throttle_rate,
        color="#7f7f7f",
        linestyle="--",
        linewidth=1,
        label=f"per-method throttle ({deployment.throttle_rate:,.0f}/s)",
    )
    top.set_yscale("log")
    top.set_ylim(0.01, max(spike.viewer_rps) * 3)
    top.set_ylabel("requests per second")
    top.set_title(
        f"One story at {profile.spike_multiplier:g}x the peak for {profile.spike_seconds // 60} "
        f"min: {spike.locations} cache locations, {spike.cache_seconds} s fresh, "
        f"{profile.hit_rate:.0%} hit rate for the rest",
        fontsize=10,
    )
    top.legend(loc="center right", fontsize=8)
    top.grid(True, which="both", alpha=0.25)
    feed = [u * 100 for u in spike.feed_partition_utilisation]
    story = [u * 100 for u in spike.story_partition_utilisation]
    bottom.plot(minutes, feed, label="feed index partition (feed_pk=feed)", color="#2ca02c")
    bottom.plot(minutes, story, label="the hot story's partition", color="#9467bd")
    bottom.set_ylabel("% of 3,000 read units/s")
    bottom.set_xlabel("minutes from the start of the spike")
    bottom.legend(loc="upper right", fontsize=8)
    bottom.grid(True, alpha=0.25)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110, metadata={"Software": None})  # no version: stable bytes
    plt.close(figure)


def digest_simulation(subscribers: int = SIMULATED_SUBSCRIBERS) -> dict[str, Any] | None:
    """The figures of ``bench/digest_simulation.py`` (the real planner and senders against moto
    under a virtual clock) for ``subscribers``, or None when that module is absent (another
    part of the work: imported only if present)."""
    try:
        module = importlib.import_module("bench.digest_simulation")
    except ImportError:
        return None
    say(f"capacity: the digest simulation, {subscribers:,} subscribers (about a minute here)")
    result = module.simulate(subscribers)
    return asdict(result) if is_dataclass(result) and not isinstance(result, type) else None


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    defaults = model.Profile()
    parser = argparse.ArgumentParser(prog="python -m bench.capacity", description=__doc__)
    add = parser.add_argument
    add(
        "--quick",
        action="store_true",
        help="fewer timed requests, a smaller ingest run, no simulation",
    )
    add("--env", default=defaults.environment, help="samconfig.toml environment (default prod)")
    add("--readers", type=int, default=defaults.daily_readers, help="daily readers")
    add("--requests-per-reader", type=float, default=defaults.requests_per_reader)
    add("--hit-rate", type=float, default=defaults.hit_rate, help="CDN hit rate, 0 to 1")
    add("--peak-to-average", type=float, default=defaults.peak_to_average)
    add("--origin-shield", choices=["on", "off"], help="default: as the template says")
    add("--spike", type=float, default=defaults.spike_multiplier, help="times the peak")
    add("--spike-minutes", type=int, default=defaults.spike_seconds // 60)
    add("--stories-per-day", type=int, default=defaults.stories_per_day)
    add("--ingest-batch", type=int, default=defaults.ingest_batch)
    add("--subscribers", type=int, default=defaults.subscribers)
    add("--ses-rate", type=float, default=defaults.ses_rate, help="the account's SES quota/s")
    add("--json", type=Path, default=JSON_PATH, help="where to write the figures")
    add("--chart", type=Path, default=CHART_PATH, help="where to write the spike's PNG")
    return parser.parse_args(argv)


def shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    profile = model.Profile(
        environment=args.env,
        daily_readers=args.readers,
        requests_per_reader=args.requests_per_reader,
        hit_rate=args.hit_rate,
        peak_to_average=args.peak_to_average,
        origin_shield=None if args.origin_shield is None else args.origin_shield == "on",
        spike_multiplier=args.spike,
        spike_seconds=args.spike_minutes * 60,
        stories_per_day=args.stories_per_day,
        ingest_batch=args.ingest_batch,
        subscribers=args.subscribers,
        ses_rate=args.ses_rate,
    )
    deployment = model.load_deployment(profile.environment)
    requests, ingest_stories = (200, 200) if args.quick else (2000, 1000)
    measured = measure(deployment.parameters, requests=requests, ingest_stories=ingest_stories)
    simulation = None if args.quick else digest_simulation()
    figures = compute(measured, deployment, profile, model.Goals(), simulation)
    print("\n" + render(figures), flush=True)
    args.json.write_text(json.dumps(document(figures), indent=1, default=str) + "\n")
    chart(figures.spike, deployment, profile, args.chart)
    say(f"\nwrote {shown(args.json)} and {shown(args.chart)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
