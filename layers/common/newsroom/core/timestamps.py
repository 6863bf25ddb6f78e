"""RFC 3339 timestamps: strict parsing of what uploaders send, one UTC format for what we store."""

import re
from datetime import UTC, datetime

# RFC 3339 section 5.6 date-time; the offset is mandatory ("Z" or +hh:mm).
_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$"
)
STORED_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def parse_rfc3339(value: object) -> datetime:
    """Parse an RFC 3339 date-time with an offset into an aware UTC datetime.

    Raises ``ValueError`` (which pydantic reports with the field's location) for
    anything else: numbers, dates without a time, or times without an offset.
    """
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("must include a UTC offset")
        return value.astimezone(UTC)
    if not isinstance(value, str):
        raise ValueError("must be an RFC 3339 date-time string, e.g. 2025-10-17T09:30:00-04:00")
    if not _RFC3339.match(value):
        raise ValueError(
            "must be an RFC 3339 date-time with an offset, e.g. 2025-10-17T09:30:00-04:00"
        )
    text = value.upper().replace(" ", "T")
    fraction = re.search(r"\.(\d+)", text)
    if fraction and len(fraction.group(1)) > 6:
        # datetime keeps microseconds; extra digits of precision are dropped.
        text = text.replace(fraction.group(0), "." + fraction.group(1)[:6])
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:  # e.g. month 13 or 25:00
        raise ValueError(f"is not a valid date-time: {exc}") from None
    return parsed.astimezone(UTC)


def format_utc(moment: datetime) -> str:
    """The stored and returned form: ``YYYY-MM-DDTHH:MM:SSZ`` in UTC (sub-seconds dropped)."""
    m = moment.astimezone(UTC)
    # Not strftime: glibc's %Y does not zero-pad years before 1000, which breaks sorting.
    return f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}Z"


def utc_now() -> str:
    """The current time in the stored format."""
    return format_utc(datetime.now(UTC))


def parse_stored(stored: str) -> datetime:
    """A stored time (``STORED_FORMAT``) as an aware UTC datetime."""
    return datetime.fromisoformat(stored.replace("Z", "+00:00"))
