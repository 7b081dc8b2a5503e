"""Each server process says it is attached to the store, so sharing one is never silent."""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import socket
import threading
import time
import weakref
from collections.abc import Mapping
from typing import Any

from . import __version__
from .errors import MockjobsError
from .store import Store

log = logging.getLogger("mockjobs")
INTERVAL_S = 5.0  # seconds between heartbeats; /__mock/health lists servers seen within 30 s


class Heartbeat:
    """Registers this process (host, port, pid, version) in the store and refreshes it in a daemon thread."""

    def __init__(self, store: Store, interval_s: float = INTERVAL_S) -> None:
        self.store = store
        self.interval_s = interval_s
        self._pid = 0
        self._lock = threading.Lock()
        self.server_id = ""
        self.info: dict[str, Any] = {}

    def ensure(self, environ: Mapping[str, Any]) -> None:
        """Start beating in this process (once, after any fork), naming the port the request came to."""
        if self._pid == os.getpid():
            return
        with self._lock:
            if self._pid == os.getpid():
                return
            self._pid = os.getpid()
            host = socket.gethostname()
            port = int(environ.get("SERVER_PORT") or 0)
            self.info = {"host": host, "port": port, "pid": self._pid, "version": __version__}
            self.server_id = f"{host}:{port}:{self._pid}"
            self.beat()
            beat = threading.Thread(target=_run, args=(weakref.ref(self), self._pid), name="mockjobs-heartbeat")
            beat.daemon = True
            beat.start()
            atexit.register(_leave, weakref.ref(self), self._pid)

    def beat(self) -> None:
        """Say once that this server is alive (a store that is down is retried at the next beat)."""
        try:
            self.store.heartbeat(self.server_id, self.info, time.time())
        except MockjobsError as exc:
            log.warning("heartbeat: %s", exc)
        except Exception as exc:  # a heartbeat never takes anything down (e.g. a store closed meanwhile)
            log.debug("heartbeat failed: %r", exc)


def _run(ref: weakref.ref[Heartbeat], pid: int) -> None:
    """The beating thread: it ends with its process's heartbeat object (an app dropped, a fork)."""
    while True:
        heartbeat = ref()
        if heartbeat is None or heartbeat._pid != pid:
            return
        interval = heartbeat.interval_s
        del heartbeat
        time.sleep(interval)
        heartbeat = ref()
        if heartbeat is not None:
            heartbeat.beat()
        del heartbeat


def _leave(ref: weakref.ref[Heartbeat], pid: int) -> None:
    """Leave the servers' list at a clean exit (else it drops out 30 s after the last beat)."""
    heartbeat = ref()
    if heartbeat is not None and os.getpid() == pid:
        with contextlib.suppress(Exception):
            heartbeat.store.forget_server(heartbeat.server_id)
