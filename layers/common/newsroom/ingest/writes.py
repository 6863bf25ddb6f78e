"""The writes of one file's stories: a bounded window of ``PutItem`` calls in flight, each
result entered in the receipt, and the topic entries of new stories written in groups.

A bounded window keeps memory flat for long JSON Lines files. Stories already created get
their topic entries even when another write failed, and every write or sync that was started
ends before the invocation does (a thread left running would write during the next one).
"""

from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from typing import Any

from newsroom.ingest.checker import Checked
from newsroom.ingest.receipts import Receipt, Visibility
from newsroom.stories.repository import PutResult, StoryRepository, WriteOutcome

SYNC_GROUP = 25  # new stories whose topic entries are written together


class StoryWrites:
    """The writes of one file: ``submit`` each valid story, then ``finish`` once (also when
    reading the file failed, so the receipt is true). ``finish`` raises the first error."""

    def __init__(
        self,
        pool: Executor,
        repository: StoryRepository,
        receipt: Receipt,
        window: int,
        visibility: Callable[[dict[str, Any], WriteOutcome], tuple[Visibility, str | None]],
    ) -> None:
        self._visibility = visibility  # (status, preview link) of a stored story
        self._pool = pool
        self._repository = repository
        self._receipt = receipt
        self._window = window
        self._in_flight: dict[Future[PutResult], tuple[Checked, dict[str, Any]]] = {}
        self._created: list[dict[str, Any]] = []  # new stories whose topic entries are due
        self._syncs: list[Future[int]] = []

    def submit(self, checked: Checked, item: dict[str, Any]) -> None:
        """Start writing ``item``; with the window full, first settle a finished write
        (raising its error, if it failed)."""
        self._in_flight[self._pool.submit(self._store_one, item)] = (checked, item)
        if len(self._in_flight) >= self._window:
            done, _ = wait(self._in_flight, return_when=FIRST_COMPLETED)
            self._settle(done)

    def finish(self) -> None:
        """Wait for every write and sync that was started; then raise the first error."""
        try:
            done, _ = wait(self._in_flight)
            self._settle(done)
        finally:
            errors = [error for sync in self._syncs if (error := sync.exception()) is not None]
            if errors:
                raise errors[0]  # a transient error: Lambda retries the event

    def _settle(self, done: set[Future[PutResult]]) -> None:
        failure: BaseException | None = None
        for future in done:
            checked, item = self._in_flight.pop(future)
            if (error := future.exception()) is not None:
                failure = failure or error
                continue
            outcome = future.result().outcome
            assert checked.story is not None
            status, preview_url = self._visibility(item, outcome)
            self._receipt.accept(
                checked.index, checked.line, checked.story.key, outcome, status, preview_url
            )
            if outcome is WriteOutcome.CREATED and item["topics"]:
                self._created.append(item)
        # Stories already created get their topic entries even when another write failed.
        created = self._created
        if len(created) >= SYNC_GROUP or ((not self._in_flight or failure) and created):
            self._syncs.append(self._pool.submit(self._repository.sync_created_stories, created[:]))
            created.clear()
        if failure is not None:
            raise failure

    def _store_one(self, item: dict[str, Any]) -> PutResult:
        result = self._repository.put_story(item)
        if result.outcome in (WriteOutcome.UPDATED, WriteOutcome.UNCHANGED):
            # A replay (unchanged) re-checks the entries too: it heals a crash in between.
            # New stories get theirs in groups (sync_created_stories).
            self._repository.sync_topic_entries(item)
        return result
