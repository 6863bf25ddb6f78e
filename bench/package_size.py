"""Package size: what ``sam build`` produces, zipped the way SAM packages it (deflate,
level 9), per function and for the layer; plus two checks of the built layer in a
Lambda-like interpreter (``-I -S``: only the layer and the runtime's boto3 on ``sys.path``):

* cold import of each handler from the layer as built (with unchecked-hash ``.pyc``: ``/opt``
  is read-only in Lambda, so a layer without them compiles every module on every cold start)
  vs the same layer with its bytecode removed;
* every function's handler as built against the reference handler, and the API's with tracing
  on (``Tracing: Active`` in the template: the X-Ray SDK loads).

``sam build`` runs into a temporary folder with ``--no-cached``, so ``.aws-sam/`` (which
``make sam-*`` and its tests use) is never touched. No SAM CLI: the rows say "skipped".
"""

import compileall
import importlib.util
import io
import py_compile
import shutil
import subprocess
import tempfile
import time
import zipfile
from collections import defaultdict
from pathlib import Path

from bench.common import (
    Goal,
    Row,
    child_environment,
    compared,
    lambda_environment,
    median,
    paired_ratio,
    python,
    rotations,
    say,
    skipped,
    spread,
)
from devtools.template import load_template

KIB, MIB = 1024, 1024 * 1024
LAYER_BUDGET = 10 * MIB  # with the bytecode that serves the cold start (issue 14)
FUNCTION_BUDGET = 100 * KIB
WITHIN = Goal("<=", 1.0)
# What Lambda's Python runtime ships besides the standard library.
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "urllib3", "dateutil", "six", "jmespath")
HANDLERS = {"api": "ApiFunction", "ingest": "IngestFunction"}
# The API function as built with Tracing: Active (POWERTOOLS_TRACE_DISABLED unset: the X-Ray SDK).
TRACING_ON = "ApiFunction.tracing_on"
# Issue 14's goals for the built artifacts, as a ratio to the reference handler's import.
AS_BUILT_GOALS = {
    "ApiFunction": Goal("<=", 1.20),
    "IngestFunction": Goal("<=", 1.30),
    "SubscriptionsFunction": Goal("<=", 1.30),
    "DigestFunction": Goal("<=", 1.35),
    TRACING_ON: Goal("<=", 1.6),
}
REFERENCE_APP = 'import boto3\n\nclient = boto3.client("dynamodb")\n'
# The price of Powertools alone, for scale: the reference plus a Logger and a REST resolver
# with one route, imported the plain way (the package's __init__ and all its resolvers).
MINIMAL_POWERTOOLS = "minimal_powertools"
MINIMAL_POWERTOOLS_APP = """\
import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver

client = boto3.client("dynamodb")
logger = Logger()
app = APIGatewayRestResolver()


@app.get("/stories")
def stories():
    return {"data": []}


@logger.inject_lambda_context
def handler(event, context):
    return app.resolve(event, context)
"""
# What the newsletter functions' settings require (names only: nothing is called at import).
NEWSLETTER_ENV = {
    "SUBSCRIBERS_TABLE": "subscribers",
    "SIGNUP_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/signups",
    "DIGEST_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/digest",
}

LAYER_IMPORT = """\
import sys, time, importlib.util
sys.path[:0] = [sys.argv[1], sys.argv[2]]
started = time.perf_counter()
spec = importlib.util.spec_from_file_location("bench_handler", sys.argv[3])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
sys.stdout.write(repr(time.perf_counter() - started) + "\\n")
"""


def zip_directory(folder: Path) -> tuple[int, dict[str, int]]:
    """Bytes of ``folder`` zipped (deflate 9) and the compressed bytes per top-level entry."""
    buffer = io.BytesIO()
    per_entry: dict[str, int] = defaultdict(int)
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            name = path.relative_to(folder).as_posix()
            archive.write(path, name)
            info = archive.getinfo(name)
            top = name.split("/")[1] if name.startswith("python/") else name.split("/")[0]
            per_entry[top] += info.compress_size
    return len(buffer.getvalue()), dict(per_entry)


def resources_by_type() -> tuple[list[str], list[str]]:
    resources = load_template()["Resources"]
    functions = [k for k, v in resources.items() if v["Type"] == "AWS::Serverless::Function"]
    layers = [k for k, v in resources.items() if v["Type"] == "AWS::Serverless::LayerVersion"]
    return functions, layers


