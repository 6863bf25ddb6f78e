"""``sam local`` against the embedded backend: the real SAM CLI runs the built functions in
Lambda containers, and they call moto's server on this machine's 127.0.0.1.

    python -m devtools.samlocal build                       # sam build (python3.13 on PATH)
    python -m devtools.samlocal api [--port 3001]           # backend + seed + sam local start-api
    python -m devtools.samlocal invoke ApiFunction events/api-list-stories.json
    python -m devtools.samlocal sam -- validate --lint      # any sam command, same environment
    python -m devtools.samlocal doctor                      # what is there, what is missing

The functions reach the backend through ``--docker-network host``: Lambda containers share the
host's network namespace, so ``AWS_ENDPOINT_URL=http://127.0.0.1:PORT`` (from the ``--env-vars``
file ``.dev/sam-env.json``) is this machine's loopback and no traffic leaves it. Stock SAM CLI
>= 1.87 accepts that flag but keeps Lambda containers on Docker's bridge (aws/aws-sam-cli#4236);
the ``sam`` that ``../shared/tools/sam-local-offline.sh`` installs carries a launcher that
restores host networking, and is preferred when present.

Which ``sam``: ``$SAM_CLI``; else the offline tool's (``/tmp/sam-local-offline/venv/bin/sam``,
or ``$SAM_VENV/bin/sam``); else ``sam`` on ``PATH``; else ``.tools/sam/bin/sam``, installed
there on first use (its own venv: never the app's ``.venv``).

Stock SAM CLI (>= 1.87) with real Docker: ``--docker-network host`` is accepted but ignored, so
these commands refuse to run with it (``doctor`` says so). What works there instead is a named
Docker network shared by the functions and the backend, e.g.::

    docker network create signal-noise
    docker run -d --name aws --network signal-noise -p 127.0.0.1:5000:5000 motoserver/moto
    # create the table and bucket on http://127.0.0.1:5000, upload the samples (make upload)
    echo '{"Parameters": {"AWS_ENDPOINT_URL": "http://aws:5000",
                          "STORIES_TABLE": "signal-noise-stories"}}' > env.json
    sam local start-api --docker-network signal-noise --env-vars env.json

(the functions reach the backend by its container name; nothing leaves the Docker host).
"""

import argparse
import contextlib
import io
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from moto.moto_api._internal.models import moto_api_backend

from devtools.backend import REGION, free_port
from devtools.environment import CALLER_AWS_VARIABLES
from devtools.stack import SAMPLES, STATE_DIR, Stack, start_stack
from devtools.template import ROOT, TEMPLATE_PATH
from newsroom.core import aws

EVENTS_DIR = ROOT / "events"
ENV_FILE = STATE_DIR / "sam-env.json"
BUILD_DIR = ROOT / ".aws-sam" / "build"
BUCKET = "signal-noise-content"  # the bucket events/s3-*.json name
LAMBDA_IMAGE = "public.ecr.aws/lambda/python:3.13-x86_64"
OFFLINE_TOOL = ROOT.parent / "shared" / "tools" / "sam-local-offline.sh"
# The offline tool's defaults (its SAMLOCAL_DIR / SAM_VENV knobs move them).
OFFLINE_DIR = os.environ.get("SAMLOCAL_DIR", "/tmp/sam-local-offline")  # noqa: S108
OFFLINE_SAM = Path(os.environ.get("SAM_VENV", OFFLINE_DIR + "/venv")) / "bin" / "sam"
LOCAL_SAM_VENV = ROOT / ".tools" / "sam"
UV = ROOT / ".tools" / "uv" / "bin" / "uv"
HOSTNET_MARKER = b"samlocal-hostnet"  # the offline tool's launcher
FIRST_BROKEN_HOST_NETWORK = (1, 87)  # aws/aws-sam-cli#4236
# Objects the events/ files name beyond the samples seeded under incoming/samples/.
EXTRA_OBJECTS = {
    "incoming/Weekly batch/São Paulo recent-2025-10-17.json": SAMPLES / "recent-2025-10-17.json",
}
# For every sam command: no telemetry, no registry check of the base image, one attempt for
# SAM's own sts:GetCallerIdentity (no AWS is reachable), dummy credentials (SAM forwards the
# shell's credentials and region into the Lambda containers).
SAM_ENVIRONMENT = {
    "SAM_CLI_TELEMETRY": "0",
    "SAM_SKIP_PULL_IMAGE": "1",
    "AWS_MAX_ATTEMPTS": "1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}
# Never handed to sam: real credentials or endpoints of the caller's shell.
DROPPED_ENVIRONMENT = CALLER_AWS_VARIABLES


class SamLocalError(RuntimeError):
    """Something sam local needs is missing; the message says what to do."""


# -- finding the tools -------------------------------------------------------------------------


def find_sam(*, install: bool = False) -> Path | None:
    """The SAM CLI to use: ``$SAM_CLI``, else the offline tool's launcher, else ``sam`` on
    ``PATH``, else the project-local ``.tools/sam`` (installed there when ``install``)."""
    candidates = [os.environ.get("SAM_CLI", ""), str(OFFLINE_SAM), shutil.which("sam") or ""]
    candidates.append(str(LOCAL_SAM_VENV / "bin" / "sam"))
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK) and Path(candidate).is_file():
            return Path(candidate)
    return install_local_sam() if install else None


