"""Reading settings from the environment: the parsers every capability's settings share.

Each capability declares its own frozen dataclass (``ingest.settings``, ``read_api.settings``,
``newsletter.settings``) whose field defaults are the only defaults: ``from_env`` passes
only the variables that are set, so a default is written once. The variables themselves are
declared in ``template.yaml``.
"""

from collections.abc import Callable, Mapping
from typing import Any

MIB = 1024 * 1024
DEFAULT_SITE_URL = "https://signal-noise.example/"
DEFAULT_STORY_URL = "https://signal-noise.example/stories/{slug}"


def positive_int(raw: str, name: str) -> int:
    """An integer of at least 1; raises ``ValueError`` naming the variable otherwise."""
    value = int(raw)
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value}")
    return value


def origins(raw: str, name: str = "") -> tuple[str, ...]:
    """A comma-separated list of CORS origins; empty means any (``*``)."""
    return tuple(o.strip() for o in raw.split(",") if o.strip()) or ("*",)


def flag(raw: str, name: str = "") -> bool:
    return raw.strip().lower() == "true"


def text(raw: str, name: str = "") -> str:
    return raw


def url_base(raw: str, name: str = "") -> str:
    """A base URL without its trailing slash (paths are appended to it)."""
    return raw.rstrip("/")


Parser = Callable[[str, str], Any]


def from_env(
    env: Mapping[str, str], fields: Mapping[str, tuple[str, Parser]], required: Mapping[str, str]
) -> dict[str, Any]:
    """Keyword arguments for a settings dataclass.

    ``required``: field -> variable, which must be set. ``fields``: field -> (variable, parser)
    for optional settings; a variable that is unset or empty leaves the field's default.
    """
    values: dict[str, Any] = {field: env[variable] for field, variable in required.items()}
    for field, (variable, parse) in fields.items():
        raw = env.get(variable)
        if raw not in (None, ""):
            values[field] = parse(raw, variable)
    return values
