"""``newsroom-upload``: validate story files, upload them to ``incoming/`` and report what
the ingest function made of each one (its receipt under ``receipts/``).

The S3 endpoint is ``--endpoint-url`` or ``AWS_ENDPOINT_URL``, so the same command works
against AWS and against a local moto server.
"""

import argparse
import json
import os
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from tqdm import tqdm

from devtools.cli.validate import (
    StoryFile,
    UsageError,
    collect,
    file_error,
    ingest_settings,
    robust_output,
    story_error,
    validate_file,
)
from newsroom.core.errors import FileRejected
from newsroom.ingest.files import file_kind
from newsroom.ingest.settings import IngestSettings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

CONTENT_TYPES = {"json": "application/json", "jsonl": "application/x-ndjson"}
PROGRESS_MIN_FILES = 5  # fewer files get no progress bar
MAX_POLL_DELAY = 2.0


class UploadFailed(Exception):
    """S3 refused a file (no such bucket, access denied, ...): the run stops."""


@dataclass(frozen=True, slots=True)
class Upload:
    """A file that landed in the bucket, and where its receipt will appear."""

    file: StoryFile
    key: str
    etag: str
    last_modified: datetime
    receipt_key: str | None  # None when the key is outside the ingest function's prefix


def _emit(line: str) -> None:
    tqdm.write(line, file=sys.stdout)  # keeps a running progress bar intact


def content_type(file: StoryFile) -> str:
    try:
        return CONTENT_TYPES[file_kind(file.path.name)]
    except FileRejected:
        return "application/octet-stream"  # only with --no-validate; ingest will reject it


def upload_file(
    s3: "S3Client", file: StoryFile, bucket: str, key: str, settings: IngestSettings
) -> Upload:
    with file.path.open("rb") as body:
        s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type(file))
    # The stored object's own time and ETag: a receipt is ours only if it is not older and
    # names the same ETag (a retried or earlier upload leaves receipts too).
    head = s3.head_object(Bucket=bucket, Key=key)
    expected = settings.receipt_key(key) if key.startswith(settings.incoming_prefix) else None
    return Upload(file, key, head["ETag"].strip('"'), head["LastModified"], expected)


def fetch_receipt(s3: "S3Client", bucket: str, upload: Upload) -> dict[str, Any] | None:
    """The receipt of this upload, or None while there is none (or only an older one)."""
    assert upload.receipt_key is not None
    try:
        response = s3.get_object(Bucket=bucket, Key=upload.receipt_key)
    except ClientError as exc:
        # Without s3:ListBucket, S3 answers 403 for a key that does not exist yet.
        if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "AccessDenied"):
            return None
        raise
    with closing(response["Body"]) as body:
        if response["LastModified"] < upload.last_modified:
            return None
        receipt: dict[str, Any] = json.loads(body.read())
    etag = (receipt.get("source") or {}).get("etag")
    return receipt if etag in (None, upload.etag) else None


def receipts(
    s3: "S3Client", bucket: str, uploads: Sequence[Upload], timeout: float
) -> Iterator[tuple[Upload, dict[str, Any] | None]]:
    """Each upload with its receipt as it arrives; after ``timeout`` seconds, the ones
    still without a receipt with None."""
    pending = list(uploads)
    deadline = time.monotonic() + timeout
    delay = 0.25
    while pending:
        waiting = []
        for upload in pending:
            receipt = fetch_receipt(s3, bucket, upload)
            if receipt is None:
                waiting.append(upload)
            else:
                yield upload, receipt
        pending = waiting
        remaining = deadline - time.monotonic()
        if pending and remaining <= 0:
            break
        if pending:
            time.sleep(min(delay, remaining))
            delay = min(delay * 2, MAX_POLL_DELAY)
    for upload in pending:
        yield upload, None


def receipt_lines(upload: Upload, receipt: dict[str, Any]) -> list[str]:
    """The status line of a receipt, then its file error and each rejection."""
    where = str(upload.file.path)
    counts = ", ".join(f"{name} {count}" for name, count in receipt["counts"].items())
    lines = [f"{where}: {receipt['status']} ({counts})"]
    if receipt.get("error"):
        lines.append(file_error(where, receipt["error"]))
    for entry in receipt.get("rejected", []):
        for error in entry["errors"]:
            lines.append(story_error(where, entry.get("line"), entry["index"], None, error))
    return lines


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newsroom-upload",
        description="Validate story files, upload them to s3://BUCKET/PREFIX<relative path> "
        "and wait for the ingest function's receipt of each.",
        epilog="Exit status: 0 all receipts ok (or all uploaded with --wait 0); 1 a file "
        "failed validation or upload, a receipt is partial/failed or did not arrive; "
        "2 usage error.",
    )
    parser.add_argument(
        "paths", nargs="+", metavar="PATH", help="story file, or folder searched recursively"
    )
    parser.add_argument("--bucket", required=True, help="the content bucket")
    parser.add_argument("--prefix", default="incoming/", help="key prefix (default: %(default)s)")
    parser.add_argument("--endpoint-url", help="S3 endpoint (default: $AWS_ENDPOINT_URL, else AWS)")
    parser.add_argument("--region", help="AWS region (default: the AWS configuration's)")
    parser.add_argument(
        "--wait",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="how long to wait for receipts; 0 does not wait (default: %(default)g)",
    )
    parser.add_argument(
        "--no-validate", action="store_true", help="upload without validating first"
    )
    parser.add_argument(
        "--force", action="store_true", help="upload files even when they fail validation"
    )
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="print only errors; no progress bar"
    )
    return parser