def runtime_path(folder: Path) -> Path:
    """A folder holding only what Lambda's runtime provides besides the standard library
    (boto3 and friends), byte-compiled as the runtime ships them: a reference compiled from
    source at each import would flatter everything measured against it."""
    folder.mkdir()
    for name in RUNTIME_PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            continue
        origin = Path(spec.origin)
        source = origin.parent if origin.name == "__init__.py" else origin
        if source.is_dir():
            shutil.copytree(source, folder / source.name, ignore=shutil.ignore_patterns("*.pyc"))
        else:
            shutil.copy2(source, folder / source.name)
    compileall.compile_dir(
        folder, quiet=1, workers=0, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH
    )
    return folder


def layer_import(
    layer: Path, runtime: Path, app: Path, env: dict[str, str]
) -> tuple[float | None, str]:
    """Seconds to import ``app`` in a Lambda-like interpreter, or None and the error."""
    done = subprocess.run(
        [python(), "-I", "-S", "-B", "-c", LAYER_IMPORT, str(layer), str(runtime), str(app)],
        env=env,
        capture_output=True,
        text=True,
        cwd=layer,
        check=False,
    )
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines()
        return None, lines[-1] if lines else f"exit status {done.returncode}"
    return float(done.stdout.strip().splitlines()[-1]), ""


def run(quick: bool) -> list[Row]:
    functions, layers = resources_by_type()
    names = [f"package.{layer}.zip" for layer in layers]
    names += [f"package.{function}.zip" for function in functions]
    try:
        from devtools.samlocal import SamCli, SamLocalError

        sam = SamCli.create(install=False)
        if sam.python_problem:
            raise SamLocalError(sam.python_problem)
    except SamLocalError as exc:
        say(f"package size: skipped ({exc})")
        return [skipped(name, "bytes", str(exc)) for name in names]

    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="bench-package-") as tmp:
        build = Path(tmp) / "build"
        started = time.monotonic()
        done = sam.build(build, capture=True, extra=("--no-cached",))
        if done.returncode != 0:
            why = f"sam build failed: {done.stderr.strip().splitlines()[-1:]}"
            say(f"package size: {why}\n{done.stderr[-3000:]}")
            return [skipped(name, "bytes", why) for name in names]
        took = time.monotonic() - started
        say(f"package size: sam build --no-cached into a temp folder: {took:.0f} s")

        for layer in layers:
            folder = build / layer
            size, entries = zip_directory(folder)
            boto = [p.name for p in folder.glob("python/*") if p.name in ("boto3", "botocore")]
            top = sorted(entries.items(), key=lambda kv: kv[1], reverse=True)
            say(f"  {layer}: {size:,} bytes zipped; top 5 entries by zipped bytes:")
            for name, compressed in top[:5]:
                say(f"    {compressed / KIB:9.1f} KiB  {name}")
            rows.append(
                compared(
                    f"package.{layer}.zip",
                    size,
                    LAYER_BUDGET,
                    "bytes",
                    WITHIN,
                    "deflate 9; reference: the 10 MiB budget; top: "
                    + ", ".join(f"{n} {c / KIB:.0f} KiB" for n, c in top[:5]),
                )
            )
            rows.append(
                Row(
                    f"package.{layer}.boto_dirs",
                    len(boto),
                    "dirs",
                    goal=Goal("==", 0, "value"),
                    note="boto3/botocore in the layer (Lambda's runtime ships them)"
                    + (f": found {', '.join(boto)}" if boto else ""),
                )
            )
        for function in functions:
            size, entries = zip_directory(build / function)
            rows.append(
                compared(
                    f"package.{function}.zip",
                    size,
                    FUNCTION_BUDGET,
                    "bytes",
                    WITHIN,
                    f"reference: the 100 KiB budget; files: {', '.join(sorted(entries))}",
                )
            )

        if layers:
            rows += layer_checks(build, layers[0], Path(tmp), quick)
            rows += against_reference(build, layers[0], functions, Path(tmp), quick)
    return rows


