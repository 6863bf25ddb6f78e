"""``newsroom.newsletter.digest_runs.RunRepository`` against moto's DynamoDB: the day's run is
created once, a planner's page counts and cursor move only while it holds the lease, a run is
complete only once planned to the end and every message is handled, and it is recorded
finished exactly once; and the planner's ``send_rate`` takes the smaller of SesMaxSendRate and
the account's SES rate."""

from typing import Any

import pytest

from devtools.template import create_table_kwargs
from newsroom.newsletter.digest_runs import Counts, RunRepository, RunStories
from newsroom.newsletter.planner import send_rate

TABLE = "subscribers-runs-test"
DAY = "2026-12-02"
NOW = 1_796_198_400.0


@pytest.fixture
def runs(dynamodb: Any) -> RunRepository:
    dynamodb.create_table(**create_table_kwargs("SubscribersTable", TABLE))
    return RunRepository(dynamodb, TABLE)


def start(runs: RunRepository, planner: str = "first") -> bool:
    return runs.start(DAY, now=NOW, stories=2, rate=14, planner=planner, lease_until=NOW + 900)


def test_the_day_has_one_run(runs: RunRepository) -> None:
    assert start(runs)
    assert not start(runs, "second")
    assert runs.start_finished(DAY, now=NOW, stories=0) is None
    run = runs.get(DAY)
    assert run is not None and (run.status, run.planner, run.rate) == ("planning", "first", 14)


def test_only_the_lease_holder_records_pages(runs: RunRepository) -> None:
    start(runs)
    assert not runs.record_page(DAY, planner="other", cursor="{}", messages=10, subscribers=1000)
    assert runs.record_page(DAY, planner="first", cursor='{"k": 1}', messages=10, subscribers=1000)
    run = runs.get(DAY)
    assert run is not None and (run.cursor, run.messages_planned) == ('{"k": 1}', 10)
    assert runs.finish_planning(DAY, "other") is None


def test_a_lease_can_be_taken_over_once(runs: RunRepository) -> None:
    start(runs)
    run = runs.get(DAY)
    assert run is not None
    assert runs.take_over(run, planner="retry", lease_until=NOW + 1800)
    assert not runs.take_over(run, planner="late", lease_until=NOW + 1800)  # saw the old lease
    assert not runs.record_page(DAY, planner="first", cursor=None, messages=1, subscribers=1)


def test_a_run_is_finished_once_planned_to_the_end_and_every_message_handled(
    runs: RunRepository,
) -> None:
    start(runs)
    runs.record_page(DAY, planner="first", cursor=None, messages=2, subscribers=150)
    early = runs.add_counts(DAY, Counts(sent=100), message_done=True)
    assert not early.complete  # still planning
    planned = runs.finish_planning(DAY, "first")
    assert planned is not None and not planned.complete  # one message to go
    retry = runs.add_counts(DAY, Counts(sent=20), message_done=False)  # an attempt that failed
    assert not retry.complete and runs.finish(retry, NOW + 5) is None
    last = runs.add_counts(DAY, Counts(sent=29, skipped=1), message_done=True)
    assert last.complete
    finished = runs.finish(last, NOW + 60)
    assert finished is not None and finished.totals() == {
        "day": DAY,
        "stories": 2,
        "messages": 2,
        "subscribers": 150,
        "sent": 149,
        "failed": 0,
        "suppressed": 0,
        "skipped": 1,
        "seconds": 60.0,
    }
    assert runs.finish(last, NOW + 61) is None  # whoever else sees it complete


def test_the_runs_stories_are_written_once(runs: RunRepository) -> None:
    stories = [
        {
            "slug": "a",
            "title": "A",
            "excerpt": "e",
            "published_at": "2026-12-02T05:00:00Z",
            "updated_at": "2026-12-02T05:00:00Z",
            "topics": [],
        }
    ]
    runs.put_stories(DAY, RunStories(stories, "2026-11-25T07:00:00Z"), now=NOW)  # type: ignore[arg-type]
    runs.put_stories(DAY, RunStories([], "2026-11-25T08:00:00Z"), now=NOW)  # a planner taking over
    assert runs.stories(DAY) == RunStories(stories, "2026-11-25T07:00:00Z")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("ses_max_send_rate", "account", "rate"),
    [(10, 14.0, 10), (100, 14.0, 14), (0, 14.5, 14), (10, 0.5, 1)],
)
def test_the_sending_rate_is_the_smaller_of_the_parameter_and_the_accounts(
    ses_max_send_rate: float, account: float, rate: int
) -> None:
    quota = {"Max24HourSend": 50000.0, "MaxSendRate": account, "SentLast24Hours": 0.0}
    assert send_rate(quota, ses_max_send_rate) == rate