def install_local_sam() -> Path:
    """aws-sam-cli in its own venv, ``.tools/sam`` (never the app's ``.venv``: it pins old
    boto3 and pydantic versions)."""
    if not UV.exists():
        raise SamLocalError(f"{UV} is missing: run make install first")
    python = find_python313()
    print(f"samlocal: installing aws-sam-cli into {LOCAL_SAM_VENV}", file=sys.stderr)
    subprocess.run(  # noqa: S603 - fixed arguments
        [str(UV), "venv", "--quiet", "--python", python, str(LOCAL_SAM_VENV)], check=True
    )
    subprocess.run(  # noqa: S603
        [
            str(UV),
            "pip",
            "install",
            "--quiet",
            "--python",
            str(LOCAL_SAM_VENV / "bin" / "python"),
            "aws-sam-cli",
        ],
        check=True,
    )
    return LOCAL_SAM_VENV / "bin" / "sam"


def sam_version(sam: Path) -> tuple[int, ...]:
    """``(1, 170, 0)`` for SAM CLI 1.170.0; ``()`` when it does not say."""
    try:
        out = subprocess.run(  # noqa: S603
            [str(sam), "--version"],
            capture_output=True,
            text=True,
            check=True,
            env=sam_environment(),
            timeout=60,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return ()
    version = out.strip().rsplit(" ", 1)[-1]
    return tuple(int(part) for part in version.split(".") if part.isdigit())


def host_network_works(sam: Path) -> bool:
    """Whether ``--docker-network host`` really puts Lambda containers on the host's network
    with this ``sam``: the offline tool's launcher, or a SAM CLI older than 1.87."""
    with contextlib.suppress(OSError):
        if HOSTNET_MARKER in sam.read_bytes()[:4096]:
            return True
    version = sam_version(sam)
    return bool(version) and version < FIRST_BROKEN_HOST_NETWORK


def find_python313() -> str:
    """A real python3.13 (``sam build`` looks for one on ``PATH``)."""
    result = subprocess.run(  # noqa: S603
        [str(ROOT / "scripts" / "find-python.sh")], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise SamLocalError(result.stderr.strip() or "no Python 3.13 found")
    return result.stdout.strip()


def python_bin_dir() -> Path:
    """A directory holding only ``python3.13`` (a symlink to the real interpreter), to put
    first on ``PATH``: pyenv's shim of that name refuses to run without ``PYENV_VERSION``."""
    directory = STATE_DIR / "sam-python"
    directory.mkdir(parents=True, exist_ok=True)
    link = directory / "python3.13"
    target = find_python313()
    if not link.is_symlink() or os.readlink(link) != target:
        tmp = directory / "python3.13.tmp"
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(target)
        tmp.replace(link)
    return directory


def sam_environment(base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for every sam command (see ``SAM_ENVIRONMENT``)."""
    env = dict(os.environ if base is None else base)
    for name in DROPPED_ENVIRONMENT:
        env.pop(name, None)
    env.update(SAM_ENVIRONMENT)
    return env


def docker(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    """``docker ARGS`` (raises ``subprocess.TimeoutExpired`` after ``timeout`` s)."""
    return subprocess.run(  # noqa: S603 - our own arguments
        ["docker", *args],  # noqa: S607 - the docker CLI on PATH
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def docker_status() -> str | None:
    """None when a Docker engine answers, else what is missing."""
    if shutil.which("docker") is None:
        return "the docker CLI is not installed"
    try:
        info = docker("info", "--format", "{{.ServerVersion}}")
    except subprocess.TimeoutExpired:
        return "`docker info` did not answer within 30 s"
    if info.returncode != 0:
        return "no Docker engine answers `docker info`: " + (info.stderr.strip()[-300:] or "?")
    return None


def lambda_image_present() -> bool:
    return docker("image", "inspect", LAMBDA_IMAGE).returncode == 0


def pull_lambda_image(timeout: float = 300) -> bool:
    try:
        return docker("pull", LAMBDA_IMAGE, timeout=timeout).returncode == 0
    except subprocess.TimeoutExpired:
        return False


# -- running sam -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SamCli:
    """One SAM CLI executable and the environment to run it with."""

    executable: Path
    env: dict[str, str]
    python_problem: str | None = None  # why sam build would not find python3.13

    @classmethod
    def create(cls, executable: Path | None = None, *, install: bool = False) -> "SamCli":
        sam = executable or find_sam(install=install)
        if sam is None:
            raise SamLocalError(
                "no SAM CLI: run `make sam-setup` (or install aws-sam-cli in its own venv)"
            )
        env = sam_environment()
        try:  # only sam build needs it
            env["PATH"] = f"{python_bin_dir()}{os.pathsep}{env.get('PATH', '')}"
        except SamLocalError as exc:
            return cls(sam, env, str(exc))
        return cls(sam, env)

    def command(self, *args: str) -> list[str]:
        return [str(self.executable), *args]

    def run(
        self, *args: str, capture: bool = False, timeout: float | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603 - our own arguments
            self.command(*args),
            env=self.env,
            cwd=ROOT,
            text=True,
            capture_output=capture,
            timeout=timeout,
            check=False,
        )

    def popen(self, *args: str, **kwargs: Any) -> subprocess.Popen[str]:
        return subprocess.Popen(  # noqa: S603
            self.command(*args), env=self.env, cwd=ROOT, text=True, **kwargs
        )

    def build(
        self,
        build_dir: Path = BUILD_DIR,
        *,
        capture: bool = False,
        extra: Sequence[str] = (),
    ) -> subprocess.CompletedProcess[str]:
        """``sam build`` of the template into ``build_dir`` (samconfig.toml: cached, parallel)."""
        if self.python_problem:
            raise SamLocalError("sam build needs python3.13: " + self.python_problem)
        return self.run(
            "build",
            "--template",
            str(TEMPLATE_PATH),
            "--build-dir",
            str(build_dir),
            *extra,
            capture=capture,
        )

    def invoke(
        self,
        function: str,
        event: Path,
        *,
        template: Path,
        env_file: Path = ENV_FILE,
        capture: bool = True,
        timeout: float | None = 300,
    ) -> subprocess.CompletedProcess[str]:
        """``sam local invoke`` of one event; the function's result is the last line of
        stdout (its logs go to stderr). After ``timeout`` s sam is stopped as by Ctrl-C and
        the result has return code 124."""
        args = ["local", "invoke", function, "--event", str(event)]
        args += local_options(template, env_file)
        if not capture:
            return self.run(*args, timeout=timeout)
        process = self.popen(*args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            stop_process(process, communicate=True)
            stdout, stderr = process.communicate()
            remove_containers(container_ids(stderr))
            stderr += f"\nsamlocal: sam local invoke stopped after {timeout} s\n"
            return subprocess.CompletedProcess(process.args, 124, stdout, stderr)
        return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)

    def start_api(
        self,
        port: int,
        *,
        template: Path,
        env_file: Path = ENV_FILE,
        warm_containers: str | None = "LAZY",
        **popen_kwargs: Any,
    ) -> subprocess.Popen[str]:
        """``sam local start-api`` on 127.0.0.1:``port`` (a child process)."""
        extra = ["--warm-containers", warm_containers] if warm_containers else []
        return self.popen(
            "local",
            "start-api",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            *local_options(template, env_file),
            *extra,
            **popen_kwargs,
        )


def local_options(template: Path, env_file: Path) -> list[str]:
    return [
        "--template",
        str(template),
        "--env-vars",
        str(env_file),
        "--docker-network",
        "host",
        "--skip-pull-image",
    ]


def parse_invoke_result(stdout: str) -> Any:
    """The function's return value from ``sam local invoke``'s stdout."""
    lines = [line for line in stdout.splitlines() if line.strip()]
    if not lines:
        raise ValueError("sam local invoke printed no result")
    return json.loads(lines[-1])


# -- the backend -------------------------------------------------------------------------------


def start_seeded_stack(backend_port: int = 0) -> Stack:
    """The embedded backend (moto's server on 127.0.0.1, bucket ``signal-noise-content``) with
    the sample stories ingested and every object the S3 events in ``events/`` name."""
    reset_moto_state()
    aws.client.cache_clear()  # clients cached by an earlier stack point at its dead endpoint
    with contextlib.redirect_stdout(io.StringIO()):  # the in-process ingest's metric lines
        stack = start_stack(port=0, backend_port=backend_port)
        try:
            if stack.backend.bucket != BUCKET:
                raise SamLocalError(f"the backend's bucket is {stack.backend.bucket}, not {BUCKET}")
            stack.seed()
            s3 = stack.backend.client("s3")
            for key, path in EXTRA_OBJECTS.items():
                s3.put_object(Bucket=BUCKET, Key=key, Body=path.read_bytes())
                stack.wait_for_receipt(key, timeout=60)
        except BaseException:
            stack.stop()
            raise
    return stack


def reset_moto_state() -> None:
    """Forget every resource moto holds in this process: moto's server keeps them in the
    process-wide moto backends, which outlive an earlier stack (its table would still exist)."""
    moto_api_backend.reset()


def env_vars(stack: Stack, public_api_url: str | None = None) -> dict[str, dict[str, str]]:
    """The ``--env-vars`` document: every function calls the backend and its tables (sam sets
    a variable only in the functions whose template declares it: SUBSCRIBERS_TABLE reaches
    SubscriptionsFunction and the digest's functions). The digest's links point at
    ``public_api_url`` (default: the embedded stack's own API, which serves the subscription
    routes too); the template would give it the deployed API's URL."""
    return {
        "Parameters": {
            "AWS_ENDPOINT_URL": stack.backend.endpoint_url,
            "STORIES_TABLE": stack.backend.table,
            "SUBSCRIBERS_TABLE": stack.backend.subscribers_table,
            "SIGNUP_QUEUE_URL": stack.signups.queue_url if stack.signups else "",
        },
        # The planner queues the day's batches on the embedded stack's digest queue, whose
        # senders (the stack's own, as DigestQueue's event source mapping would) mail them.
        "DigestFunction": {
            "DIGEST_QUEUE_URL": stack.digest_batches.queue_url if stack.digest_batches else ""
        },
        "DigestSenderFunction": {"PUBLIC_API_URL": public_api_url or stack.api_url},
        "MailerFunction": {"PUBLIC_API_URL": public_api_url or stack.api_url},
        # No CDN here: the read API's links follow the URL the client called, with no look-up
        # of the deployed stack's PublicBaseUrl parameter.
        "ApiFunction": {"PUBLIC_API_URL": "", "PUBLIC_BASE_URL_PARAMETER": ""},
    }


def write_env_file(stack: Stack, path: Path = ENV_FILE, public_api_url: str | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(env_vars(stack, public_api_url), indent=2) + "\n")
    return path


@contextlib.contextmanager
def seeded_backend(
    env_file: Path = ENV_FILE, backend_port: int = 0, public_api_url: str | None = None
) -> Iterator[Stack]:
    """The seeded backend and its env-vars file, for the duration of the block."""
    quiet_backend_logs()
    stack = start_seeded_stack(backend_port)
    try:
        write_env_file(stack, env_file, public_api_url)
        yield stack
    finally:
        stack.stop()
        reset_moto_state()
        aws.client.cache_clear()
        env_file.unlink(missing_ok=True)


def quiet_backend_logs() -> None:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request access log
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")  # the in-process seeding ingest
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")


def wait_for_http(url: str, timeout: float, process: subprocess.Popen[str] | None = None) -> int:
    """Poll ``url`` until it answers with any HTTP status; returns the status."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - loopback
                return int(response.status)
        except urllib.error.HTTPError as error:
            return int(error.code)
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            if process is not None and process.poll() is not None:
                raise SamLocalError(f"sam exited with {process.returncode}") from None
            if time.monotonic() > deadline:
                raise
            time.sleep(0.25)


def stop_process(
    process: subprocess.Popen[str],
    timeout: float = 20,
    *,
    first: signal.Signals = signal.SIGINT,
    communicate: bool = False,
) -> None:
    """Stop sam so that it removes its containers: ``first`` (SIGINT, as Ctrl-C; start-api
    also handles SIGTERM), then SIGTERM, then SIGKILL, ``timeout`` s apart.
    ``communicate``: the process's pipes are read meanwhile (so it cannot block on them)."""

    def wait(seconds: float) -> bool:
        try:
            if communicate:
                process.communicate(timeout=seconds)
            else:
                process.wait(seconds)
        except subprocess.TimeoutExpired:
            return False
        return True

    for sig in dict.fromkeys((first, signal.SIGTERM)):
        if process.poll() is not None:
            return
        process.send_signal(sig)
        if wait(timeout):
            return
    process.kill()
    process.wait()


def container_ids(sam_output: str) -> list[str]:
    """The Lambda containers a sam command reported (``SAM_CONTAINER_ID: ...`` lines)."""
    return re.findall(r"^SAM_CONTAINER_ID: ([0-9a-f]{12,64})\s*$", sam_output, re.MULTILINE)


def remove_containers(ids: Sequence[str]) -> None:
    """Remove these containers if they still exist (sam killed before its own clean-up)."""
    for container in ids:
        with contextlib.suppress(subprocess.TimeoutExpired):
            docker("rm", "--force", container)


def lambda_containers_using(endpoint_url: str) -> list[str]:
    """Ids of Lambda containers (running or not) whose AWS_ENDPOINT_URL is ``endpoint_url``:
    the ones sam started for this backend."""
    listed = docker("ps", "--all", "--quiet", "--filter", "label=sam.cli.container.type=lambda")
    ids = listed.stdout.split()
    if not ids:
        return []
    inspected = docker("inspect", "--format", "{{.Id}} {{json .Config.Env}}", *ids)
    found = []
    for line in inspected.stdout.splitlines():
        container, _, env = line.partition(" ")
        with contextlib.suppress(ValueError):
            if f"AWS_ENDPOINT_URL={endpoint_url}" in json.loads(env):
                found.append(container)
    return found


# -- commands ----------------------------------------------------------------------------------


def _template(build_dir: Path) -> Path:
    template = build_dir / "template.yaml"
    if not template.exists():
        raise SamLocalError(f"{template} does not exist: run make sam-build first")
    return template


def cmd_build(args: argparse.Namespace) -> int:
    sam = SamCli.create(install=True)
    started = time.monotonic()
    result = sam.build(Path(args.build_dir))
    print(f"samlocal: sam build took {time.monotonic() - started:.1f} s", file=sys.stderr)
    return result.returncode


def cmd_invoke(args: argparse.Namespace) -> int:
    sam = SamCli.create(install=True)
    require_host_network(sam)
    template = _template(Path(args.build_dir))
    event = Path(args.event)
    if not event.is_file():
        raise SamLocalError(f"no event file {event}")
    env_file = Path(args.env_file or STATE_DIR / f"sam-env.invoke-{os.getpid()}.json")
    with seeded_backend(env_file) as stack:
        print(f"samlocal: backend {stack.backend.endpoint_url} seeded", file=sys.stderr)
        started = time.monotonic()
        result = sam.invoke(
            args.function, event, template=template, env_file=env_file, capture=False
        )
        print(
            f"samlocal: sam local invoke took {time.monotonic() - started:.1f} s", file=sys.stderr
        )
    return result.returncode


def cmd_api(args: argparse.Namespace) -> int:
    sam = SamCli.create(install=True)
    require_host_network(sam)
    template = _template(Path(args.build_dir))
    port = args.port or free_port()
    api_url = f"http://127.0.0.1:{port}"
    # Stop on Ctrl-C or SIGTERM, also when started with SIGINT ignored (a background job).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    env_file = Path(args.env_file or ENV_FILE)
    with seeded_backend(env_file, args.backend_port, public_api_url=api_url) as stack:
        print(f"samlocal: backend {stack.backend.endpoint_url} seeded; env vars in {env_file}")
        warm = None if args.warm_containers == "none" else args.warm_containers
        # Its own session: the terminal's Ctrl-C reaches this process only, which stops sam
        # (and waits for it to remove its containers) before it stops the backend.
        process = sam.start_api(
            port, template=template, env_file=env_file, warm_containers=warm, start_new_session=True
        )
        try:
            started = time.monotonic()
            with contextlib.suppress(Exception):
                status = wait_for_http(api_url + "/stories?limit=1", 180, process)
                print(
                    f"samlocal: {api_url}/stories answered {status} after "
                    f"{time.monotonic() - started:.1f} s",
                    flush=True,
                )
            print(f"API: {api_url}/stories   Ctrl-C to stop.", flush=True)
            process.wait()  # sam exits by itself only on an error
            return process.returncode or 1
        except KeyboardInterrupt:
            return 0
        finally:
            stop_process(process, first=signal.SIGTERM)  # start-api's own clean stop
            print("samlocal: stopped.", flush=True)


def cmd_sam(args: argparse.Namespace) -> int:
    sam = SamCli.create(install=True)
    sam_args = list(args.args)
    if sam_args[:1] == ["--"]:
        sam_args = sam_args[1:]
    return sam.run(*sam_args).returncode


STOCK_SAM_HINT = (
    "stock SAM CLI >= 1.87 leaves Lambda containers on Docker's bridge despite "
    "--docker-network host (aws/aws-sam-cli#4236), so the functions cannot reach the backend "
    "on 127.0.0.1. Use the sam of ../shared/tools/sam-local-offline.sh (make sam-setup), or "
    "see 'Stock SAM CLI' in devtools/samlocal.py"
)


def cmd_doctor(args: argparse.Namespace) -> int:
    """Report what sam local needs; exit 1 when something is missing."""
    fixes: list[str] = []
    if args.install and find_sam() is None:
        install_local_sam()
    docker = docker_status()
    print(f"docker engine:  {'ok' if docker is None else docker}")
    if docker is not None:
        fixes.append("install Docker Engine and start it (`docker info` must succeed)")
    elif lambda_image_present():
        print(f"lambda image:   {LAMBDA_IMAGE} present")
    else:
        print(f"lambda image:   {LAMBDA_IMAGE} missing")
        fixes.append(f"docker pull {LAMBDA_IMAGE} (sam also pulls it when public.ecr.aws answers)")
    sam = find_sam()
    print(f"sam cli:        {sam or 'missing'}")
    if sam is None:
        fixes.append(f"make sam-setup (installs aws-sam-cli into {LOCAL_SAM_VENV})")
    elif host_network_works(sam):
        print("host network:   honoured (Lambda containers reach 127.0.0.1)")
    else:
        print("host network:   NOT honoured by this sam")
        fixes.append(STOCK_SAM_HINT)
    try:
        print(f"python3.13:     {find_python313()}")
    except SamLocalError as exc:
        print("python3.13:     missing")
        fixes.append(str(exc))
    if fixes and OFFLINE_TOOL.exists():
        fixes.insert(0, f"run {OFFLINE_TOOL} as root (make sam-setup) - it sets up all of this")
    for fix in fixes:
        print(f"to do: {fix}")
    return 1 if fixes else 0


def require_host_network(sam: SamCli) -> None:
    if not host_network_works(sam.executable):
        raise SamLocalError(f"{sam.executable}: {STOCK_SAM_HINT}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.samlocal",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--build-dir", default=str(BUILD_DIR))
    parser.add_argument(
        "--env-file",
        help=f"the --env-vars file written for sam (default {ENV_FILE}; invoke: one per process)",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("build", help="sam build").set_defaults(run=cmd_build)
    invoke = commands.add_parser("invoke", help="seeded backend + one sam local invoke")
    invoke.add_argument("function")
    invoke.add_argument("event")
    invoke.set_defaults(run=cmd_invoke)
    api = commands.add_parser("api", help="seeded backend + sam local start-api")
    api.add_argument("--port", type=int, default=int(os.environ.get("SAM_PORT", "3001")))
    api.add_argument("--backend-port", type=int, default=int(os.environ.get("BACKEND_PORT", "0")))
    api.add_argument(
        "--warm-containers",
        choices=["LAZY", "EAGER", "none"],
        default="LAZY",
        help="LAZY (default): a function's container starts on its first request and stays "
        "warm; EAGER: every function's container starts with the API; none: one per request",
    )
    api.set_defaults(run=cmd_api)
    sam = commands.add_parser("sam", help="any sam command with this environment")
    sam.add_argument("args", nargs=argparse.REMAINDER)
    sam.set_defaults(run=cmd_sam)
    doctor = commands.add_parser("doctor", help="check Docker, the Lambda image, SAM CLI")
    doctor.add_argument(
        "--install", action="store_true", help=f"install aws-sam-cli into {LOCAL_SAM_VENV} if none"
    )
    doctor.set_defaults(run=cmd_doctor)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
    try:
        return int(args.run(args))
    except SamLocalError as exc:
        print(f"samlocal: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