def s3_client(endpoint_url: str | None, region: str | None) -> "S3Client":
    endpoint = endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or None
    return boto3.client("s3", endpoint_url=endpoint, region_name=region)


def _keys(parser: argparse.ArgumentParser, args: argparse.Namespace) -> list[tuple[StoryFile, str]]:
    if args.wait < 0:
        parser.error("--wait must be 0 or more seconds")
    prefix = args.prefix.strip("/") + "/" if args.prefix.strip("/") else ""
    try:
        files = collect(args.paths)
    except UsageError as exc:
        parser.error(str(exc))
    keyed = [(file, prefix + file.relative) for file in files]
    seen: dict[str, StoryFile] = {}
    for file, key in keyed:
        if key in seen:
            parser.error(f"{seen[key].path} and {file.path} would both be uploaded as {key}")
        seen[key] = file
    return keyed


def upload_all(
    s3: "S3Client",
    keyed: Sequence[tuple[StoryFile, str]],
    args: argparse.Namespace,
    settings: IngestSettings,
) -> tuple[list[Upload], bool]:
    """Validate (unless ``--no-validate``) and upload each file; the uploads, and False when
    a file was held back. Raises ``UploadFailed`` at the first file S3 refuses."""
    uploads: list[Upload] = []
    ok = True
    bar = tqdm(
        keyed,
        desc="uploading",
        unit="file",
        file=sys.stderr,
        disable=args.quiet or len(keyed) < PROGRESS_MIN_FILES or not sys.stderr.isatty(),
    )
    with bar:
        for file, key in bar:
            if not args.no_validate:
                report = validate_file(file.path, settings)
                for line in report.lines():
                    _emit(line)
                if not report.ok and not args.force:
                    _emit(f"{file.path}: not uploaded: fails validation (--force uploads it)")
                    ok = False
                    continue
            try:
                uploads.append(upload_file(s3, file, args.bucket, key, settings))
            except (BotoCoreError, ClientError) as exc:
                raise UploadFailed(f"{file.path}: upload failed: {exc}") from exc
            if bar.disable and not args.quiet:
                _emit(f"{file.path} -> s3://{args.bucket}/{key}")
    return uploads, ok


def report_receipts(
    s3: "S3Client", bucket: str, uploads: Sequence[Upload], wait: float, quiet: bool
) -> bool:
    """Print each upload's receipt as it arrives; True when every one is ``ok``."""
    ok = True
    for upload, receipt in receipts(s3, bucket, uploads, wait):
        if receipt is None:
            ok = False
            print(
                f"{upload.file.path}: no receipt after {wait:g} s "
                f"(expected s3://{bucket}/{upload.receipt_key})"
            )
            continue
        lines = receipt_lines(upload, receipt)
        if receipt["status"] != "ok":
            ok = False
            print("\n".join(lines))
        elif not quiet:
            print(lines[0])
    return ok


def main(argv: Sequence[str] | None = None, s3: "S3Client | None" = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    robust_output()
    keyed = _keys(parser, args)
    settings = ingest_settings()
    client = s3 or s3_client(args.endpoint_url, args.region)
    try:
        uploads, ok = upload_all(client, keyed, args, settings)
        if not args.quiet:
            print(f"uploaded {len(uploads)} of {len(keyed)} files to s3://{args.bucket}/")
        expected = [u for u in uploads if u.receipt_key is not None]
        if len(expected) < len(uploads) and not args.quiet:
            print(f"not waiting for receipts of keys outside {settings.incoming_prefix}")
        if args.wait > 0 and expected:
            if not args.quiet:
                print(f"waiting up to {args.wait:g} s for {len(expected)} receipts ...")
            ok = report_receipts(client, args.bucket, expected, args.wait, args.quiet) and ok
    except UploadFailed as exc:
        print(exc, file=sys.stderr)
        return 1
    except (BotoCoreError, ClientError) as exc:
        print(f"reading receipts failed: {exc}", file=sys.stderr)
        return 1
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
