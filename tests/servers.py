"""Real servers for tests: start `mockjobs serve` or gunicorn on port 0, talk HTTP, always stop.

Use the ``launcher(request)`` helper from a fixture (it stops every server at teardown)::

    @pytest.fixture
    def launch(request): return servers.launcher(request)

    def test_x(launch):
        srv = launch.serve("--workers", "2")
        assert srv.get("/__mock/health").json()["status"] == "ok"

Every request opens a new connection (``Connection: close``) and has a timeout, so requests
spread over the workers and no test can hang.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
MOCKJOBS = str(BIN / "mockjobs")
GUNICORN = str(BIN / "gunicorn")
TIMEOUT = 10.0  # seconds for one HTTP request
START_TIMEOUT = 30.0  # seconds for a server to print its URL and answer

_URL = re.compile(r"(?:serving on|Listening at:) (https?://\S+)")
_CERT = re.compile(r"certificate: (\S+) \(SHA-256 ")
_RUNNING: set[Server] = set()


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a server: this one without MOCKJOBS_*/gunicorn settings, plus extra."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("MOCKJOBS_", "GUNICORN_")) and k != "SERVER_SOFTWARE"
    }
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


class Server:
    """One server process (and its workers), with its output collected line by line."""

    def __init__(self, argv: list[str], *, cwd: str | os.PathLike[str] | None = None, env: dict[str, str]) -> None:
        self.argv = argv
        self.lines: list[str] = []
        self.url = ""
        self.verify: bool | str = True  # the certificate an https `mockjobs serve` printed (see wait_ready)
        self._changed = threading.Condition()
        self.proc = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            start_new_session=True,  # its own process group: stop() can reach stray workers
        )
        _RUNNING.add(self)
        self._reader = threading.Thread(target=self._read, name=f"output of {self.proc.pid}", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    @property
    def output(self) -> str:
        """Everything the server printed so far (stdout and stderr)."""
        with self._changed:
            return "\n".join(self.lines)

    def wait_for(self, pattern: str, timeout: float = START_TIMEOUT, start: int = 0) -> re.Match[str]:
        """The first match of pattern in the output lines from line start on, waiting for it."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for line in self.lines[start:]:
                    found = regex.search(line)
                    if found:
                        return found
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self._reader.is_alive()):
                    raise AssertionError(f"no {pattern!r} in the output of {self.argv}:\n{self.output}")
                self._changed.wait(min(left, 0.2))

    def wait_ready(self, timeout: float = START_TIMEOUT) -> Server:
        """Wait for the printed URL, then for /__mock/health to answer."""
        self.url = self.wait_for(_URL.pattern, timeout).group(1).rstrip("/")
        if self.url.startswith("https://"):
            self.verify = self.wait_for(_CERT.pattern, timeout).group(1)
        deadline = time.monotonic() + timeout
        while True:
            try:
                if self.get("/__mock/health", timeout=2).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise AssertionError(f"{self.url} never answered:\n{self.output}")
            time.sleep(0.05)

    # ------------------------------------------------------------------ HTTP

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """One request on a new connection; path is relative to the server's URL."""
        kwargs.setdefault("timeout", TIMEOUT)
        kwargs.setdefault("verify", self.verify)
        headers = {"Connection": "close", **kwargs.pop("headers", {})}
        return requests.request(method, self.url + path, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, json: Any = None, **kwargs: Any) -> requests.Response:
        """A control-API write: always JSON ({} when there is nothing to send), as SPEC section 10 asks."""
        return self.request("POST", path, json={} if json is None else json, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", path, **kwargs)

    def worker_pids(self, count: int, timeout: float = 15.0) -> set[int]:
        """The pids of count workers, asking /__mock/health in parallel until that many answered."""
        seen: set[int] = set()
        deadline = time.monotonic() + timeout
        while len(seen) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"only workers {sorted(seen)} answered, expected {count}")
            seen.update(r.json()["pid"] for r in self.parallel(lambda _: self.get("/__mock/health"), range(16)))
        return seen

    def on_every_worker(
        self,
        ask: Callable[[Server], requests.Response],
        pids: set[int],
        check: Callable[[requests.Response], bool],
        timeout: float = 5.0,
    ) -> dict[int, requests.Response]:
        """Ask until every worker of pids gave an answer that passes check (the last per worker)."""
        good: dict[int, requests.Response] = {}
        deadline = time.monotonic() + timeout
        last: dict[int, requests.Response] = {}
        while set(good) != pids:
            if time.monotonic() > deadline:
                bad = {pid: r.text[:300] for pid, r in last.items() if pid not in good}
                raise AssertionError(f"workers {sorted(pids - set(good))} never passed; last answers {bad}")
            for r in self.parallel(lambda _: ask(self), range(8)):
                pid = int(r.headers["X-Mockjobs-Worker"])
                last[pid] = r
                if check(r):
                    good[pid] = r
                else:
                    good.pop(pid, None)
            time.sleep(0.05)
        return good

    @staticmethod
    def parallel(fn: Callable[[Any], Any], items: Iterable[Any], threads: int = 8) -> list[Any]:
        """fn over items on a few threads (each request on its own connection)."""
        with ThreadPoolExecutor(threads) as pool:
            return list(pool.map(fn, items))

    # ------------------------------------------------------------------ stopping

    def stop(self, timeout: float = 15.0) -> int:
        """SIGTERM the master and wait; SIGKILL its whole process group if it lingers."""
        proc = self.proc
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout)
        with contextlib.suppress(ProcessLookupError, PermissionError):  # workers left behind, or a stuck master
            os.killpg(proc.pid, signal.SIGKILL)
        code = proc.wait(5)
        self._reader.join(5)
        _RUNNING.discard(self)
        return code


class Launcher:
    """Starts servers for one test and stops them all at its end."""

    def __init__(self) -> None:
        self.servers: list[Server] = []

    def start(
        self,
        argv: list[str],
        *,
        cwd: str | os.PathLike[str] | None = None,
        env: Mapping[str, str] | None = None,
        ready: bool = True,
    ) -> Server:
        """Start argv with a clean environment; wait until it answers unless ready=False."""
        server = Server(argv, cwd=cwd or REPO, env=clean_env(env))
        self.servers.append(server)
        return server.wait_ready() if ready else server

    def serve(self, *args: str, **kwargs: Any) -> Server:
        """`mockjobs serve --port 0 ARGS` (reload interval 0.25 s unless given)."""
        argv = [MOCKJOBS, "serve", "--port", "0", *args]
        if "--reload-interval" not in args:
            argv += ["--reload-interval", "0.25"]
        return self.start(argv, **kwargs)

    def gunicorn(self, target: str, *args: str, **kwargs: Any) -> Server:
        """`gunicorn TARGET --bind 127.0.0.1:0 ARGS`."""
        return self.start([GUNICORN, target, "--bind", "127.0.0.1:0", *args], **kwargs)

    def stop_all(self) -> None:
        """Stop every server this launcher started."""
        for server in self.servers:
            server.stop()


def launcher(request: pytest.FixtureRequest) -> Launcher:
    """A Launcher whose servers are stopped when the requesting test ends."""
    launch = Launcher()
    request.addfinalizer(launch.stop_all)
    return launch


def wait_until(check: Callable[[], Any], timeout: float = 5.0, what: str = "condition") -> Any:
    """Poll check until it returns something truthy; fail after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


@atexit.register
def _kill_leftovers() -> None:
    """Never leave a server running after the test session (e.g. after Ctrl-C)."""
    for server in list(_RUNNING):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(server.proc.pid, signal.SIGKILL)
