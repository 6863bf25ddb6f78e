"""A real shared HTTP cache in front of the local stack: nginx's ``proxy_cache`` configured
like the CloudFront distribution of ``template.yaml`` (ApiDistribution), from the same
settings, so the cache rules can be proven locally.

- Cache key: method, path, exactly the query parameters the API reads
  (``CACHE_KEY_QUERY_PARAMETERS``) and the headers that change an answer
  (``CACHE_KEY_HEADERS``). Only those reach the origin on cached routes: any other query
  parameter or header is dropped, as with a CloudFront cache policy and no origin request
  policy.
- Freshness: the origin's own ``Cache-Control`` (no ``proxy_cache_valid``): ``s-maxage``,
  ``stale-while-revalidate`` and ``stale-if-error`` (nginx honours the two extensions since
  1.11.10, ngx_http_proxy_module docs, ``proxy_cache_valid``); conditional revalidation with
  the cached ETag; concurrent misses collapsed into one origin request (``proxy_cache_lock``).
- The distribution's uncached behaviours (``/subscriptions*``) pass every query parameter,
  header and body through and are never cached.

``python -m devtools.cdn`` (``make dev-cdn``) runs the stack behind it.
"""

import argparse
import contextlib
import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from devtools.backend import free_port
from devtools.template import resource
from newsroom.http.caching import CACHE_KEY_HEADERS, Freshness
from newsroom.read_api.operations import CACHE_KEY_QUERY_PARAMETERS

# CloudFront's managed cache policy "CachingDisabled" (CloudFront developer guide, "Use
# managed cache policies"): the behaviours that use it are pass-through locations here.
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
# What nginx compresses (text only, as CloudFront's "Compress objects automatically").
GZIP_TYPES = (
    "application/json",
    "application/problem+json",
    "application/feed+json",
    "application/rss+xml",
    "application/xml",
    "text/css",
    "text/javascript",
    "image/svg+xml",
)  # text/html is always compressed by nginx's gzip module
_NAME = re.compile(r"[A-Za-z0-9_-]+")
STARTUP_SECONDS = 10.0


def uncached_prefixes() -> tuple[str, ...]:
    """Path prefixes of the distribution's cache behaviours that cache nothing (template.yaml
    ApiDistribution CacheBehaviors with the CachingDisabled policy), e.g. ``/subscriptions``."""
    config = resource("ApiDistribution")["DistributionConfig"]
    prefixes = []
    for behaviour in config.get("CacheBehaviors", []):
        pattern = str(behaviour["PathPattern"])
        if behaviour.get("CachePolicyId") != CACHING_DISABLED:
            raise ValueError(f"cache behaviour {pattern}: only CachingDisabled is mirrored")
        # CloudFront's * matches any characters (developer guide, "Path pattern"); a trailing
        # one is an nginx prefix location, anything else would need a regex location.
        if not pattern.endswith("*") or "*" in pattern[:-1] or "?" in pattern:
            raise ValueError(f"cache behaviour {pattern}: only 'prefix*' patterns are mirrored")
        prefixes.append(pattern[:-1])
    return tuple(prefixes)


def _header_variable(name: str) -> str:
    """The name of nginx's variable for a request header (``Origin`` -> ``http_origin``)."""
    return "http_" + name.lower().replace("-", "_")


def _checked(names: tuple[str, ...]) -> tuple[str, ...]:
    for name in names:
        if not _NAME.fullmatch(name):  # they go into regexes and variable names unescaped
            raise ValueError(f"{name!r} cannot be a cache key name")
    return names


