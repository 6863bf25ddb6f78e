"""``newsroom-validate`` (``devtools.cli.validate``) on real files: the sample stories are
valid; rejected stories are reported with their file, line (in ``.jsonl`` files), index, slug
and location, and whole files with their error code, as text (``--quiet``: no summary) or as a
JSON report, with a non-zero exit; folders are searched recursively; the limits are those the
template deploys the ingest function with; odd text prints as escapes; a missing path is a
usage error."""

import json
from pathlib import Path

import pytest

from devtools.cli import validate
from tests.support.story_files import SAMPLES, story, write_json, write_jsonl


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
