"""Server state shared by every worker and host: one contract (`Store`), engines chosen by URL.

``open_store("sqlite:///path/state.db")`` (embedded, one host) or
``open_store("redis://host:6379/0")`` (many hosts, Redis 6.2+). Nothing outside this package
imports an engine module.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

from ..errors import MockjobsError
from .base import JOURNAL_MAX, Journal, OneMomentPerRequest, Store
from .sqlite import SqliteStore

__all__ = ["JOURNAL_MAX", "Journal", "SqliteStore", "Store", "OneMomentPerRequest", "open_store", "store_url"]


def store_url(store: str | None, state: str | os.PathLike[str] | None) -> str | None:
    """The store URL from the STORE and STATE settings (STATE FILE is short for sqlite:///FILE; STORE wins)."""
    if state and not store:
        return f"sqlite:///{Path(state).resolve()}"
    return str(store) if store else None


def open_store(url: str, *, journal_max: int = JOURNAL_MAX) -> Store:
    """The store a URL names: sqlite:///PATH or redis://HOST:PORT/DB."""
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        path = url[len("sqlite:///") :]  # as SQLAlchemy: sqlite:///relative.db, sqlite:////abs/olute.db
        if not url.startswith("sqlite:///") or not path:
            raise MockjobsError(f"store {url!r}: expected sqlite:///path/to/state.db")
        return SqliteStore(path, journal_max=journal_max)
    if scheme in ("redis", "rediss", "unix"):
        from .redis import RedisStore

        return RedisStore(url, journal_max=journal_max)
    raise MockjobsError(f"store {url!r}: expected sqlite:///PATH or redis://HOST:PORT/DB")
