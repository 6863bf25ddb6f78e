"""``newsroom-upload`` (``devtools.cli.upload``) on real files, against moto S3: files and
folders go up below the prefix with their relative paths and content types; invalid files go
up only with ``--force`` (or unchecked with ``--no-validate``); usage errors and S3 refusals
stop it; and the receipt of each upload (written by the tests, standing in for the ingest
function) is reported as ok, partial or failed, while a receipt of an earlier upload is not
taken for it."""

import json
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from devtools.cli import upload, validate
from devtools.cli.upload import Upload
from devtools.cli.validate import StoryFile
from newsroom.core.timestamps import utc_now
from newsroom.ingest.receipts import Receipt
from newsroom.stories.repository import WriteOutcome
from tests.support.story_files import SAMPLES, story, write_json, write_jsonl

BUCKET = "signal-noise-cli-test"
REGION = "us-east-1"
SETTINGS = validate.ingest_settings()  # as the template deploys the ingest function


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A moto S3 with the bucket; the CLI's own client (created in main) is intercepted."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        client = boto3.client("s3", region_name=REGION)
        client.create_bucket(Bucket=BUCKET)
        yield client


def keys(s3: Any, prefix: str = "") -> dict[str, str]:
    """Key -> ContentType of every object under ``prefix``."""
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])
    return {o["Key"]: s3.head_object(Bucket=BUCKET, Key=o["Key"])["ContentType"] for o in listed}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "batch"
    write_json(root / "one.json", story("one"))
    write_jsonl(root / "archive" / "2025" / "two.jsonl", json.dumps(story("two")))
    return root


def test_upload_folder_keeps_relative_paths(s3: Any, folder: Path) -> None:
    assert upload.main([str(folder), "--bucket", BUCKET, "--wait", "0"]) == 0

    assert keys(s3) == {
        "incoming/one.json": "application/json",
        "incoming/archive/2025/two.jsonl": "application/x-ndjson",
    }
    body = s3.get_object(Bucket=BUCKET, Key="incoming/one.json")["Body"].read()
    assert body == (folder / "one.json").read_bytes()


def test_upload_samples_with_a_prefix(s3: Any, tmp_path: Path) -> None:
    shutil.copytree(SAMPLES, tmp_path / "samples")
    assert (
        upload.main(
            [
                str(tmp_path / "samples"),
                "--bucket",
                BUCKET,
                "--prefix",
                "incoming/2025",
                "--wait",
                "0",
            ]
        )
        == 0
    )
    expected = {f"incoming/2025/{p.name}" for p in SAMPLES.iterdir()}
    assert set(keys(s3)) == expected


