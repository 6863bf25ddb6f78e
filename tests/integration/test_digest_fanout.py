"""The digest at scale (``bench/digest_simulation.py``): the real planner and eight real senders
against moto, 10,000 confirmed subscribers, a virtual SES of 100 emails/s and 50 ms a send, a
virtual 5 ms for every other call, the senders a discrete-event schedule on virtual clocks,
every call of every function checked against its role. Everyone gets exactly one email, no
second sends more than the rate, the run takes within a few per cent of subscribers / rate,
and its end is reported once; a million at 100/s then takes under 3 hours."""

from types import ModuleType

import pytest

from bench.digest_simulation import GOAL_HOURS, SimulationResult, simulate
from tests.support.aws import load_function

SUBSCRIBERS = 10_000
RATE = 100


@pytest.fixture(scope="module")
def simulated(request: pytest.FixtureRequest) -> SimulationResult:
    """One simulated run for the whole module (it takes about a minute)."""
    with pytest.MonkeyPatch.context() as monkeypatch:

        def load(
            name: str, logical_id: str, env: dict[str, str], resources: dict[str, str]
        ) -> ModuleType:
            return load_function(name, logical_id, env, monkeypatch, resources=resources)

        return simulate(SUBSCRIBERS, ses_rate=RATE, senders=8, load=load)


def test_every_subscriber_gets_exactly_one_email(simulated: SimulationResult) -> None:
    assert simulated.emails == simulated.recipients == SUBSCRIBERS
    assert simulated.message_attempts == simulated.messages == SUBSCRIBERS // 100


def test_no_second_sends_more_than_the_rate(simulated: SimulationResult) -> None:
    assert simulated.ses_throttled == 0  # the virtual SES refused nothing
    assert simulated.busiest_second <= RATE
    assert simulated.busiest_window <= RATE


def test_the_run_takes_within_a_few_per_cent_of_subscribers_over_the_rate(
    simulated: SimulationResult,
) -> None:
    assert simulated.ideal_seconds == SUBSCRIBERS / RATE
    assert simulated.ideal_seconds <= simulated.virtual_seconds <= simulated.ideal_seconds * 1.05
    assert simulated.budget_writes_per_email <= 0.2  # tokens in chunks, not a write per email


def test_the_end_of_the_run_is_reported_once(simulated: SimulationResult) -> None:
    assert (simulated.runs_finished, simulated.run_finished_metrics) == (1, 1.0)


def test_a_million_subscribers_at_100_a_second_take_under_three_hours(
    simulated: SimulationResult,
) -> None:
    assert simulated.extrapolated_subscribers == 1_000_000
    assert simulated.extrapolated_hours < GOAL_HOURS
    assert simulated.meets_goal
