"""Each server process says it is attached to the store, so sharing one is never silent."""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import socket
import threading
import time
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
            threading.Thread(target=self._run, args=(self._pid,), name="mockjobs-heartbeat", daemon=True).start()
            atexit.register(self._leave, self._pid)

    def beat(self) -> None:
        """Say once that this server is alive (a store that is down is retried at the next beat)."""
        try:
            self.store.heartbeat(self.server_id, self.info, time.time())
        except MockjobsError as exc:
            log.warning("heartbeat: %s", exc)

    def _run(self, pid: int) -> None:
        while self._pid == pid:
            time.sleep(self.interval_s)
            self.beat()

    def _leave(self, pid: int) -> None:
        if os.getpid() == pid:
            with contextlib.suppress(Exception):
                self.store.forget_server(self.server_id)
