"""Which publish event a change of a stored story means, and what becomes of its schedule:
pure rules on the old and new images of the story item (the table's stream) and the time.

Rules (``now`` is when the change is processed, stored format):

- A version is *announced* when it is public (``items.is_public``), unless it is a scheduled
  story whose instant has passed while its schedule has not fired yet (``awaits_schedule``:
  the caller asks the scheduler whether the schedule is still there).
- ``Story Published``: the old version was not announced, the new one is public.
- ``Story Updated``: both announced/public and something the public sees changed
  (``content_hash``, ``published_at`` or ``updated_at``).
- ``Story Retracted``: the old version was announced, the new one is not public (retracted,
  back to draft, rescheduled for later, or the item deleted).
- Schedules: a new version that is scheduled gets a one-time schedule for its
  ``published_at`` (created, or moved when it exists); otherwise a schedule the old version
  may have is deleted (the story was retracted, published earlier, or taken over here).
- A schedule that fires publishes only the version it was made for: still published for
  exactly that ``published_at`` and public at the firing (``due_publication``).
"""

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from newsroom.stories.items import is_public, is_scheduled

EVENT_SOURCE = "signal-noise.stories"
# EventBridge Scheduler: names are 1-64 characters of [0-9a-zA-Z-_.].
SCHEDULE_NAME_MAX = 64
SCHEDULE_PREFIX = "publish-"
_HASH_CHARS = 16
# What the public sees of a version besides its content (the content is content_hash).
VISIBLE_VERSION = ("content_hash", "published_at", "updated_at")
FIRING_KIND = "publish-due"


class EventType(StrEnum):
    """The ``detail-type`` of a publish event."""

    PUBLISHED = "Story Published"
    UPDATED = "Story Updated"
    RETRACTED = "Story Retracted"


@dataclass(frozen=True, slots=True)
class ScheduleUpsert:
    """Make (or move) the one-time schedule that publishes ``slug`` at ``published_at``."""

    slug: str
    published_at: str


@dataclass(frozen=True, slots=True)
class ScheduleDelete:
    """Delete the schedule of ``slug`` (if there is one)."""

    slug: str


ScheduleAction = ScheduleUpsert | ScheduleDelete


@dataclass(frozen=True, slots=True)
class Transition:
    """What one change means: the event to emit (about ``story``), and the schedule action."""

    event: EventType | None = None
    story: Mapping[str, Any] | None = None
    schedule: ScheduleAction | None = None


class Firing(StrEnum):
    """What a schedule that fires finds."""

    DUE = "due"  # publish now
    EARLY = "early"  # the version it was made for, not public yet (clock skew): retry later
    STALE = "stale"  # the story changed meanwhile: nothing to publish


def slug_of(image: Mapping[str, Any]) -> str:
    return str(image.get("slug") or str(image["pk"]).removeprefix("story#"))


def had_schedule(image: Mapping[str, Any] | None) -> bool:
    """Whether a schedule may have been made for ``image``: it was published for a later
    instant than its own write (``ingested_at``). Cheap filter before asking the scheduler."""
    if image is None or image.get("status") != "published":
        return False
    return str(image.get("published_at", "")) > str(image.get("ingested_at", ""))


def may_await_schedule(image: Mapping[str, Any] | None, now: str) -> bool:
    """Whether ``image`` is public by the clock but may still wait for its schedule to
    announce it (the caller then asks whether that schedule still exists)."""
    return image is not None and had_schedule(image) and is_public(image, now)


def _changed(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    return any(old.get(name) != new.get(name) for name in VISIBLE_VERSION)


def decide(
    old: Mapping[str, Any] | None,
    new: Mapping[str, Any] | None,
    now: str,
    *,
    old_awaits_schedule: bool = False,
) -> Transition:
    """The event and schedule action of a change from ``old`` to ``new`` (stored story
    items; ``None`` when there is none) processed at ``now``. ``old_awaits_schedule``: the
    old version is public by the clock but its schedule has not fired (not announced)."""
    was_announced = old is not None and is_public(old, now) and not old_awaits_schedule
    now_public = new is not None and is_public(new, now)
    event: EventType | None = None
    story: Mapping[str, Any] | None = None
    if now_public and not was_announced:
        event, story = EventType.PUBLISHED, new
    elif now_public and was_announced and old is not None and new is not None:
        if _changed(old, new):
            event, story = EventType.UPDATED, new
    elif was_announced and not now_public:
        event, story = EventType.RETRACTED, old  # what the public saw last

    schedule: ScheduleAction | None = None
    if new is not None and is_scheduled(new, now):
        schedule = ScheduleUpsert(slug_of(new), str(new["published_at"]))
    elif old is not None and (is_scheduled(old, now) or old_awaits_schedule):
        schedule = ScheduleDelete(slug_of(old))
    return Transition(event, story, schedule)


def due_publication(story: Mapping[str, Any] | None, published_at: str, now: str) -> Firing:
    """What a schedule made for ``published_at`` should do, given the story as stored now."""
    if story is None or story.get("status") != "published":
        return Firing.STALE
    if story.get("published_at") != published_at:
        return Firing.STALE
    return Firing.DUE if is_public(story, now) else Firing.EARLY


def story_url(template: str, slug: str) -> str:
    return template.replace("{slug}", slug)


def event_key(event: EventType, story: Mapping[str, Any]) -> str:
    """The same for every emission of one event about one version (a retried record, a
    schedule delivered twice): EventBridge cannot deduplicate, a consumer can on this."""
    parts = [str(event), slug_of(story), *(str(story.get(name, "")) for name in VISIBLE_VERSION)]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


def event_detail(event: EventType, story: Mapping[str, Any], url_template: str) -> dict[str, Any]:
    """The event's ``detail``: what a site needs to rebuild the story's pages."""
    slug = slug_of(story)
    return {
        "slug": slug,
        "title": story.get("title"),
        "published_at": story.get("published_at"),
        "updated_at": story.get("updated_at"),
        "topics": list(story.get("topics") or []),
        "url": story_url(url_template, slug),
        "event_key": event_key(event, story),
    }


def schedule_name(slug: str) -> str:
    """The schedule of a story: ``publish-<slug>``, or, when that is longer than Scheduler
    allows (slugs reach 96 characters), the slug cut short plus a hash of the whole slug."""
    name = SCHEDULE_PREFIX + slug
    if len(name) <= SCHEDULE_NAME_MAX:
        return name
    digest = hashlib.sha256(slug.encode()).hexdigest()[:_HASH_CHARS]
    keep = SCHEDULE_NAME_MAX - len(SCHEDULE_PREFIX) - 1 - _HASH_CHARS
    return f"{SCHEDULE_PREFIX}{slug[:keep].rstrip('-')}-{digest}"


def at_expression(published_at: str) -> str:
    """Scheduler's one-time expression (``at(yyyy-mm-ddThh:mm:ss)``, in the schedule's time
    zone, UTC here) for a stored time (``YYYY-MM-DDTHH:MM:SSZ``)."""
    return f"at({published_at.removesuffix('Z')})"


def firing_input(slug: str, published_at: str) -> dict[str, str]:
    """What the schedule sends the function when it fires."""
    return {"kind": FIRING_KIND, "slug": slug, "published_at": published_at}


def is_firing(event: Mapping[str, Any]) -> bool:
    """Whether an invocation is a schedule firing (not a stream batch)."""
    return event.get("kind") == FIRING_KIND