def render_config(
    directory: Path,
    origin: str,
    port: int,
    *,
    query_parameters: tuple[str, ...] = CACHE_KEY_QUERY_PARAMETERS,
    headers: tuple[str, ...] = CACHE_KEY_HEADERS,
) -> str:
    """nginx's configuration for a cache on ``127.0.0.1:port`` in front of ``origin``
    (``http://host:port``), every path it writes under ``directory``."""
    parameters = _checked(tuple(sorted(query_parameters)))
    key_headers = _checked(headers)
    stale_if_error = Freshness().stale_if_error
    d = directory
    # The query the API gets and the key uses: the key parameters in a fixed order, each as
    # sent (still percent-encoded); a repeated one is passed twice (the API answers 400 "at
    # most once", as without the cache), and names are case-sensitive like CloudFront's.
    query_lines = []
    for name in parameters:
        one = f"{name}(?:=[^&]*)?"
        query_lines.append(
            f'        if ($args ~ "(?:^|&)({one})(?:&|$)") {{ set $cdn_query "$cdn_query&$1"; }}'
        )
        query_lines.append(
            f'        if ($args ~ "(?:^|&){one}&(?:.*&)?({one})(?:&|$)") '
            '{ set $cdn_query "$cdn_query&$1"; }'
        )
    key = "$request_method $uri?$cdn_query" + "".join(
        f" {h.lower()}=${{{_header_variable(h)}}}" for h in key_headers
    )
    forwarded = "\n".join(
        f"            proxy_set_header {h} ${_header_variable(h)};" for h in key_headers
    )
    origin_host = _host_port(origin)
    # As root, nginx would run its workers as "nobody", who cannot write to our directory.
    user = f"user {pwd.getpwuid(os.geteuid()).pw_name};\n" if os.geteuid() == 0 else ""
    passthrough_locations = "".join(
        f"""
        location {prefix} {{
            # A behaviour with CachingDisabled: everything the client sent goes to the API.
            proxy_cache off;
            proxy_pass http://origin;
            proxy_set_header Host {origin_host};
        }}
"""
        for prefix in uncached_prefixes()
    )
    return f"""# Rendered by devtools/cdn.py: a local stand-in for template.yaml's ApiDistribution.
{user}worker_processes 1;
daemon off;
pid {d}/nginx.pid;
lock_file {d}/nginx.lock;
error_log {d}/error.log notice;

events {{
    worker_connections 1024;
}}

http {{
    log_format cdn '$request_method $request_uri -> $uri?$cdn_query '
                   '$status $upstream_cache_status $upstream_status';
    access_log {d}/access.log cdn;
    client_body_temp_path {d}/client_body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    server_tokens off;

    # inactive: an entry unused for this long is evicted, however fresh; the origin's
    # stale-if-error needs the entry to still be there.
    proxy_cache_path {d}/cache levels=1:2 keys_zone=api:10m max_size=256m
                     inactive={stale_if_error}s use_temp_path=off;

    # Like CloudFront's automatic compression: text types, from 1,000 bytes on (CloudFront
    # developer guide, "Serve compressed files").
    gzip on;
    gzip_types {" ".join(GZIP_TYPES)};
    gzip_min_length 1000;
    gzip_vary on;

    # No keepalive: one connection per origin request, so that a stopped origin is seen as
    # down at once (the local API Gateway would keep serving an open connection).
    upstream origin {{
        server {origin_host};
    }}

    server {{
        listen 127.0.0.1:{port};

        set $cdn_query "";
{chr(10).join(query_lines)}
        if ($cdn_query ~ "^&(.*)$") {{ set $cdn_query $1; }}

        location / {{
            proxy_cache api;
            proxy_cache_key "{key}";
            # No proxy_cache_valid: the origin's Cache-Control alone decides (an answer
            # without one, or with no-store, is not cached).
            proxy_cache_revalidate on;
            proxy_cache_lock on;
            proxy_cache_background_update on;
            # Stale copies only within the origin's own stale-while-revalidate and
            # stale-if-error windows. "updating" here would serve a copy of any age while it
            # is refetched, which breaks the freshness bound (newsroom.http.caching); "error"
            # and "http_5xx" would ignore stale-if-error's limit.
            proxy_cache_use_stale off;

            # Only the cache key reaches the origin (Host is the origin's own, as CloudFront
            # sends the origin domain). nginx itself adds If-None-Match when revalidating.
            set $args $cdn_query;
            proxy_pass_request_headers off;
            proxy_set_header Host {origin_host};
{forwarded}
            proxy_pass http://origin;
            add_header X-Cache-Status $upstream_cache_status always;
        }}
{passthrough_locations}    }}
}}
"""


def _host_port(origin: str) -> str:
    found = re.fullmatch(r"http://([^/:]+:[0-9]+)/?", origin)
    if found is None:
        raise ValueError(f"origin must be http://host:port, not {origin!r}")
    return found.group(1)


def nginx_binary() -> str | None:
    """The nginx executable (scripts/install-nginx.sh installs Debian's package)."""
    found = shutil.which("nginx")
    if found:
        return found
    return "/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None