def test_upload_refuses_invalid_files_unless_forced(
    s3: Any, folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = write_jsonl(folder / "bad.jsonl", json.dumps(story("bad", status="pending")))

    assert upload.main([str(folder), "--bucket", BUCKET, "--wait", "0", "--quiet"]) == 1
    out = capsys.readouterr().out
    assert f"{bad}:1: story 0 (bad): status: " in out
    assert f"{bad}: not uploaded: fails validation" in out
    assert "incoming/bad.jsonl" not in keys(s3)
    assert "incoming/one.json" in keys(s3)  # the valid files still go up

    assert upload.main([str(bad), "--bucket", BUCKET, "--wait", "0", "--force"]) == 0
    assert "incoming/bad.jsonl" in keys(s3)


def test_upload_no_validate_uploads_as_is(s3: Any, tmp_path: Path) -> None:
    bad = write_json(tmp_path / "bad.json", {"title": 3})
    assert upload.main([str(bad), "--bucket", BUCKET, "--wait", "0", "--no-validate"]) == 0
    assert keys(s3) == {"incoming/bad.json": "application/json"}


def test_upload_usage_errors(s3: Any, tmp_path: Path, folder: Path) -> None:
    for argv in (
        [str(tmp_path / "missing"), "--bucket", BUCKET],
        [str(folder / "one.json"), "--bucket", BUCKET, "--wait", "-1"],
        [str(folder / "one.json"), str(folder / "one.json"), "--bucket", BUCKET],  # same key
        [str(folder / "one.json")],  # no --bucket
    ):
        with pytest.raises(SystemExit) as exit_:
            upload.main(argv)
        assert exit_.value.code == 2
    assert keys(s3) == {}


def test_upload_stops_when_s3_refuses(
    s3: Any, folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [str(folder), "--bucket", "no-such-bucket-here", "--wait", "0"]
    assert upload.main(argv) == 1
    err = capsys.readouterr().err
    assert f"{folder / 'archive' / '2025' / 'two.jsonl'}: upload failed: " in err
    assert "NoSuchBucket" in err


def fake_ingest(
    source_key: str, build: Callable[[str, int], Receipt], *, after: float = 0.0
) -> Callable[[], None]:
    """Stand in for the ingest function: once ``source_key`` exists, write the receipt that
    ``build(etag, size)`` returns. Returns a function that joins the thread (re-raising)."""
    client = boto3.client("s3", region_name=REGION)
    failure: list[BaseException] = []

    def run() -> None:
        try:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                listed = client.list_objects_v2(Bucket=BUCKET, Prefix=source_key)
                if listed.get("KeyCount"):
                    break
                time.sleep(0.02)
            head = client.head_object(Bucket=BUCKET, Key=source_key)
            time.sleep(after)
            receipt = build(head["ETag"].strip('"'), head["ContentLength"])
            client.put_object(
                Bucket=BUCKET,
                Key=SETTINGS.receipt_key(source_key),
                Body=json.dumps(receipt.to_dict()).encode(),
                ContentType="application/json",
            )
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()

    def join() -> None:
        thread.join(15)
        if failure:
            raise failure[0]

    return join


def receipt_for(key: str, etag: str | None, size: int | None) -> Receipt:
    return Receipt(bucket=BUCKET, key=key, processed_at=utc_now(), etag=etag, size=size)


def test_upload_reports_an_ok_receipt(
    s3: Any, folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def ok(etag: str, size: int) -> Receipt:
        receipt = receipt_for("incoming/one.json", etag, size)
        receipt.accept(0, None, "one", WriteOutcome.CREATED, "public")
        return receipt

    join = fake_ingest("incoming/one.json", ok)
    assert upload.main([str(folder / "one.json"), "--bucket", BUCKET, "--wait", "5"]) == 0
    join()

    out = capsys.readouterr().out
    assert f"{folder / 'one.json'}: ok (created 1, updated 0, unchanged 0, stale 0, " in out


def test_upload_reports_a_partial_receipt(
    s3: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_jsonl(tmp_path / "two.jsonl", json.dumps(story("a")), json.dumps(story("b")))

    def partial(etag: str, size: int) -> Receipt:
        receipt = receipt_for("incoming/two.jsonl", etag, size)
        receipt.accept(0, 1, "a", WriteOutcome.UPDATED, "public")
        receipt.reject(1, 2, [{"loc": ["sections", 0, "heading"], "msg": "too long"}])
        return receipt

    join = fake_ingest("incoming/two.jsonl", partial, after=0.3)
    assert upload.main([str(path), "--bucket", BUCKET, "--wait", "5", "--quiet"]) == 1
    join()

    out = capsys.readouterr().out.splitlines()
    assert out == [
        f"{path}: partial (created 0, updated 1, unchanged 0, stale 0, rejected 1)",
        f"{path}:2: story 1 (-): sections.0.heading: too long",
    ]


def test_upload_reports_a_failed_receipt(
    s3: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_json(tmp_path / "big.json", story("big"))

    def failed(etag: str, size: int) -> Receipt:
        receipt = receipt_for("incoming/big.json", etag, size)
        receipt.fail("too_large", "file is 9 bytes; at most 8")
        return receipt

    join = fake_ingest("incoming/big.json", failed)
    assert upload.main([str(path), "--bucket", BUCKET, "--wait", "5"]) == 1
    join()
    assert f"{path}: error too_large: file is 9 bytes; at most 8" in capsys.readouterr().out


def test_upload_ignores_a_receipt_of_an_earlier_upload(
    s3: Any, folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = receipt_for("incoming/one.json", "0" * 32, 10)
    old.accept(0, None, "one", WriteOutcome.CREATED, "public")
    s3.put_object(
        Bucket=BUCKET,
        Key=SETTINGS.receipt_key("incoming/one.json"),
        Body=json.dumps(old.to_dict()).encode(),
    )

    assert upload.main([str(folder / "one.json"), "--bucket", BUCKET, "--wait", "0.6"]) == 1

    out = capsys.readouterr().out
    assert (
        f"{folder / 'one.json'}: no receipt after 0.6 s "
        f"(expected s3://{BUCKET}/{SETTINGS.receipt_key('incoming/one.json')})"
    ) in out


def test_a_receipt_older_than_the_upload_is_not_its_receipt(s3: Any, folder: Path) -> None:
    s3.put_object(Bucket=BUCKET, Key="incoming/one.json", Body=b"{}")
    head = s3.head_object(Bucket=BUCKET, Key="incoming/one.json")
    etag = head["ETag"].strip('"')
    receipt = receipt_for("incoming/one.json", etag, 2)
    key = SETTINGS.receipt_key("incoming/one.json")
    s3.put_object(Bucket=BUCKET, Key=key, Body=json.dumps(receipt.to_dict()).encode())
    file = StoryFile(folder / "one.json", "one.json")
    now = head["LastModified"]

    assert upload.fetch_receipt(s3, BUCKET, Upload(file, "k", etag, now, key)) is not None
    # An upload after the receipt was written (S3 times are whole seconds: the receipt's own,
    # not the story's, which may be a second earlier).
    later = s3.head_object(Bucket=BUCKET, Key=key)["LastModified"] + timedelta(seconds=1)
    assert upload.fetch_receipt(s3, BUCKET, Upload(file, "k", etag, later, key)) is None
    other = Upload(file, "k", "f" * 32, now, key)
    assert upload.fetch_receipt(s3, BUCKET, other) is None
