"""The load generator: Debian's wrk, driven over loopback, its summary parsed."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


class WrkError(RuntimeError):
    """wrk is missing or its run failed."""


@dataclass(frozen=True)
class WrkResult:
    """One wrk run: throughput, latency percentiles (ms) and anything that went wrong."""

    rps: float
    requests: int
    p50: float
    p75: float
    p90: float
    p99: float
    errors: int  # socket errors of every kind
    non_2xx: int
    command: str

    @property
    def clean(self) -> bool:
        """True when every request got a 2xx/3xx answer without socket errors."""
        return self.errors == 0 and self.non_2xx == 0 and self.requests > 0


def wrk_path() -> str:
    """The wrk binary; WrkError if it is not installed (`make bench` installs it)."""
    found = shutil.which("wrk")
    if not found:
        raise WrkError("wrk is not installed: run `make bench` (it apt-get installs wrk) or `apt-get install wrk`")
    return found


def version() -> str:
    """wrk's version line."""
    out = subprocess.run([wrk_path(), "--version"], capture_output=True, text=True, check=False)
    return (out.stdout or out.stderr).splitlines()[0].strip()


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not m:
        raise WrkError(f"cannot read the duration {text!r}")
    return float(m.group(1)) * _UNITS[m.group(2)]


def parse(output: str, command: str = "") -> WrkResult:
    """A WrkResult from wrk's summary (run with --latency)."""
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    total = re.search(r"(\d+) requests in", output)
    if not rps or not total:
        raise WrkError(f"unexpected wrk output:\n{output}")
    pct = {p: _ms(v) for p, v in re.findall(r"^\s+(50|75|90|99)%\s+(\S+)\s*$", output, re.M)}
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return WrkResult(
        rps=float(rps.group(1)),
        requests=int(total.group(1)),
        p50=pct.get("50", float("nan")),
        p75=pct.get("75", float("nan")),
        p90=pct.get("90", float("nan")),
        p99=pct.get("99", float("nan")),
        errors=sum(int(x) for x in sock.groups()) if sock else 0,
        non_2xx=int(non2xx.group(1)) if non2xx else 0,
        command=command,
    )


def command(
    url: str, *, threads: int = 1, connections: int = 16, seconds: float = 3, script: Path | None = None
) -> list[str]:
    """The wrk command line used for every contender."""
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s", "--latency", "--timeout", "10s"]
    if script is not None:
        cmd += ["-s", str(script)]
    return [*cmd, url]


def start(url: str, *, threads: int = 1, connections: int = 16, seconds: float = 3, script: Path | None = None) -> Run:
    """A wrk run started in the background (finish() waits for it and parses it)."""
    cmd = command(url, threads=threads, connections=connections, seconds=seconds, script=script)
    shown = " ".join(cmd)
    cmd[0] = wrk_path()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return Run(proc, shown, seconds)


@dataclass
class Run:
    """A running wrk process."""

    proc: subprocess.Popen[str]
    shown: str
    seconds: float

    def finish(self) -> WrkResult:
        """Wait for wrk and parse its summary."""
        try:
            out, err = self.proc.communicate(timeout=self.seconds + 60)
        except subprocess.TimeoutExpired:
            self.abort()
            raise WrkError(f"{self.shown} did not finish") from None
        if self.proc.returncode != 0:
            raise WrkError(f"{self.shown} failed ({self.proc.returncode}): {err or out}")
        return parse(out, self.shown)

    def abort(self) -> None:
        """Stop this wrk run (its results are dropped)."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.communicate()


def run(
    url: str, *, threads: int = 1, connections: int = 16, seconds: float = 3, script: Path | None = None
) -> WrkResult:
    """One wrk run against url."""
    return start(url, threads=threads, connections=connections, seconds=seconds, script=script).finish()


def post_script(folder: Path, body: str) -> Path:
    """A wrk Lua script that POSTs body as JSON on every request."""
    path = folder / "post.lua"
    lua_body = body.replace("\\", "\\\\").replace('"', '\\"')
    path.write_text(f'wrk.method = "POST"\nwrk.body = "{lua_body}"\nwrk.headers["Content-Type"] = "application/json"\n')
    return path
