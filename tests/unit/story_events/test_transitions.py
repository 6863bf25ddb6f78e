"""The rules of publish events (newsroom.story_events.transitions), one test each."""

import re
from typing import Any

from newsroom.core.slugs import SLUG_MAX_LENGTH
from newsroom.story_events.transitions import (
    EventType,
    Firing,
    ScheduleDelete,
    ScheduleUpsert,
    Transition,
    at_expression,
    decide,
    due_publication,
    event_detail,
    event_key,
    may_await_schedule,
    schedule_name,
)

NOW = "2026-06-01T12:00:00Z"
EARLIER = "2026-06-01T08:00:00Z"
LATER = "2026-06-02T09:00:00Z"
SCHEDULE_NAME = re.compile(r"^[0-9a-zA-Z\-_.]{1,64}$")


def story(status: str = "published", **fields: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "pk": "story#the-slug",
        "sk": "story",
        "slug": "the-slug",
        "title": "The title",
        "status": status,
        "published_at": EARLIER,
        "updated_at": EARLIER,
        "ingested_at": EARLIER,
        "content_hash": "h1",
        "topics": ["ai"],
        "source_key": "incoming/a.json",
    }
    item.update(fields)
    return item


def scheduled(**fields: Any) -> dict[str, Any]:
    """Published for LATER, written before it (so it got a schedule)."""
    return story(**{"published_at": LATER, **fields})


# -- events -----------------------------------------------------------------------------


def test_a_new_public_story_is_published() -> None:
    new = story()
    assert decide(None, new, NOW) == Transition(EventType.PUBLISHED, new, None)


def test_a_draft_emits_nothing() -> None:
    assert decide(None, story("draft"), NOW) == Transition()


def test_a_draft_that_is_published_is_published() -> None:
    new = story(updated_at=NOW, content_hash="h2")
    assert decide(story("draft"), new, NOW).event is EventType.PUBLISHED


def test_a_scheduled_story_emits_nothing_and_gets_a_schedule_for_its_instant() -> None:
    assert decide(None, scheduled(), NOW) == Transition(
        None, None, ScheduleUpsert("the-slug", LATER)
    )


def test_a_public_story_whose_content_changed_is_updated() -> None:
    new = story(updated_at=NOW, content_hash="h2")
    assert decide(story(), new, NOW) == Transition(EventType.UPDATED, new, None)


def test_a_public_story_whose_published_at_changed_is_updated() -> None:
    new = story(published_at="2026-06-01T07:00:00Z", updated_at=NOW)
    assert decide(story(), new, NOW).event is EventType.UPDATED


def test_a_change_the_public_does_not_see_emits_nothing() -> None:
    new = story(ingested_at=NOW, source_key="incoming/b.json")
    assert decide(story(), new, NOW) == Transition()


def test_a_retracted_story_is_retracted_with_what_the_public_saw_last() -> None:
    old = story()
    transition = decide(old, story("retracted", updated_at=NOW, title="Gone"), NOW)
    assert transition == Transition(EventType.RETRACTED, old, None)


def test_a_public_story_back_to_draft_is_retracted() -> None:
    assert decide(story(), story("draft", updated_at=NOW), NOW).event is EventType.RETRACTED


def test_a_deleted_public_story_is_retracted() -> None:
    old = story()
    assert decide(old, None, NOW) == Transition(EventType.RETRACTED, old, None)


def test_a_public_story_rescheduled_for_later_is_retracted_and_scheduled() -> None:
    old = story()
    transition = decide(old, scheduled(updated_at=NOW), NOW)
    assert transition == Transition(EventType.RETRACTED, old, ScheduleUpsert("the-slug", LATER))


def test_a_retracted_story_that_was_never_public_emits_nothing() -> None:
    assert decide(story("draft"), story("retracted", updated_at=NOW), NOW) == Transition()


# -- schedules --------------------------------------------------------------------------


def test_a_scheduled_story_moved_to_another_instant_moves_its_schedule() -> None:
    moved = "2026-06-03T09:00:00Z"
    transition = decide(scheduled(), scheduled(published_at=moved, updated_at=NOW), NOW)
    assert transition == Transition(None, None, ScheduleUpsert("the-slug", moved))


def test_a_scheduled_story_published_now_is_published_and_its_schedule_deleted() -> None:
    new = story(updated_at=NOW)
    assert decide(scheduled(), new, NOW) == Transition(
        EventType.PUBLISHED, new, ScheduleDelete("the-slug")
    )


