"""The write path: an S3 event in, validated stories in DynamoDB, a receipt per file out.

Bad content never raises (a retry cannot fix it): it ends up in the receipt. Transient AWS
errors do raise, after every file of the event was tried, so Lambda retries the event;
writes are idempotent, so a retry only finishes what was left.
"""

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from botocore.exceptions import ClientError

from newsroom.core.errors import FileRejected, is_transient
from newsroom.core.timestamps import utc_now
from newsroom.ingest.checker import StoryChecker
from newsroom.ingest.files import file_kind, read_stories
from newsroom.ingest.previews import PreviewLinks
from newsroom.ingest.receipts import Receipt, ReceiptDocument, Visibility
from newsroom.ingest.settings import IngestSettings
from newsroom.ingest.writes import StoryWrites
from newsroom.stories.items import is_public, is_scheduled, story_item
from newsroom.stories.repository import StoryRepository, WriteOutcome


@dataclass(frozen=True, slots=True)
class S3Object:
    bucket: str
    key: str  # decoded


def objects_in_event(event: dict[str, Any]) -> Iterator[S3Object]:
    """The objects an S3 notification names, keys decoded (S3 URL-encodes them, with
    spaces as ``+``). ``s3:TestEvent`` messages and non-S3 records are skipped."""
    for record in event.get("Records", []):
        s3 = record.get("s3")
        if record.get("eventSource") != "aws:s3" or not s3:
            continue
        if not str(record.get("eventName", "")).startswith("ObjectCreated:"):
            continue
        yield S3Object(s3["bucket"]["name"], unquote_plus(s3["object"]["key"]))


class Ingestor:
    """Processes uploaded story files. One per container; thread-safe clients."""

    def __init__(
        self,
        settings: IngestSettings,
        s3: Any,
        repository: StoryRepository,
        metrics: Any = None,
        log: Any = None,
        previews: PreviewLinks | None = None,
    ) -> None:
        self._previews = previews  # None: receipts carry no preview links
        self._settings = settings
        self._s3 = s3
        self._repository = repository
        self._metrics = metrics
        self._log = log
        self._pool = ThreadPoolExecutor(
            max_workers=settings.write_concurrency, thread_name_prefix="ingest"
        )

    def handle_event(self, event: dict[str, Any]) -> dict[str, Any]:
        """Process every object of an S3 event. Raises the first transient error after all
        objects were tried, so Lambda retries the event."""
        files: list[dict[str, Any]] = []
        transient: BaseException | None = None
        for obj in objects_in_event(event):
            if not obj.key.startswith(self._settings.incoming_prefix):
                continue  # the template filters on incoming/ already; be safe with replays
            try:
                receipt = self.ingest_object(obj)
            except Exception as exc:
                if not is_transient(exc):
                    raise
                transient = transient or exc
                continue
            files.append(
                {
                    "key": obj.key,
                    "status": receipt["status"],
                    "counts": receipt["counts"],
                    "error": receipt["error"],
                }
            )
        if transient is not None:
            raise transient
        return {"files": files}

    def ingest_object(self, obj: S3Object) -> ReceiptDocument:
        """Ingest one uploaded file and write its receipt; returns the receipt."""
        receipt = Receipt(bucket=obj.bucket, key=obj.key, processed_at=utc_now())
        try:
            self._ingest_into(receipt, obj)
        except FileRejected as exc:
            receipt.fail(exc.code, exc.message)
        body = receipt.to_dict()
        self._s3.put_object(
            Bucket=obj.bucket,
            Key=self._settings.receipt_key(obj.key),
            # A lone surrogate (a JSON escape such as \udc80 in an uploaded key, echoed in a
            # rejection's loc) cannot be UTF-8: write it back as the same JSON escape.
            Body=json.dumps(body, ensure_ascii=False, indent=1).encode("utf-8", "backslashreplace"),
            ContentType="application/json",
        )
        self._record_metrics(body)
        self._log_processed(body)
        return body

    def _ingest_into(self, receipt: Receipt, obj: S3Object) -> None:
        kind = file_kind(obj.key)
        try:
            response = self._s3.get_object(Bucket=obj.bucket, Key=obj.key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise FileRejected("not_found", "object no longer exists") from None
            raise
        receipt.etag = str(response.get("ETag", "")).strip('"') or None
        receipt.size = int(response.get("ContentLength", 0))
        body = response["Body"]
        try:
            candidates = read_stories(
                kind,
                body,
                max_stories=self._settings.max_stories_per_file,
                max_bytes=self._settings.max_file_bytes,
                size=receipt.size,
            )
            self._store_all(receipt, obj.key, candidates)
        finally:
            body.close()

    def _store_all(self, receipt: Receipt, key: str, candidates: Iterator[Any]) -> None:
        checker = StoryChecker()
        ingested_at = utc_now()
        writes = StoryWrites(
            self._pool,
            self._repository,
            receipt,
            window=self._settings.write_concurrency * 4,
            visibility=lambda item, outcome: self._visibility(item, outcome, ingested_at),
        )
        try:
            for candidate in candidates:
                checked = checker.check(candidate)
                if checked.story is None:
                    receipt.reject(checked.index, checked.line, checked.errors)
                    continue
                writes.submit(
                    checked, story_item(checked.story, source_key=key, ingested_at=ingested_at)
                )
        finally:
            # Wait for what was started even when reading failed, so the receipt is true.
            writes.finish()

    def _visibility(
        self, item: dict[str, Any], outcome: WriteOutcome, now: str
    ) -> tuple[Visibility, str | None]:
        """Who can read the uploaded version of a story now, and for a draft or a story
        scheduled for later the preview link (not for a stale upload: it was not stored)."""
        status: Visibility = (
            "public" if is_public(item, now)
            else "scheduled" if is_scheduled(item, now)
            else item["status"]
        )  # fmt: skip
        wants_preview = status in ("draft", "scheduled") and outcome is not WriteOutcome.STALE
        if not wants_preview or self._previews is None:
            return status, None
        return status, self._previews.url(item["slug"])

    def _log_processed(self, receipt: ReceiptDocument) -> None:
        """One INFO line per processed upload: where it is, what became of it, the counts.
        Never story text (titles, sections) nor a rejection's message, which may quote it."""
        if self._log is None:
            return
        source, error = receipt["source"], receipt["error"]
        self._log.info(
            "upload processed",
            extra={
                "upload": {
                    "bucket": source["bucket"],
                    "key": source["key"],
                    "size": source["size"],
                    "status": receipt["status"],
                    "error_code": None if error is None else error["code"],
                    "counts": receipt["counts"],
                }
            },
        )

    def _record_metrics(self, receipt: ReceiptDocument) -> None:
        if self._metrics is None:
            return
        from aws_lambda_powertools.metrics import MetricUnit

        for name, value in receipt["counts"].items():
            if value:
                self._metrics.add_metric(name=f"stories_{name}", unit=MetricUnit.Count, value=value)
        if receipt["status"] == "failed":
            self._metrics.add_metric(name="files_failed", unit=MetricUnit.Count, value=1)
