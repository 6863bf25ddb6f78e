"""``make dev``: the local stack with the sample stories. Ctrl-C or SIGTERM stops it."""

import argparse
import contextlib
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Iterator

from devtools.stack import Stack, start_stack


def port_option(
    parser: argparse.ArgumentParser, flag: str, variable: str, default: int, help_text: str
) -> None:
    """An integer option ``flag`` whose default is ``$variable``, else ``default``."""
    parser.add_argument(
        flag, type=int, default=int(os.environ.get(variable, str(default))), help=help_text
    )


def quiet_logs() -> None:
    """Warnings only: the local stack's logs and those of the functions it runs (Powertools)."""
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request access log
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")


@contextlib.contextmanager
def until_stopped(stack: Stack) -> Iterator[threading.Event]:
    """The event that Ctrl-C (SIGINT) or SIGTERM sets, for the caller to wait on; on the way
    out, however it is left, ``stack`` is stopped and "stopped." printed."""
    stopping = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.set())
    try:
        yield stopping
    finally:
        stack.stop()
        print("stopped.", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make dev", description=__doc__)
    port_option(parser, "--port", "PORT", 3000, "API port on 127.0.0.1 (default 3000, or $PORT)")
    port_option(
        parser,
        "--backend-port",
        "BACKEND_PORT",
        0,
        "port of the embedded AWS endpoint (default: any free port)",
    )
    parser.add_argument("--no-seed", action="store_true", help="start without sample stories")
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="run moto and every function in this process (one API invocation at a time) "
        "instead of one process per function container and one for moto",
    )
    args = parser.parse_args(argv)
    quiet_logs()
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")

    stack = start_stack(port=args.port, backend_port=args.backend_port, workers=not args.in_process)
    with until_stopped(stack) as stopping:
        if not args.no_seed:
            receipts = stack.seed()
            stored = sum(
                r["counts"]["created"] + r["counts"]["updated"] + r["counts"]["unchanged"]
                for r in receipts
            )
            print(f"seeded {stored} sample stories from {len(receipts)} files through S3 -> ingest")
        state = stack.write_state()
        print(json.dumps(stack.info(), indent=2))
        print(f"stack details in {state}")
        print(f"reader page: {stack.api_url}/   API: {stack.api_url}/stories")
        print(
            "upload stories: .venv/bin/newsroom-upload FILE --bucket "
            f"{stack.backend.bucket} --endpoint-url {stack.backend.endpoint_url}"
        )
        print(
            f"newsletter: sent emails at {stack.api_url}/_local/emails (or `make emails`); "
            "run the digest with `make digest`"
        )
        print("Ctrl-C to stop.", flush=True)
        stopping.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