def test_a_scheduled_story_retracted_before_its_instant_emits_nothing_and_loses_its_schedule() -> (
    None
):
    transition = decide(scheduled(), scheduled(status="retracted", updated_at=NOW), NOW)
    assert transition == Transition(None, None, ScheduleDelete("the-slug"))


def test_an_update_after_the_instant_before_the_schedule_fired_is_published_and_takes_it_over() -> (
    None
):
    """The old version is public by the clock, but its schedule has not fired: nobody was
    told yet, so the update publishes it (with its new content) and removes the schedule."""
    old = scheduled(ingested_at=EARLIER)
    new = scheduled(ingested_at=LATER, updated_at=LATER, content_hash="h2")
    after = "2026-06-02T09:00:05Z"
    transition = decide(old, new, after, old_awaits_schedule=True)
    assert transition == Transition(EventType.PUBLISHED, new, ScheduleDelete("the-slug"))


def test_an_update_after_the_schedule_fired_is_updated() -> None:
    old = scheduled(ingested_at=EARLIER)
    new = scheduled(ingested_at=LATER, updated_at=LATER, content_hash="h2")
    after = "2026-06-02T09:00:05Z"
    assert decide(old, new, after) == Transition(EventType.UPDATED, new, None)


def test_a_retraction_before_the_schedule_fired_emits_nothing_and_deletes_it() -> None:
    old = scheduled()
    after = "2026-06-02T09:00:05Z"
    transition = decide(old, scheduled(status="retracted"), after, old_awaits_schedule=True)
    assert transition == Transition(None, None, ScheduleDelete("the-slug"))


def test_only_a_version_written_before_its_instant_may_await_a_schedule() -> None:
    after = "2026-06-02T09:00:05Z"
    assert may_await_schedule(scheduled(), after)  # published_at > ingested_at, public now
    assert not may_await_schedule(scheduled(), NOW)  # not public yet: plainly scheduled
    assert not may_await_schedule(story(), after)  # public at its write: no schedule made
    assert not may_await_schedule(scheduled(status="draft"), after)
    assert not may_await_schedule(None, after)


# -- firing -----------------------------------------------------------------------------


def test_a_firing_for_the_stored_instant_once_public_is_due() -> None:
    assert due_publication(scheduled(), LATER, LATER) is Firing.DUE


def test_a_firing_before_the_instant_is_early() -> None:
    assert due_publication(scheduled(), LATER, "2026-06-02T08:59:59Z") is Firing.EARLY


def test_a_firing_for_a_moved_instant_is_stale() -> None:
    moved = scheduled(published_at="2026-06-03T09:00:00Z")
    assert due_publication(moved, LATER, "2026-06-04T00:00:00Z") is Firing.STALE


def test_a_firing_for_a_retracted_or_missing_story_is_stale() -> None:
    assert due_publication(scheduled(status="retracted"), LATER, LATER) is Firing.STALE
    assert due_publication(None, LATER, LATER) is Firing.STALE


# -- what is sent -----------------------------------------------------------------------


def test_the_detail_names_the_story_and_its_public_url() -> None:
    detail = event_detail(
        EventType.PUBLISHED, story(), "https://signal-noise.example/stories/{slug}"
    )
    assert detail == {
        "slug": "the-slug",
        "title": "The title",
        "published_at": EARLIER,
        "updated_at": EARLIER,
        "topics": ["ai"],
        "url": "https://signal-noise.example/stories/the-slug",
        "event_key": event_key(EventType.PUBLISHED, story()),
    }


def test_the_event_key_is_the_same_for_one_event_of_one_version_only() -> None:
    assert event_key(EventType.PUBLISHED, story()) == event_key(
        EventType.PUBLISHED, story(ingested_at=NOW)
    )
    assert event_key(EventType.PUBLISHED, story()) != event_key(EventType.UPDATED, story())
    assert event_key(EventType.UPDATED, story()) != event_key(
        EventType.UPDATED, story(content_hash="h2")
    )


def test_a_schedule_name_is_the_slug_when_it_fits_and_a_hashed_cut_when_not() -> None:
    assert schedule_name("the-slug") == "publish-the-slug"
    long_a = ("a" * 40 + "-") * 2 + "b" * (SLUG_MAX_LENGTH - 82)
    long_b = long_a[:-1] + "c"
    for name in (schedule_name(long_a), schedule_name(long_b)):
        assert SCHEDULE_NAME.fullmatch(name), name
    assert schedule_name(long_a) != schedule_name(long_b)


def test_the_at_expression_is_the_stored_instant_without_its_zone() -> None:
    assert at_expression("2026-06-02T09:00:00Z") == "at(2026-06-02T09:00:00)"
