"""The digest's sending budget, shared by every sender at once: a fixed-window token budget in
the subscribers table, so that all senders together stay under the account's SES rate.

One item per second (``rate#<epoch second>``) counts the sends granted in that second to any
sender. A sender takes tokens a few at a time with one conditional ``UpdateItem``
(``ADD used :n`` only while ``used <= limit - n``), so N emails cost about N / ``chunk``
writes, and whatever order the senders' writes arrive in, no second grants more than
``limit``. A token is good in its own second only: a send starts with it while the clock is
still in that window, and what is left when the window ends is dropped, so the sends that
start in any one second never exceed the limit, however long each send takes. Each window
item carries a TTL (``expires_at``), so old windows go away by themselves.

=========  ================================================================================
call       cost
=========  ================================================================================
``acquire`` nothing while tokens of the current second are held; else 1 conditional
            ``UpdateItem`` (2 when the window has fewer left than asked: the rest is taken)
=========  ================================================================================
"""

import math
import time
from collections.abc import Callable
from typing import Any, cast

from botocore.exceptions import ClientError

DEFAULT_CHUNK = 10
WINDOW_TTL_SECONDS = 3600  # a window is of no use after its second; TTL removes it later
# How much of a send cycle's newest measurement counts in its running estimate.
_CYCLE_WEIGHT = 0.3


def window_key(second: int) -> dict[str, Any]:
    return {"id": {"S": f"rate#{second}"}}


class SendBudget:
    """One sender's view of the shared budget. ``clock`` and ``sleep`` are injectable (the
    simulation runs on virtual time); ``claims`` counts the ``UpdateItem`` calls made."""

    def __init__(
        self,
        client: Any,
        table: str,
        *,
        chunk: int = DEFAULT_CHUNK,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._client = client
        self._table = table
        self.chunk = chunk
        self.clock = clock
        self.sleep = sleep
        self.claims = 0
        self._window = -1
        self._held = 0
        self._last_grant: float | None = None
        self._cycle = 0.0  # seconds between two sends of this sender, as measured

    def acquire(self, limit: int) -> None:
        """Return once this sender may start one send now, at most ``limit`` sends per second
        over every sender; waits (``sleep``) for the next second while this one is used up."""
        limit = max(1, int(limit))
        while True:
            now = self.clock()
            window = math.floor(now)
            if window == self._window and self._held > 0:
                self._held -= 1
                self._granted(now)
                return
            granted = self._claim(window, self._wanted(now, window, limit), limit)
            if granted:
                self._window, self._held = window, granted - 1
                self._granted(now)
                return
            self._last_grant = None  # the wait is not part of a send cycle
            self.sleep(window + 1 - now)

    def _wanted(self, now: float, window: int, limit: int) -> int:
        """As many tokens as this sender can use before its window ends (by its measured
        send cycle), at most ``chunk``: tokens taken and dropped would be lost to the others."""
        wanted = self.chunk
        if self._cycle > 0:
            wanted = math.ceil((window + 1 - now) / self._cycle)
        return max(1, min(wanted, self.chunk, limit))

    def _granted(self, now: float) -> None:
        if self._last_grant is not None and 0 <= now - self._last_grant < 1:
            gap = now - self._last_grant
            self._cycle = (
                gap
                if self._cycle == 0
                else ((1 - _CYCLE_WEIGHT) * self._cycle + _CYCLE_WEIGHT * gap)
            )
        self._last_grant = now

    def _claim(self, window: int, wanted: int, limit: int) -> int:
        """Take ``wanted`` tokens of ``window``, or what is left of it when that is fewer;
        0 when the window is used up."""
        while wanted > 0:
            self.claims += 1
            try:
                self._client.update_item(
                    TableName=self._table,
                    Key=window_key(window),
                    UpdateExpression="ADD used :n SET expires_at = if_not_exists(expires_at, :ttl)",
                    ConditionExpression="attribute_not_exists(used) OR used <= :room",
                    ExpressionAttributeValues={
                        ":n": {"N": str(wanted)},
                        ":room": {"N": str(limit - wanted)},
                        ":ttl": {"N": str(window + WINDOW_TTL_SECONDS)},
                    },
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
                return wanted
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                    raise
                # ReturnValuesOnConditionCheckFailure: the window as it was (botocore puts
                # it in the error's response; its stubs do not know the key).
                old: Any = cast("dict[str, Any]", exc.response).get("Item", {})
                used = int(old.get("used", {}).get("N", limit))
                wanted = min(limit - used, wanted - 1)  # what is left, if anything
        return 0
