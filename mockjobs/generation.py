"""A write counter shared by every worker, so readers can cache what has not changed.

Writers bump it after each committed write; a reader tags what it caches with the counter it
read before and after its read, and trusts an entry only while the counter still says so.
"""

from __future__ import annotations

import fcntl
import mmap
import os
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_COUNTER = struct.Struct("<Q")
CHANGED, ADDED = 0, 1  # the counters: rows changed or removed; rows only added
_SLOTS = 2
_SIZE = _COUNTER.size * _SLOTS


class Generation:
    """64-bit write counters in a small memory-mapped file beside the state database.

    Two counters, so that adding rows (a new job) does not expire what readers cached of
    the rows that were already there.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._pid = 0
        self._fd = -1
        self._map: mmap.mmap | None = None
        self._lock = threading.Lock()
        self._open()

    def _open(self) -> None:
        """Map the file in this process (after a fork, a process opens its own lock)."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        if os.fstat(fd).st_size < _SIZE:
            os.ftruncate(fd, _SIZE)
        self._fd, self._pid = fd, os.getpid()
        self._map = mmap.mmap(fd, _SIZE)

    def value(self, slot: int = CHANGED) -> int:
        """One counter now."""
        assert self._map is not None
        return _COUNTER.unpack_from(self._map, slot * _COUNTER.size)[0]

    @contextmanager
    def writing(self, slot: int = CHANGED) -> Iterator[None]:
        """Hold the writers' lock around a write, then bump the slot's counter once it is done."""
        with self._lock:  # threads of one process take turns; flock orders the processes
            if self._pid != os.getpid():
                self._open()  # a forked worker locks through its own open file, never its parent's
            fd = self._fd
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                assert self._map is not None
                _COUNTER.pack_into(self._map, slot * _COUNTER.size, self.value(slot) + 1)
                fcntl.flock(fd, fcntl.LOCK_UN)
