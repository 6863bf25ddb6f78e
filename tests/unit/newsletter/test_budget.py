"""``newsroom.newsletter.budget.SendBudget`` against moto's DynamoDB: senders with their own
virtual clocks share one fixed-window budget (``rate#<second>`` items in the subscribers
table). No second grants more than the limit whatever order the senders' writes come in, a
token is good in its own second only, tokens are taken in chunks (a write per ~10 emails),
a used-up second waits for the next, and the windows expire (TTL)."""

import math
from collections import Counter
from typing import Any

import pytest

from devtools.template import create_table_kwargs
from newsroom.newsletter.budget import DEFAULT_CHUNK, WINDOW_TTL_SECONDS, SendBudget, window_key

TABLE = "subscribers-budget-test"
START = 1_800_000_000.0  # a virtual epoch second


class VirtualClock:
    """One sender's own time: ``sleep`` moves it on, nothing waits."""

    def __init__(self, now: float = START) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def table(dynamodb: Any) -> str:
    dynamodb.create_table(**create_table_kwargs("SubscribersTable", TABLE))
    return TABLE


def sender(dynamodb: Any, table: str, clock: VirtualClock) -> SendBudget:
    return SendBudget(dynamodb, table, clock=clock, sleep=clock.sleep)


def used(dynamodb: Any, table: str, second: int) -> int:
    item = dynamodb.get_item(TableName=table, Key=window_key(second), ConsistentRead=True)
    return int(item.get("Item", {}).get("used", {}).get("N", 0))


def test_no_second_grants_more_than_the_limit_across_senders(dynamodb: Any, table: str) -> None:
    limit, senders, cycle = 25, 6, 0.03  # each could send 33/s alone: together 200/s
    clocks = [VirtualClock(START + i * 0.007) for i in range(senders)]
    budgets = [sender(dynamodb, table, c) for c in clocks]
    starts: list[float] = []
    while len(starts) < 400:  # the sender furthest behind goes next, as the simulation does
        i = min(range(senders), key=lambda n: clocks[n].now)
        budgets[i].acquire(limit)
        starts.append(clocks[i].now)
        clocks[i].now += cycle  # the send itself
    per_second = Counter(math.floor(t) for t in starts)
    assert max(per_second.values()) <= limit
    for second, count in per_second.items():
        assert count <= used(dynamodb, table, second) <= limit
    # The budget, not the senders, is the bound: every second all of them lived through is
    # used up (a sender may drop what is left of its chunk when its second ends).
    lived = range(int(START), math.floor(min(c.now for c in clocks)))
    assert len(lived) >= 10
    assert all(per_second[s] >= limit - senders for s in lived), per_second


def test_a_token_is_good_only_in_its_own_second(dynamodb: Any, table: str) -> None:
    clock = VirtualClock()
    budget = sender(dynamodb, table, clock)
    budget.acquire(100)  # takes a chunk in START's second
    assert used(dynamodb, table, int(START)) == DEFAULT_CHUNK
    clock.now += 1  # the rest of that chunk is not carried into the next second
    budget.acquire(100)
    assert used(dynamodb, table, int(START) + 1) >= 1
    assert budget.claims == 2


def test_tokens_are_taken_in_chunks(dynamodb: Any, table: str) -> None:
    clock = VirtualClock()
    budget = sender(dynamodb, table, clock)
    for _ in range(200):
        budget.acquire(1000)
        clock.now += 0.05  # one send
    # 200 sends over 10 seconds: about one write per chunk, a few more at window ends.
    assert budget.claims <= 200 / DEFAULT_CHUNK + 10


def test_a_used_up_second_waits_for_the_next(dynamodb: Any, table: str) -> None:
    first, second = VirtualClock(START + 0.2), VirtualClock(START + 0.5)
    greedy, late = sender(dynamodb, table, first), sender(dynamodb, table, second)
    for _ in range(3):
        greedy.acquire(3)  # the whole second
    late.acquire(3)
    assert second.sleeps == [pytest.approx(0.5)]  # to the start of the next second
    assert second.now == pytest.approx(START + 1)
    assert (used(dynamodb, table, int(START)), used(dynamodb, table, int(START) + 1)) == (3, 3)


def test_what_is_left_of_a_second_is_taken_when_it_is_less_than_a_chunk(
    dynamodb: Any, table: str
) -> None:
    a, b = VirtualClock(), VirtualClock()
    first, second = sender(dynamodb, table, a), sender(dynamodb, table, b)
    first.acquire(15)  # 10 of 15
    second.acquire(15)  # asks 10, gets the 5 left
    for _ in range(4):
        second.acquire(15)
    assert used(dynamodb, table, int(START)) == 15
    assert b.sleeps == []  # all five were in START's second
    assert second.claims == 2  # the refused ask, then the rest


def test_windows_carry_a_ttl(dynamodb: Any, table: str) -> None:
    budget = sender(dynamodb, table, VirtualClock())
    budget.acquire(10)
    item = dynamodb.get_item(TableName=table, Key=window_key(int(START)))["Item"]
    assert int(item["expires_at"]["N"]) == int(START) + WINDOW_TTL_SECONDS
