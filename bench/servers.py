"""Server processes for the bench: start, wait until they answer, measure memory, stop."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def mockjobs_command() -> list[str]:
    """`mockjobs serve` from this interpreter's environment (the console script if there is one)."""
    script = Path(sys.executable).with_name("mockjobs")
    return [str(script)] if script.exists() else [sys.executable, "-m", "mockjobs.cli"]


@dataclass
class Server:
    """One gunicorn server started by the bench (a process group of its own)."""

    name: str
    command: list[str]
    port: int
    log: Path
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    ready_after: float = 0.0  # seconds from spawn to the first answer of ready_path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, ready_path: str, timeout: float = 120.0, ready: Any = None) -> Server:
        """Spawn the server and wait until GET ready_path answers 200 (and ready(body) holds)."""
        env = {**os.environ, **self.env}
        with open(self.log, "ab") as out:
            self.started = time.perf_counter()
            self.proc = subprocess.Popen(
                self.command, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )
        deadline = self.started + timeout
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited ({self.proc.returncode}); see {self.log}:\n{self.tail()}")
            try:
                status, body = get(self.base + ready_path, timeout=2)
            except OSError:
                time.sleep(0.02)
                continue
            if status == 200 and (ready is None or ready(body)):
                self.ready_after = time.perf_counter() - self.started
                return self
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer {ready_path} within {timeout:.0f}s; see {self.log}")

    def tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def pids(self) -> list[int]:
        """The gunicorn master (the process the bench started) and its workers."""
        if self.proc is None or self.proc.poll() is not None:
            return []
        master = self.proc.pid
        return [master, *children(master)]

    def memory(self) -> dict[str, float]:
        """RSS and PSS in MiB, summed over master and workers (PSS counts shared pages once)."""
        rss = pss = 0
        for pid in self.pids():
            rss += _status_kb(pid, "VmRSS")
            pss += _rollup_kb(pid, "Pss")
        return {"rss_mib": rss / 1024, "pss_mib": pss / 1024, "processes": float(len(self.pids()))}

    def connections(self) -> dict[int, int]:
        """Established client connections held by each worker (pid -> count), from /proc."""
        inodes = established_inodes(self.port)
        out = {}
        for pid in self.pids()[1:]:
            held = 0
            try:
                for fd in os.listdir(f"/proc/{pid}/fd"):
                    with contextlib.suppress(OSError):
                        link = os.readlink(f"/proc/{pid}/fd/{fd}")
                        if link.startswith("socket:[") and link[8:-1] in inodes:
                            held += 1
            except OSError:
                continue
            out[pid] = held
        return out

    def cpu_seconds(self) -> float:
        """User + system CPU seconds used so far by master and workers (from /proc)."""
        return sum(_cpu_ticks(pid) for pid in self.pids()) / _TICKS

    def stop(self, timeout: float = 15.0) -> None:
        """TERM the master (gunicorn stops its workers), KILL its group if it lingers."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)  # the group this bench created
            self.proc.wait(5)


def children(pid: int) -> list[int]:
    """Direct children of pid, from /proc."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[1]) == pid:
            out.append(int(entry))
    return sorted(out)


def established_inodes(port: int) -> set[str]:
    """Socket inodes of the established TCP connections whose local port is port."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 9 and fields[3] == "01" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                found.add(fields[9])
    return found


_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _cpu_ticks(pid: int) -> int:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[11]) + int(fields[12])  # utime, stime


def _status_kb(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _rollup_kb(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def get(url: str, timeout: float = 30) -> tuple[int, bytes]:
    """(status, body) of a GET; HTTP errors are answers too."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def post_json(url: str, data: Any, timeout: float = 30) -> tuple[int, Any]:
    """(status, decoded JSON) of a POST with a JSON body."""
    req = urllib.request.Request(
        url, data=json.dumps(data).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def timed_get(url: str, timeout: float = 60) -> tuple[float, int, int]:
    """(seconds, status, body length) of one GET."""
    t0 = time.perf_counter()
    status, body = get(url, timeout)
    return time.perf_counter() - t0, status, len(body)


def mockjobs_server(name: str, folder: Path, dirs: list[Path], state: Path | None = None, *options: str) -> Server:
    """`mockjobs serve DIR... --port P --state FILE [OPTIONS]`: exactly the command users run."""
    port = free_port()
    cmd = [*mockjobs_command(), "serve", *map(str, dirs), "--port", str(port), *options]
    if state is not None:
        cmd += ["--state", str(state)]
    return Server(name, cmd, port, folder / f"{name}.log")


class RedisProcess:
    """Debian's redis-server on a free loopback port, for the Redis-backed contenders."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        folder.mkdir(parents=True, exist_ok=True)
        argv = ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--dir", str(folder)]
        argv += ["--save", "", "--appendonly", "no"]
        with open(folder / "redis.log", "ab") as out:
            self.proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 30
        while self.info("memory") is None:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start (see {folder / 'redis.log'})")
            time.sleep(0.05)

    def info(self, section: str) -> dict[str, str] | None:
        """INFO section as a mapping (None while the server does not answer), over a raw socket."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=5) as sock:
                sock.sendall(f"INFO {section}\r\n".encode())
                data = b""
                while not data.endswith(b"\r\n") or data.count(b"\r\n") < 2:
                    chunk = sock.recv(65536)
                    if not chunk:
                        break
                    data += chunk
        except OSError:
            return None
        lines = data.decode().split("\r\n")[1:]
        return dict(line.split(":", 1) for line in lines if ":" in line)

    def memory_mib(self) -> float:
        """Memory Redis uses for the data (used_memory), in MiB."""
        return int((self.info("memory") or {}).get("used_memory", "0")) / 2**20

    def stop(self) -> None:
        """TERM it and wait."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def baseline_server(name: str, kind: str, folder: Path, docs: Path) -> Server:
    """A baseline (flask or wsgi) under the same gunicorn settings (see bench.serve)."""
    port = free_port()
    cmd = [sys.executable, "-m", "bench.serve", kind, "--docs", str(docs), "--port", str(port)]
    root = str(Path(__file__).resolve().parent.parent)
    env = {"PYTHONPATH": root + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return Server(name, cmd, port, folder / f"{name}.log", env=env)
