"""``sam local start-api``: the API over HTTP on 127.0.0.1, served by the ApiFunction in a
Lambda container that reads the seeded embedded backend."""

import json
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devtools import samlocal
from devtools.backend import free_port
from tests.support.samlocal import TIMINGS, Backend

pytestmark = pytest.mark.samlocal


@pytest.fixture(scope="module")
def api_url(
    sam: samlocal.SamCli,
    built_template: Path,
    backend: Backend,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path_factory.mktemp("start-api") / "sam-local-start-api.log"
    with log.open("w") as output:
        started = time.monotonic()
        process = sam.start_api(
            port,
            template=built_template,
            env_file=backend.env_file,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            try:
                samlocal.wait_for_http(url + "/stories?limit=1", 180, process)
            except Exception as exc:
                pytest.fail(f"sam local start-api: {exc}\n{log.read_text()[-3000:]}", pytrace=False)
            TIMINGS["sam local start-api: start + first request"] = time.monotonic() - started
            yield url
        finally:
            samlocal.stop_process(process, first=signal.SIGTERM)


def get(url: str) -> tuple[int, dict[str, str], Any]:
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            return response.status, dict(response.headers.items()), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers.items()), json.loads(error.read())


def test_start_api_lists_the_seeded_stories(api_url: str) -> None:
    status, headers, body = get(api_url + "/stories")
    assert status == 200, body
    assert headers["Content-Type"] == "application/json"
    assert body["data"]
    published = [story["published_at"] for story in body["data"]]
    assert published == sorted(published, reverse=True)


def test_start_api_serves_a_seeded_story(api_url: str) -> None:
    _, _, listing = get(api_url + "/stories?limit=1")
    slug = listing["data"][0]["slug"]
    started = time.monotonic()
    status, _, body = get(f"{api_url}/stories/{slug}")
    TIMINGS["sam local start-api: warm request"] = time.monotonic() - started
    assert status == 200, body
    assert body["data"]["slug"] == slug


def test_start_api_answers_an_unknown_story_with_404(api_url: str) -> None:
    status, _, body = get(api_url + "/stories/no-such-story")
    assert status == 404
    assert body["status"] == 404
