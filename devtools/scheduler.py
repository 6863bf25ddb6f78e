"""EventBridge Scheduler's one-time schedules, on any Scheduler endpoint (moto's, which stores
schedules and never fires them): every schedule of a group whose ``at(...)`` instant has come
is fired, its target invoked with its ``Input``, and, with ``ActionAfterCompletion: DELETE``,
deleted once the invocation completed (EventBridge Scheduler User Guide, "Schedule types":
one-time schedules; "Deleting a schedule after it completes"). A target that fails is fired
again at the next poll (Scheduler retries with its RetryPolicy)."""

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

log = logging.getLogger("scheduler")
Invoke = Callable[[str, dict[str, Any]], Any]
_AT = re.compile(r"^at\((\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\)$")


def due_at(expression: str) -> str | None:
    """The instant of an ``at(yyyy-mm-ddThh:mm:ss)`` expression in the stored format (UTC);
    ``None`` for rate() and cron() expressions (not one-time)."""
    found = _AT.match(expression)
    return f"{found.group(1)}Z" if found else None


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Firings:
    fired: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


class ScheduleRunner:
    """Fires the due one-time schedules of one group through ``invoke(target_arn, input)``."""

    def __init__(
        self, scheduler: Any, group: str, invoke: Invoke, clock: Callable[[], str] = utc_now
    ) -> None:
        self.scheduler = scheduler
        self.group = group
        self.invoke = invoke
        self.clock = clock

    def run_due(self) -> Firings:
        """Fire every schedule of the group that is due now."""
        now = self.clock()
        firings = Firings()
        listed = self.scheduler.list_schedules(GroupName=self.group).get("Schedules", [])
        for summary in listed:
            name = summary["Name"]
            schedule = self.scheduler.get_schedule(Name=name, GroupName=self.group)
            instant = due_at(schedule["ScheduleExpression"])
            if instant is None or instant > now or schedule.get("State") == "DISABLED":
                continue
            target = schedule["Target"]
            try:
                self.invoke(target["Arn"], json.loads(target.get("Input") or "{}"))
            except Exception as exc:  # retried at the next poll, as Scheduler retries
                log.warning("schedule %s failed: %s", name, exc)
                firings.failed.append(name)
                continue
            firings.fired.append(name)
            if schedule.get("ActionAfterCompletion") == "DELETE":
                self.scheduler.delete_schedule(Name=name, GroupName=self.group)
        return firings
