"""mockjobs' gunicorn settings: ``gunicorn -c python:mockjobs.gunicorn_conf 'mockjobs:create_app()'``.

The repository root's ``gunicorn.conf.py`` (which gunicorn reads by itself, so ``gunicorn
app:app`` from the root) imports these, and ``mockjobs serve`` loads them the same way before
its own options. Command-line options still override them.

- ``worker_class``/``threads``: gthread, so a delayed answer (a fault's ``delay``) holds one
  thread of its worker, not the worker; other clients' polls go on meanwhile.
- ``on_starting``: with neither ``MOCKJOBS_STATE`` nor ``MOCKJOBS_STORE`` set, the master makes
  one temporary SQLite state file and exports it as ``MOCKJOBS_STATE`` before any worker is
  forked, so every worker (and every worker gunicorn starts later) builds its app on that one
  state. With ``--preload`` (and in ``mockjobs serve``) the app is built in the master before
  this hook runs: its temporary state is made there, the workers inherit it by fork, and the
  master removes it when it ends; the hook then has nothing to do.
- ``on_exit``: the master removes the file on_starting made.

gunicorn reads the names of its settings from this module and ignores the rest; the settings
are the names in ``__all__``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from mockjobs.config import temporary_state

if TYPE_CHECKING:
    from gunicorn.arbiter import Arbiter

__all__ = ["worker_class", "threads", "on_starting", "on_exit"]

worker_class = "gthread"
threads = 4

_EXPORTED: list[Path] = []  # the temporary state file this master made and exported


def on_starting(server: Arbiter) -> None:
    """Without a state or store in the environment, make one temporary state file for all the workers."""
    if server.cfg.preload_app or os.environ.get("MOCKJOBS_STATE") or os.environ.get("MOCKJOBS_STORE"):
        return
    state = temporary_state()
    os.environ["MOCKJOBS_STATE"] = str(state)  # what every worker's create_app reads (from_prefixed_env)
    _EXPORTED.append(state)
    server.log.info("mockjobs: every worker shares the temporary state %s", state)


def on_exit(server: Arbiter) -> None:
    """Remove the temporary state file on_starting made."""
    while _EXPORTED:
        state = _EXPORTED.pop()
        shutil.rmtree(state.parent, ignore_errors=True)
        if os.environ.get("MOCKJOBS_STATE") == str(state):
            del os.environ["MOCKJOBS_STATE"]
