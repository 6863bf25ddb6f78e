"""devtools/cdn.py's nginx configuration: built from the API's own cache key and from the
distribution's behaviours in template.yaml, never from a second list. (What nginx does with
it, in front of the real stack: tests/cdn.)"""

import re
from pathlib import Path

import pytest

from devtools.cdn import CACHING_DISABLED, render_config, uncached_prefixes
from devtools.template import resource
from newsroom.http.caching import CACHE_KEY_HEADERS
from newsroom.read_api.operations import CACHE_KEY_QUERY_PARAMETERS

DIRECTORY = Path("/tmp/cdn-test")
ORIGIN = "http://127.0.0.1:3000"


@pytest.fixture(scope="module")
def config() -> str:
    return render_config(DIRECTORY, ORIGIN, 8080)


def locations(config: str) -> dict[str, str]:
    """Each ``location PATH { ... }`` block's body (they hold no nested blocks)."""
    return dict(re.findall(r"location (\S+) \{(.*?)\n        \}", config, re.DOTALL))


def directives(body: str, name: str) -> list[str]:
    return [value.strip() for value in re.findall(rf"^\s*{name} ([^;]*);", body, re.MULTILINE)]


def test_cache_key_query_parameters_are_the_apis(config: str) -> None:
    # The first of each pair of rules takes the parameter's first occurrence.
    kept = re.findall(r'if \(\$args ~ "\(\?:\^\|&\)\(([A-Za-z0-9_-]+)\(', config)
    cached = locations(config)["/"]

    assert tuple(kept) == tuple(sorted(CACHE_KEY_QUERY_PARAMETERS))
    assert directives(cached, "set") == ["$args $cdn_query"]  # the API gets only those
    assert "$cdn_query" in directives(cached, "proxy_cache_key")[0]


def test_cache_key_headers_are_the_ones_that_change_an_answer(config: str) -> None:
    cached = locations(config)["/"]
    (key,) = directives(cached, "proxy_cache_key")
    forwarded = [line.split()[0] for line in directives(cached, "proxy_set_header")]

    assert re.findall(r"\$\{http_(\w+)\}", key) == [h.lower() for h in CACHE_KEY_HEADERS]
    assert directives(cached, "proxy_pass_request_headers") == ["off"]
    assert forwarded == ["Host", *CACHE_KEY_HEADERS]


def test_the_origins_cache_control_alone_decides(config: str) -> None:
    cached = locations(config)["/"]

    assert directives(cached, "proxy_cache_valid") == []
    assert directives(cached, "proxy_cache_use_stale") == ["off"]
    assert directives(cached, "proxy_cache_revalidate") == ["on"]
    assert directives(cached, "proxy_cache_lock") == ["on"]


def test_uncached_locations_are_the_distributions_caching_disabled_behaviours(
    config: str,
) -> None:
    behaviours = resource("ApiDistribution")["DistributionConfig"]["CacheBehaviors"]
    found = locations(config)

    assert {b["CachePolicyId"] for b in behaviours} == {CACHING_DISABLED}
    assert [b["PathPattern"].removesuffix("*") for b in behaviours] == list(uncached_prefixes())
    assert set(found) == {"/", *uncached_prefixes()}
    for prefix in uncached_prefixes():
        assert directives(found[prefix], "proxy_cache") == ["off"]
        assert directives(found[prefix], "proxy_pass_request_headers") == []  # all of them


def test_listens_on_loopback_only(config: str) -> None:
    assert directives(config, "listen") == ["127.0.0.1:8080"]


def test_everything_it_writes_is_in_its_directory(config: str) -> None:
    # Every directive with a compiled-in default under /var or /run (nginx -V), and the cache.
    writers = ("pid", "lock_file", "error_log", "access_log", "proxy_cache_path")
    temp = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    written = [
        value.split()[0]
        for name in (*writers, *(f"{t}_temp_path" for t in temp))
        for value in directives(config, name)
    ]

    assert len(written) == len(writers) + len(temp)
    assert all(Path(path).is_relative_to(DIRECTORY) for path in written)


def test_names_that_could_change_the_rules_are_refused() -> None:
    with pytest.raises(ValueError, match="cache key name"):
        render_config(DIRECTORY, ORIGIN, 8080, query_parameters=("limit)|(.*",))
    with pytest.raises(ValueError, match="cache key name"):
        render_config(DIRECTORY, ORIGIN, 8080, headers=("Origin; proxy_pass x",))


def test_origin_must_be_a_plain_http_host_and_port() -> None:
    with pytest.raises(ValueError, match="http://host:port"):
        render_config(DIRECTORY, "http://127.0.0.1:3000/v1; evil", 8080)
