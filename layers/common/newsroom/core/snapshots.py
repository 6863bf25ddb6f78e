"""What a Lambda SnapStart snapshot must not freeze, for the functions the template lets
SnapStart apply to (``EnableSnapStart``): every environment resumed from one snapshot starts
with the same memory, so whatever was drawn at INIT is shared by all of them (Lambda developer
guide, "Handling uniqueness with Lambda SnapStart").

Audited module scope of those functions: typed settings (the same everywhere); AWS clients,
which open no connection at INIT (boto3 connects on the first call; a SnapStart function gets
container credentials the SDK refreshes, "Activating and managing Lambda SnapStart", "Using
SnapStart with AWS SDKs"); caches filled on first use (the signing key, the public base URL);
clocks read per call. Tokens and ids come from ``secrets``/``uuid4``, which read the OS.
What remains is the ``random`` module's state: seeded once at INIT, it would give every
resumed environment the same sequence, i.e. the same jitter in botocore's retry backoff, so
environments throttled together would retry in lockstep. It is reseeded from the OS after
each restore.

``snapshot_restore_py`` ships with Lambda's Python runtimes (and is a development dependency
here); registering only records the hook, which Lambda's runtime runs after a restore. Where
it is missing (a stand-in runtime image without SnapStart) nothing is ever restored from a
snapshot, and there is nothing to register.
"""

import random
from collections.abc import Callable
from typing import Any

try:
    from snapshot_restore_py import register_after_restore
except ImportError:  # pragma: no cover - only on runtimes without SnapStart

    def register_after_restore(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return func


def reseed_random() -> None:
    """Fresh entropy for ``random`` in each environment resumed from the snapshot."""
    random.seed()


register_after_restore(reseed_random)
