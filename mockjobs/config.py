"""Settings, one path for `mockjobs serve`, `gunicorn app:app` and `create_app(config)`:
DEFAULTS, then MOCKJOBS_* environment variables, then explicit options."""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from flask import Config

from .errors import MockjobsError
from .limits import MAX_SPEED, MIN_SPEED

DEFAULTS: dict[str, Any] = {
    "SCENARIOS": None,  # folders (list, or ':'-separated); None: the bundled scenarios
    "BUNDLED": False,  # with SCENARIOS, also serve the bundled ones
    "CONTEXT": "/arcgis",
    "SPEED": 1.0,
    "STATE": None,  # SQLite file, short for STORE sqlite:///FILE; None: a temporary one per server
    "STORE": None,  # sqlite:///PATH or redis://HOST:PORT/DB; None: see STATE
    "JOURNAL_MAX": 100_000,  # request journal entries kept (the oldest go first)
    "HTTP_ERRORS": False,  # real HTTP statuses on ArcGIS errors instead of 200
    "AUTH": False,  # token security: generateToken, and a token on every other request under CTX
    "USER": "admin:admin",  # NAME:PASSWORD that generateToken accepts
    "AUTH_UNKNOWN_PATHS": "499",  # under AUTH, a path nothing answers: "499" (token first) or "404"
    "CORS_ORIGINS": "",  # origins allowed by CORS under CTX ("A,B" or a list); empty: every origin
    "RELOAD_INTERVAL": 1.0,  # seconds between scans of the scenario folders; 0: never
    "CURRENT_VERSION": 11.3,
    "FULL_VERSION": "11.3.0",
    "OWNING_SYSTEM_URL": "",  # empty: the request's own host
    "PJSON_INDENT": 2,
    "JOURNAL": True,
    "TIME_SOURCE": None,  # an object with now_ms(); None: real time
    "HOST": "127.0.0.1",  # the address the server is bound to: loopback, or else a control token is needed
    "CONTROL_TOKEN": "",  # the token (Authorization: Bearer T) the control API and dashboard need
    "CONTROL_OPEN": False,  # bound beyond loopback without a token, on purpose
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


def static_dir() -> Path:
    """The folder of the pages' scripts and style sheet (served under /static)."""
    return package_dir("static")


def _coerce(key: str, raw: Any) -> Any:
    """An environment value (as Flask's from_prefixed_env read it: JSON, else text) as the type of key's default."""
    default = DEFAULTS[key]
    if key == "SCENARIOS":
        return [str(p) for p in raw] if isinstance(raw, list) else [p for p in str(raw).split(os.pathsep) if p]
    if default is None and not isinstance(raw, str):
        return str(raw)
    if isinstance(default, bool):
        if isinstance(raw, (bool, int)) and raw in (0, 1):
            return bool(raw)
        if str(raw).strip().lower() in ("1", "true", "yes", "on"):
            return True
        if str(raw).strip().lower() in ("0", "false", "no", "off", ""):
            return False
        raise MockjobsError(f"MOCKJOBS_{key}={raw!r}: expected true or false")
    if isinstance(default, (int, float)):
        try:
            return type(default)(raw)
        except (TypeError, ValueError):
            raise MockjobsError(f"MOCKJOBS_{key}={raw!r}: expected a number") from None
    return raw


def from_environment() -> dict[str, Any]:
    """The MOCKJOBS_* variables that name settings, read by Flask's Config.from_prefixed_env."""
    env = Config(".")
    env.from_prefixed_env("MOCKJOBS")
    return {key: _coerce(key, value) for key, value in env.items() if key in DEFAULTS and key != "TIME_SOURCE"}


def settings(config: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The one configuration path: defaults, then MOCKJOBS_* variables, then config (explicit options)."""
    out = dict(DEFAULTS)
    out.update(from_environment())
    for key, value in (config or {}).items():
        out[key.upper()] = value
    if isinstance(out["SCENARIOS"], (str, os.PathLike)):
        out["SCENARIOS"] = [p for p in str(out["SCENARIOS"]).split(os.pathsep) if p]
    context = "/" + str(out["CONTEXT"]).strip("/")
    out["CONTEXT"] = "" if context == "/" else context
    out["SPEED"] = float(out["SPEED"])
    if not MIN_SPEED <= out["SPEED"] <= MAX_SPEED:
        raise MockjobsError(f"speed must be between {MIN_SPEED:g} and {MAX_SPEED:g}, not {out['SPEED']}")
    if int(out["JOURNAL_MAX"]) < 1:
        raise MockjobsError(f"the journal bound must be at least 1, not {out['JOURNAL_MAX']}")
    return out


def scenario_folders(cfg: Mapping[str, Any]) -> list[Path]:
    """The folders to load: the configured ones (plus bundled if asked), or the bundled."""
    folders = [Path(p) for p in cfg["SCENARIOS"] or []]
    if not folders or cfg["BUNDLED"]:
        folders.insert(0, bundled_scenarios())
    return folders


# --------------------------------------------------------------------------- temporary state

UNSHARED_UNDER_GUNICORN = (
    "under gunicorn, mockjobs needs its gunicorn settings or a state its workers share:"
    " add -c python:mockjobs.gunicorn_conf (one temporary state for every worker),"
    " or set MOCKJOBS_STATE=FILE or MOCKJOBS_STORE=URL"
)


def refuse_unshared_state() -> None:
    """Refuse a temporary state under gunicorn started without mockjobs' settings (mockjobs.gunicorn_conf).

    gunicorn sets SERVER_SOFTWARE in its master; loading the settings imports the module there,
    so it is in sys.modules of the master and of every worker forked from it.

    Their ``on_starting`` hook makes one state for every worker and exports it as
    MOCKJOBS_STATE; without it each worker would build its app on a state of its own, and a
    job created through one worker would be unknown to the others (and lost when its worker
    is replaced). With ``--preload`` the workers would share the master's, but this process
    cannot tell a preloading master from a worker without the stack or /proc, so that is
    refused too: one rule, and the message says what to add.
    """
    if os.environ.get("SERVER_SOFTWARE", "").startswith("gunicorn") and "mockjobs.gunicorn_conf" not in sys.modules:
        raise MockjobsError(UNSHARED_UNDER_GUNICORN)


def temporary_state() -> Path:
    """A state file in a fresh folder, removed when the process that made it ends (not by its forked children)."""
    folder = Path(tempfile.mkdtemp(prefix="mockjobs-"))
    atexit.register(_remove_if_owner, folder, os.getpid())
    return folder / "state.db"


def _remove_if_owner(folder: Path, pid: int) -> None:
    """Remove folder at exit, only in the process that made it (not in forked workers)."""
    if os.getpid() == pid:
        shutil.rmtree(folder, ignore_errors=True)
