"""``make dev`` and ``make dev-cdn`` as one runs them: ``python -m <module>`` in its own
process, stopped with SIGTERM as a service manager (or ``docker stop``) would."""

import os
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from devtools.template import ROOT


@contextmanager
def dev_process(module: str, *args: str, env: Mapping[str, str]) -> Iterator[subprocess.Popen[str]]:
    """``python -m module args`` from the repository's root, with ``env`` on top of this
    process's environment and its stdout and stderr on one text pipe; killed afterwards if
    the test left it running."""
    process = subprocess.Popen(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def stop_with_sigterm(process: subprocess.Popen[str], timeout: float = 15) -> str:
    """Send SIGTERM and wait for the process to end (``timeout`` seconds at most): what it
    printed from then on."""
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=timeout)
    return output
