"""Receipts: what happened to every story of an uploaded file, written beside it in S3
under ``receipts/<key below incoming/>.json`` (``IngestSettings.receipt_key``)."""

from dataclasses import dataclass, field
from typing import Any, Literal, NotRequired, TypedDict

from newsroom.stories.repository import WriteOutcome

ReceiptStatus = Literal["ok", "partial", "failed"]


class ReceiptSource(TypedDict):
    """The uploaded object a receipt is about."""

    bucket: str
    key: str
    etag: str | None
    size: int | None


class FileError(TypedDict):
    """Why a whole file (or the rest of it) could not be read."""

    code: str
    msg: str


Visibility = Literal["public", "scheduled", "draft", "retracted"]


class StoredEntry(TypedDict):
    """A story of the file that was written (``result``: a ``WriteOutcome`` value;
    ``status``: who can read the uploaded version now, ``scheduled`` until its
    ``published_at``)."""

    index: int
    slug: str
    result: str
    status: Visibility
    preview_url: NotRequired[str]  # drafts and scheduled stories (newsroom.ingest.previews)
    line: NotRequired[int]  # JSON Lines only


class RejectedEntry(TypedDict):
    """A story of the file that failed validation."""

    index: int
    errors: list[dict[str, Any]]
    line: NotRequired[int]


class ReceiptDocument(TypedDict):
    """The receipt as written to S3 (and returned by ``Ingestor.ingest_object``)."""

    source: ReceiptSource
    processed_at: str
    status: ReceiptStatus
    counts: dict[str, int]  # every WriteOutcome value, and "rejected"
    error: FileError | None
    stories: list[StoredEntry]
    rejected: list[RejectedEntry]


@dataclass(slots=True)
class Receipt:
    """The receipt of one processed file."""

    bucket: str
    key: str
    processed_at: str
    etag: str | None = None
    size: int | None = None
    stories: list[StoredEntry] = field(default_factory=list)
    rejected: list[RejectedEntry] = field(default_factory=list)
    error: FileError | None = None

    def accept(
        self,
        index: int,
        line: int | None,
        slug: str,
        outcome: WriteOutcome,
        status: Visibility,
        preview_url: str | None = None,
    ) -> None:
        entry: StoredEntry = {
            "index": index, "slug": slug, "result": outcome.value, "status": status
        }  # fmt: skip
        if preview_url is not None:
            entry["preview_url"] = preview_url
        if line is not None:
            entry["line"] = line
        self.stories.append(entry)

    def reject(self, index: int, line: int | None, errors: list[dict[str, Any]]) -> None:
        entry: RejectedEntry = {"index": index, "errors": errors}
        if line is not None:
            entry["line"] = line
        self.rejected.append(entry)

    def fail(self, code: str, message: str) -> None:
        self.error = {"code": code, "msg": message}

    def counts(self) -> dict[str, int]:
        counts = {outcome.value: 0 for outcome in WriteOutcome}
        for entry in self.stories:
            counts[entry["result"]] += 1
        counts["rejected"] = len(self.rejected)
        return counts

    @property
    def status(self) -> ReceiptStatus:
        """``ok``: every story stored; ``partial``: some rejected or a file-level error after
        some stories; ``failed``: nothing could be read."""
        if self.error and not self.stories:
            return "failed"
        return "partial" if self.error or self.rejected else "ok"

    def to_dict(self) -> ReceiptDocument:
        self.stories.sort(key=lambda e: e["index"])
        self.rejected.sort(key=lambda e: e["index"])
        return {
            "source": {
                "bucket": self.bucket,
                "key": self.key,
                "etag": self.etag,
                "size": self.size,
            },
            "processed_at": self.processed_at,
            "status": self.status,
            "counts": self.counts(),
            "error": self.error,
            "stories": self.stories,
            "rejected": self.rejected,
        }
