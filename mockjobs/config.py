"""Settings: defaults, then MOCKJOBS_* environment variables, then create_app(config)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from .errors import MockjobsError

DEFAULTS: dict[str, Any] = {
    "SCENARIOS": None,  # folders (list, or ':'-separated); None: the bundled scenarios
    "BUNDLED": False,  # with SCENARIOS, also serve the bundled ones
    "CONTEXT": "/arcgis",
    "SPEED": 1.0,
    "STATE": None,  # SQLite file; None: a temporary one per server
    "HTTP_ERRORS": False,  # real HTTP statuses on ArcGIS errors instead of 200
    "RELOAD_INTERVAL": 1.0,  # seconds between scans of the scenario folders; 0: never
    "CURRENT_VERSION": 11.3,
    "FULL_VERSION": "11.3.0",
    "OWNING_SYSTEM_URL": "",  # empty: the request's own host
    "PJSON_INDENT": 2,
    "JOURNAL": True,
    "TIME_SOURCE": None,  # an object with now_ms(); None: real time
}


def package_dir(name: str) -> Path:
    """A data folder shipped in the wheel (mockjobs/NAME) or beside the package in a checkout."""
    inside = Path(str(resources.files("mockjobs"))) / name
    if inside.is_dir():
        return inside
    return Path(__file__).resolve().parent.parent / name


def bundled_scenarios() -> Path:
    """The folder of the bundled scenarios."""
    return package_dir("scenarios")


def templates_dir() -> Path:
    """The folder of the HTML templates."""
    return package_dir("templates")


def _coerce(key: str, raw: str) -> Any:
    """An environment string as the type of key's default."""
    default = DEFAULTS[key]
    if key == "SCENARIOS":
        return [p for p in raw.split(os.pathsep) if p]
    if isinstance(default, bool):
        if raw.strip().lower() in ("1", "true", "yes", "on"):
            return True
        if raw.strip().lower() in ("0", "false", "no", "off", ""):
            return False
        raise MockjobsError(f"MOCKJOBS_{key}={raw!r}: expected true or false")
    if isinstance(default, (int, float)):
        try:
            return type(default)(raw)
        except ValueError:
            raise MockjobsError(f"MOCKJOBS_{key}={raw!r}: expected a number") from None
    return raw


def settings(config: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Defaults overlaid with MOCKJOBS_* variables, then with config."""
    environ = os.environ if environ is None else environ
    out = dict(DEFAULTS)
    for key in DEFAULTS:
        raw = environ.get(f"MOCKJOBS_{key}")
        if raw is not None and key != "TIME_SOURCE":
            out[key] = _coerce(key, raw)
    for key, value in (config or {}).items():
        key = key.upper()
        out[key] = value
    if isinstance(out["SCENARIOS"], (str, os.PathLike)):
        out["SCENARIOS"] = [p for p in str(out["SCENARIOS"]).split(os.pathsep) if p]
    context = "/" + str(out["CONTEXT"]).strip("/")
    out["CONTEXT"] = "" if context == "/" else context
    out["SPEED"] = float(out["SPEED"])
    if out["SPEED"] <= 0:
        raise MockjobsError(f"speed must be above 0, not {out['SPEED']}")
    return out


def scenario_folders(cfg: Mapping[str, Any]) -> list[Path]:
    """The folders to load: the configured ones (plus bundled if asked), or the bundled."""
    folders = [Path(p) for p in cfg["SCENARIOS"] or []]
    if not folders or cfg["BUNDLED"]:
        folders.insert(0, bundled_scenarios())
    return folders
