"""Function containers in their own processes, as Lambda and ``sam local`` run them: each
worker is ``python -m devtools.workers <module>``, which loads ``functions/<module>/app.py``
once with the function's environment and then answers one invocation at a time, as JSON
lines over its stdin and stdout (EOF on stdin ends it). Its prints and logs go to stderr.

The parent side (``WorkerHandler``) is a handler like the in-process one, so a ``Container``
wraps either. A handler's exception comes back as a ``FunctionError`` carrying Lambda's
``errorType`` and ``errorMessage``; a worker that dies or overruns the function's timeout is
killed, reported as a ``FunctionError`` too, and replaced by a fresh (cold) worker on the
next invocation, as Lambda replaces a crashed sandbox. Nothing waits without a deadline."""

import contextlib
import importlib.util
import json
import os
import select
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Mapping
from types import ModuleType
from typing import IO, Any

from devtools.functions import LambdaContext, load_function_module
from devtools.template import ROOT, load_template, resource

STARTUP_SECONDS = 60.0  # a cold start (imports, clients) on a loaded 2-core machine


class FunctionError(Exception):
    """What Lambda reports for a failed invocation: the handler raised (``error_type`` is the
    exception's class), the worker died, or the function timed out."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(f"{error_type}: {message}")
        self.error_type = error_type
        self.message = message


def function_timeout(function_id: str) -> float:
    """The function's ``Timeout`` in seconds (its own, else Globals', else Lambda's 3)."""
    own = resource(function_id).get("Timeout")
    if own is None:
        own = load_template().get("Globals", {}).get("Function", {}).get("Timeout", 3)
    return float(own)


class LineReader:
    """Newline-terminated messages read from a pipe with a deadline (``None`` at EOF)."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.fd = stream.fileno()
        self.buffer = b""

    def read(self, timeout: float) -> bytes | None:
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            ready, _, _ = select.select([self.fd], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(self.fd, 1 << 16)
            if not chunk:
                return None
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line


class WorkerHandler:
    """A handler whose invocations run in a worker process (started at once; the first
    invocation waits for its cold start). ``module`` names ``functions/<module>/app.py``, or
    is the path of a ``.py`` file with a ``handler``."""

    def __init__(
        self,
        module: str,
        env: Mapping[str, str],
        function_id: str,
        timeout: float | None = None,
    ) -> None:
        self.module = module
        self.env = {**os.environ, **env}
        self.function_id = function_id
        self.timeout = function_timeout(function_id) if timeout is None else timeout
        self.lock = threading.Lock()
        self.starts = 0  # cold starts so far (a replaced worker counts again)
        self.process: subprocess.Popen[bytes] | None = None
        self._lines: LineReader | None = None
        self._ready = False
        self._start()

    def _start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603 - this interpreter, our module
            [sys.executable, "-m", "devtools.workers", self.module],
            cwd=ROOT,
            env=self.env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert self.process.stdout is not None
        self._lines = LineReader(self.process.stdout)
        self._ready = False
        self.starts += 1

    def _kill(self) -> int | None:
        process, self.process = self.process, None
        if process is None:
            return None
        if process.poll() is None:
            process.kill()
        status = process.wait(timeout=10)
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                stream.close()
        return status

    def _receive(self, timeout: float, what: str) -> dict[str, Any]:
        assert self._lines is not None
        try:
            line = self._lines.read(timeout)
        except TimeoutError:
            self._kill()
            raise FunctionError(
                "Sandbox.Timedout", f"{what} timed out after {timeout:g} seconds"
            ) from None
        if line is None:
            status = self._kill()
            raise FunctionError(
                "Runtime.ExitError", f"{self.function_id}: worker exited with status {status}"
            )
        message: dict[str, Any] = json.loads(line)
        return message

    def _wait_ready(self) -> None:
        if self.process is None:
            self._start()  # the previous worker died: a new sandbox, a cold start
        if not self._ready:
            ready = self._receive(STARTUP_SECONDS, f"{self.function_id} init")
            if "errorType" in ready:  # module scope raised: every invocation fails
                self._kill()
                raise FunctionError(ready["errorType"], ready["errorMessage"])
            self._ready = True

    def warm(self) -> None:
        """Wait for the worker's cold start to finish (raises ``FunctionError`` if it fails)."""
        with self.lock:
            self._wait_ready()

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        with self.lock:
            self._wait_ready()
            assert self.process is not None and self.process.stdin is not None
            request = {
                "event": event,
                "function_name": context.function_name,
                "request_id": context.aws_request_id,
            }
            try:
                self.process.stdin.write(json.dumps(request).encode() + b"\n")
                self.process.stdin.flush()
            except (BrokenPipeError, OSError):
                status = self._kill()
                raise FunctionError(
                    "Runtime.ExitError", f"{self.function_id}: worker exited with status {status}"
                ) from None
            answer = self._receive(self.timeout, f"{self.function_id} invocation")
            if "errorType" in answer:
                raise FunctionError(answer["errorType"], answer["errorMessage"])
            return answer["result"]

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def close(self) -> None:
        """End the worker: EOF on its stdin, then a kill if it does not exit at once (an
        invocation still running gets a ``FunctionError``)."""
        process = self.process
        if process is None:
            return
        if process.stdin is not None:
            with contextlib.suppress(OSError):
                process.stdin.close()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _send(channel: IO[bytes], message: dict[str, Any]) -> None:
    channel.write(json.dumps(message).encode() + b"\n")
    channel.flush()


def _error(exc: BaseException) -> dict[str, Any]:
    return {
        "errorType": type(exc).__name__,
        "errorMessage": str(exc),
        "stackTrace": traceback.format_exception(exc),
    }


def _load(module: str) -> ModuleType:
    """``functions/<module>/app.py``, or the file ``module`` when it is a ``.py`` path."""
    if not module.endswith(".py"):
        return load_function_module(module)
    spec = importlib.util.spec_from_file_location("worker_handler", module)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {module}")
    loaded = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loaded)
    return loaded


def main(argv: list[str]) -> int:
    """The worker: load the module, say ready, answer requests until EOF."""
    (module,) = argv
    channel = os.fdopen(os.dup(1), "wb")  # the protocol's own copy of stdout
    os.dup2(2, 1)  # the function's prints and log lines (Powertools writes to stdout) to stderr
    try:
        handler = _load(module).handler
    except Exception as exc:
        traceback.print_exc()
        _send(channel, _error(exc))
        return 1
    _send(channel, {"ready": True})
    for line in sys.stdin.buffer:
        request = json.loads(line)
        context = LambdaContext(request["function_name"], request_id=request["request_id"])
        try:
            result = handler(request["event"], context)
            reply = json.dumps({"result": result}).encode()
        except Exception as exc:  # what the runtime reports for the invocation
            traceback.print_exc()
            reply = json.dumps(_error(exc)).encode()
        channel.write(reply + b"\n")
        channel.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