@dataclass
class Cdn:
    """A running nginx cache: its URL and the directory holding its config, cache and logs."""

    url: str
    directory: Path
    process: subprocess.Popen[bytes]

    @property
    def error_log(self) -> str:
        """What nginx said before reading its config (stderr), then its error log."""
        paths = (self.directory / "stderr.log", self.directory / "error.log")
        return "".join(p.read_text() for p in paths if p.exists())

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # SIGTERM: nginx's fast shutdown
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _pid_in(path: Path) -> int | None:
    with contextlib.suppress(OSError, ValueError):
        return int(path.read_text())
    return None


def _listening(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
        return True
    return False


def start_cdn(origin: str, *, port: int = 0, directory: Path | None = None) -> Cdn:
    """Start nginx on ``127.0.0.1:port`` (a free port when 0) in front of ``origin``; returns
    once it accepts connections."""
    binary = nginx_binary()
    if binary is None:
        raise FileNotFoundError("nginx not found: run scripts/install-nginx.sh (make nginx)")
    made = directory is None
    directory = directory or Path(tempfile.mkdtemp(prefix="cdn-"))
    port = port or free_port()
    conf = directory / "nginx.conf"
    conf.write_text(render_config(directory, origin, port))
    with (directory / "stderr.log").open("wb") as stderr:
        process = subprocess.Popen(  # noqa: S603 - our binary, our config
            [binary, "-p", f"{directory}/", "-c", str(conf)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    cdn = Cdn(f"http://127.0.0.1:{port}", directory, process)
    deadline = time.monotonic() + STARTUP_SECONDS
    # nginx writes its pid file once its sockets are bound: a port answering before that may
    # be another process's (nginx retries a taken port for 2 s before giving up).
    pid_file = directory / "nginx.pid"
    while not (_pid_in(pid_file) == process.pid and _listening(port)):
        if process.poll() is not None or time.monotonic() > deadline:
            cdn.stop()
            said = cdn.error_log
            if made:
                shutil.rmtree(directory, ignore_errors=True)
            raise RuntimeError(f"nginx did not start:\n{said}")
        time.sleep(0.02)
    return cdn


@contextlib.contextmanager
def running_cdn(origin: str, *, port: int = 0) -> Iterator[Cdn]:
    """``start_cdn`` in a temporary directory, stopped and removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="cdn-") as directory:
        cdn = start_cdn(origin, port=port, directory=Path(directory))
        try:
            yield cdn
        finally:
            cdn.stop()


def stack_env(cdn_url: str, cache_seconds: int | None = None) -> dict[str, str]:
    """The API function's environment behind the cache: links on the cache's URL (the public
    base URL, as the distribution's), and optionally a shorter ``CACHE_SECONDS``."""
    env = {
        "PUBLIC_API_URL": cdn_url,
        "SITE_URL": cdn_url + "/",
        "STORY_URL_TEMPLATE": cdn_url + "/#/stories/{slug}",
    }
    if cache_seconds is not None:
        env["CACHE_SECONDS"] = str(cache_seconds)
    return env


def main(argv: list[str] | None = None) -> int:
    """``make dev-cdn``: the local stack with the sample stories, behind the nginx cache."""
    from devtools.dev import port_option, quiet_logs, until_stopped
    from devtools.stack import start_stack

    parser = argparse.ArgumentParser(prog="make dev-cdn", description=main.__doc__)
    port_option(
        parser,
        "--port",
        "CDN_PORT",
        8080,
        "the cache's port on 127.0.0.1 (default 8080, or $CDN_PORT; 0: any free port)",
    )
    port_option(
        parser,
        "--origin-port",
        "PORT",
        3000,
        "the local API Gateway's port (default 3000, or $PORT; 0: any free port)",
    )
    parser.add_argument(
        "--cache-seconds", type=int, help="the API's CACHE_SECONDS (default: the template's)"
    )
    parser.add_argument("--no-seed", action="store_true", help="start without sample stories")
    args = parser.parse_args(argv)
    quiet_logs()
    port = args.port or free_port()
    cdn_url = f"http://127.0.0.1:{port}"
    stack = start_stack(port=args.origin_port, api_env=stack_env(cdn_url, args.cache_seconds))
    with until_stopped(stack) as stopping:
        if not args.no_seed:
            stack.seed()
        with running_cdn(stack.api_url, port=port) as cdn:
            stack.write_state()
            print(f"origin (the local API Gateway): {stack.api_url}")
            print(f"through the cache: {cdn.url}/   API: {cdn.url}/stories")
            print(f"nginx config, cache and logs: {cdn.directory}")
            print("responses say X-Cache-Status: MISS, HIT, STALE, REVALIDATED... Ctrl-C to stop.")
            sys.stdout.flush()
            stopping.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