def against_reference(
    build: Path, layer: str, functions: list[str], tmp: Path, quick: bool
) -> list[Row]:
    """Every function's ``app.py`` as built, imported from the built layer (read-only in
    Lambda: ``-B``, nothing written), against the reference handler (``import boto3`` and one
    DynamoDB client) with the runtime's byte-compiled boto3; alternating rounds, medians."""
    runtime = runtime_path(tmp / "reference-runtime")
    home = tmp / "reference-home"
    home.mkdir()
    empty = tmp / "no-layer"
    empty.mkdir()
    reference_app = tmp / "reference" / "app.py"
    reference_app.parent.mkdir()
    reference_app.write_text(REFERENCE_APP)
    reference_env = child_environment(lambda_environment("ApiFunction", table="stories"), home)
    minimal_app = tmp / MINIMAL_POWERTOOLS / "app.py"
    minimal_app.parent.mkdir()
    minimal_app.write_text(MINIMAL_POWERTOOLS_APP)
    contenders = [
        ("reference", empty, reference_app, reference_env),
        (MINIMAL_POWERTOOLS, build / layer / "python", minimal_app, reference_env),
    ]
    for function in functions:
        env = lambda_environment(function, table="stories")
        env.update({k: v for k, v in NEWSLETTER_ENV.items() if k not in env or not env[k]})
        app = build / function / "app.py"
        contenders.append((function, build / layer / "python", app, child_environment(env, home)))
    tracing_env = lambda_environment("ApiFunction", table="stories", tracing=True)
    contenders.append(
        (
            TRACING_ON,
            build / layer / "python",
            build / "ApiFunction" / "app.py",
            child_environment(tracing_env, home),
        )
    )
    samples: dict[str, list[float]] = defaultdict(list)
    for order in rotations(contenders, 3 if quick else 15):
        for name, folder, app, env in order:
            seconds, error = layer_import(folder, runtime, app, env)
            if seconds is None:
                raise RuntimeError(f"{name} does not import as built: {error}")
            samples[name].append(seconds)
    say("  cold import as built vs the reference (python -I -S -B, byte-compiled boto3), ms:")
    for name, values in samples.items():
        say(f"    {name:22} {spread(values, 1000)}")
    reference = samples["reference"]
    return [
        compared(
            f"package.as_built.{function}",
            median(samples[function]) * 1000,
            median(reference) * 1000,
            "ms",
            AS_BUILT_GOALS.get(function),
            note="app.py from sam build + the built layer (its .pyc) vs import boto3 + a DynamoDB"
            " client, boto3 byte-compiled as in Lambda's runtime; ratio: median of per-round"
            " ratios",
            ratio=paired_ratio(samples[function], reference),
        )
        for function in [*functions, TRACING_ON]
    ] + [
        compared(
            f"package.as_built.{MINIMAL_POWERTOOLS}",
            median(samples[MINIMAL_POWERTOOLS]) * 1000,
            median(reference) * 1000,
            "ms",
            None,
            note="for scale: the reference + Powertools' Logger and REST resolver (one route),"
            " imported the plain way, from the built layer; ratio: median of per-round ratios",
            ratio=paired_ratio(samples[MINIMAL_POWERTOOLS], reference),
        )
    ]


def layer_checks(build: Path, layer: str, tmp: Path, quick: bool) -> list[Row]:
    """Cold import from the built layer, as built (bytecode) vs from source."""
    as_built = build / layer / "python"
    source_only = tmp / "source-only" / "python"
    shutil.copytree(as_built, source_only, ignore=shutil.ignore_patterns("__pycache__"))
    without_pyc, _ = zip_directory(source_only.parent)
    runtime = runtime_path(tmp / "runtime")
    home = tmp / "home"
    home.mkdir()
    rows: list[Row] = []

    contenders = []
    for name, logical_id in HANDLERS.items():
        app = build / logical_id / "app.py"
        env = child_environment(lambda_environment(logical_id, table="stories"), home)
        contenders += [(name, "as_built", as_built, app, env)]
        contenders += [(name, "source_only", source_only, app, env)]
    samples: dict[tuple[str, str], list[float]] = defaultdict(list)
    for _, _, folder, app, env in [] if quick else contenders:  # warm-up, not counted
        layer_import(folder, runtime, app, env)
    for order in rotations(contenders, 2 if quick else 7):
        for name, variant, folder, app, env in order:
            seconds, error = layer_import(folder, runtime, app, env)
            if seconds is None:
                raise RuntimeError(f"{name} does not import from the built layer: {error}")
            samples[(name, variant)].append(seconds)
    say("  cold import from the built layer (python -I -S -B, runtime boto3 only), ms:")
    for (name, variant), values in sorted(samples.items()):
        say(f"    {name:7} {variant:12} {spread(values, 1000)}")
    for name in HANDLERS:
        as_built_s, source_s = samples[(name, "as_built")], samples[(name, "source_only")]
        rows.append(
            compared(
                f"package.layer_import.{name}.bytecode",
                median(as_built_s) * 1000,
                median(source_s) * 1000,
                "ms",
                note="the layer as sam builds it (unchecked-hash .pyc) vs the same layer without"
                f" its bytecode ({without_pyc:,} bytes zipped; Lambda cannot write .pyc);"
                " ratio: median of per-round ratios",
                ratio=paired_ratio(as_built_s, source_s),
            )
        )

    return rows
