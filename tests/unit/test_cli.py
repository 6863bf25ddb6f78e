"""The editors' command-line tools, on real files: ``newsroom-validate`` and, against moto,
``newsroom-upload`` (the receipts are written by the tests, standing in for the ingest
function)."""

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
from devtools.template import ROOT
from newsroom.core.timestamps import utc_now
from newsroom.ingest.receipts import Receipt
from newsroom.stories.repository import WriteOutcome

SAMPLES = ROOT / "samples" / "stories"
BUCKET = "signal-noise-cli-test"
REGION = "us-east-1"
SETTINGS = validate.ingest_settings()  # as the template deploys the ingest function


def story(slug: str, **fields: Any) -> dict[str, Any]:
    return {
        "slug": slug,
        "title": f"Story {slug}",
        "summary": "A summary.",
        "published_at": "2025-10-17T09:30:00Z",
        **fields,
    }


def write_jsonl(path: Path, *lines: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def write_json(path: Path, document: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


# --- newsroom-validate ----------------------------------------------------------------


def test_validate_samples_folder_is_valid(capsys: pytest.CaptureFixture[str]) -> None:
    assert validate.main([str(SAMPLES)]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    files = len([p for p in SAMPLES.iterdir() if p.suffix in (".json", ".jsonl", ".ndjson")])
    assert out == [out[-1]]  # nothing but the summary
    assert out[-1].startswith(f"{files} files, ")
    assert out[-1].endswith(" stories valid, 0 rejected")


def test_validate_reports_jsonl_errors_with_line_story_and_loc(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_jsonl(
        tmp_path / "batch.jsonl",
        json.dumps(story("fine")),
        "",  # blank lines are skipped but still counted
        json.dumps(story("broken", sections=[{"heading": "", "body": "text"}])),
        "{not json",
        json.dumps(story("fine")),
    )

    assert validate.main([str(path)]) == 1

    out = capsys.readouterr().out.splitlines()
    assert f"{path}:3: story 1 (broken): sections.0.heading: " in out[0]
    assert "at least 1 character" in out[0]
    assert out[1].startswith(f"{path}:4: story 2 (-): not valid JSON")
    assert out[2] == (
        f"{path}:5: story 3 (fine): slug: slug 'fine' is already used by the story at "
        "index 0 of this file"
    )
    assert out[-1] == "1 files, 1 stories valid, 3 rejected"


def test_validate_json_batch_has_no_line_numbers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = story("late", published_at="2025-10-17")
    path = write_json(tmp_path / "batch.json", {"stories": [story("ok"), bad]})

    assert validate.main(["--quiet", str(path)]) == 1

    out = capsys.readouterr().out.splitlines()
    assert len(out) == 1  # --quiet: no summary
    assert out[0].startswith(f"{path}: story 1 (late): published_at: must be an RFC 3339")


def test_validate_file_level_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty.json").write_bytes(b"")
    (tmp_path / "list.json").write_text("[]")

    assert validate.main([str(tmp_path)]) == 1

    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"{tmp_path / 'empty.json'}: error empty: file is empty"
    assert out[1].startswith(f"{tmp_path / 'list.json'}: error wrong_shape: ")
    assert out[2] == "2 files, 0 stories valid, 0 rejected, 2 files rejected as a whole"


def test_validate_searches_folders_recursively(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_json(tmp_path / "a.json", story("a"))
    write_jsonl(tmp_path / "deep" / "er" / "b.ndjson", json.dumps(story("b")))
    (tmp_path / "notes.txt").write_text("not a story file")
    write_json(tmp_path / ".hidden" / "c.json", {"nope": True})

    assert validate.main([str(tmp_path)]) == 0
    assert capsys.readouterr().out.strip() == "2 files, 2 stories valid, 0 rejected"


def test_validate_uses_the_deployed_limits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = validate.ingest_settings()
    monkeypatch.setattr(
        validate,
        "ingest_settings",
        lambda: type(settings)(table_name="-", max_stories_per_file=2),
    )
    path = write_jsonl(tmp_path / "long.jsonl", *(json.dumps(story(f"s{i}")) for i in range(3)))

    assert validate.main([str(path)]) == 1
    out = capsys.readouterr().out
    assert f"{path}: error too_many_stories: " in out
    assert settings.max_file_bytes == 50 * 1024 * 1024
    assert settings.max_stories_per_file == 10_000


def test_validate_prints_lone_surrogates_as_escapes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # "\udc80" is valid JSON but no UTF-8 can carry it: printing must not crash.
    path = tmp_path / "odd.jsonl"
    path.write_text(json.dumps(story("x")).replace('"x"', '"\\udc80"') + "\n")

    assert validate.main([str(path)]) == 1
    assert f"{path}:1: story 0 (\\udc80): slug: " in capsys.readouterr().out
    assert validate.main(["--json", str(path)]) == 1
    assert json.loads(capsys.readouterr().out)["files"][0]["rejected"][0]["slug"] == "\udc80"


def test_validate_missing_path_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        validate.main([str(SAMPLES), str(tmp_path / "missing.json")])
    assert exit_.value.code == 2
    assert "missing.json: no such file or folder" in capsys.readouterr().err


def test_validate_json_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_json(tmp_path / "good.json", story("good"))
    write_jsonl(tmp_path / "bad.jsonl", json.dumps(story("bad", topics=["Not A Slug"])))

    assert validate.main(["--json", str(tmp_path)]) == 1

    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False
    assert report["counts"] == {"files": 2, "valid": 1, "rejected": 1, "files_rejected": 0}
    bad = next(f for f in report["files"] if f["path"].endswith("bad.jsonl"))
    assert bad["rejected"][0]["line"] == 1
    assert bad["rejected"][0]["slug"] == "bad"
    assert bad["rejected"][0]["errors"][0]["loc"] == ["topics", 0]


# --- newsroom-upload ------------------------------------------------------------------


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
        receipt.accept(0, None, "one", WriteOutcome.CREATED)
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
        receipt.accept(0, 1, "a", WriteOutcome.UPDATED)
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
    old.accept(0, None, "one", WriteOutcome.CREATED)
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
    later = now + timedelta(seconds=1)
    assert upload.fetch_receipt(s3, BUCKET, Upload(file, "k", etag, later, key)) is None
    other = Upload(file, "k", "f" * 32, now, key)
    assert upload.fetch_receipt(s3, BUCKET, other) is None
