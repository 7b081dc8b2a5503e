"""Profile the GET hot path of `mockjobs serve` under wrk load with py-spy.

``python -m bench.profile [--seconds 8] [--f json] [--raw FILE]``: starts `mockjobs serve` on a
bench scenario, creates a running job, drives ``GET CTX/rest/jobs/<id>?f=...`` with wrk and
samples every worker with ``py-spy record --subprocesses`` (without pausing the workers;
by default only the thread holding the GIL, i.e. where Python spends its CPU: the idle threads
of a gthread worker otherwise show up as busy). Prints the share of samples under the frames that
matter (inclusive)
and the functions that burn the most samples themselves (self).

py-spy is not a dependency of mockjobs: ``.venv/bin/pip install py-spy``.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from . import scenarios, servers, wrk

# Frames worth naming in a report of the job resource's GET, as "function (file)" prefixes.
WATCH = [
    ("whole request in gunicorn's worker thread", "ThreadWorker.handle (gunicorn/workers/gthread.py"),
    ("  reading and parsing the HTTP request", "Parser.__next__ (gunicorn/http/parser.py"),
    ("  building the WSGI environ", "create (gunicorn/http/wsgi.py"),
    ("  mockjobs FastPath middleware (and what it hands to Flask)", "FastPath.__call__ (mockjobs/fastpath.py"),
    ("    DocumentCache.encoded (job, clock, position, bytes)", "DocumentCache.encoded (mockjobs/fastpath.py"),
    ("      store.get_job", "SqliteStore.get_job (mockjobs/store/sqlite.py"),
    ("        SQLite read of the job row (cache miss)", "SqliteStore._read_job (mockjobs/store/sqlite.py"),
    ("      store.clock", "SqliteStore.clock (mockjobs/store/sqlite.py"),
    ("        SQLite read of the clock (cache miss)", "SqliteStore._read_clock (mockjobs/store/sqlite.py"),
    ("      timeline.position", "position (mockjobs/timeline.py"),
    ("      timeline.render + encode (document cache miss)", "render (mockjobs/timeline.py"),
    ("    journal: MockService.record", "MockService.record (mockjobs/service.py"),
    ("      BatchedJournal.record (held for a batched write)", "BatchedJournal.record (mockjobs/store/batching.py"),
    ("  Flask.wsgi_app (everything in Flask)", "Flask.wsgi_app (flask/app.py"),
    ("    request context push + URL matching", "RequestContext.push (flask/ctx.py"),
    ("    before_request hooks", "Flask.preprocess_request (flask/app.py"),
    ("      format negotiation (request.values)", "negotiate (mockjobs/formats.py"),
    ("    the view: job()", "job (mockjobs/views.py"),
    ("      render_template (f=html)", "render_template (flask/templating.py"),
    ("    response finalisation + after_request hooks", "Flask.finalize_request (flask/app.py"),
    ("    request context pop / teardown", "RequestContext.pop (flask/ctx.py"),
    ("  sending the response (gunicorn)", "Response.write (gunicorn/http/wsgi.py"),
    ("  gunicorn response headers/close", "Response.close (gunicorn/http/wsgi.py"),
]

_FRAME = re.compile(r"^(?P<func>.+?) \((?P<file>.+?)(?::\d+)?\)$")


class ProfileError(RuntimeError):
    """py-spy is missing or could not sample."""


@dataclass
class Profile:
    """Aggregated py-spy samples of the workers."""

    total: int
    inclusive: Counter[str]  # "func (file)" -> samples with it anywhere on the stack
    own: Counter[str]  # "func (file)" -> samples with it on top
    requests_per_s: float = 0.0


def _short(frame: str) -> str:
    m = _FRAME.match(frame)
    if not m:
        return frame
    file = m.group("file")
    for marker in ("site-packages/", "/lib/python3", "/work/main/"):
        if marker in file:
            file = file.split(marker, 1)[1]
            if marker == "/lib/python3":
                file = file.split("/", 1)[1] if "/" in file else file
    return f"{m.group('func')} ({file})"


def parse_raw(text: str) -> Profile:
    """A Profile from py-spy's raw (collapsed) output, worker processes only."""
    total = 0
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    for line in text.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = [f for f in stack.split(";") if not f.startswith("process ")]
        if stack.count("process ") < 2 or not frames:  # the master (arbiter), not a worker
            continue
        n = int(count)
        total += n
        shorts = [_short(f) for f in frames]
        for s in set(shorts):
            inclusive[s] += n
        own[shorts[-1]] += n
    return Profile(total, inclusive, own)


def format_top(p: Profile, own_top: int = 15) -> list[str]:
    """Report lines: watched frames (inclusive %), then the heaviest functions (self %)."""
    lines = [f"{p.total} samples" + (f" at {p.requests_per_s:,.0f} req/s" if p.requests_per_s else "")]
    lines.append("inclusive  frame")
    for label, prefix in WATCH:
        n = sum(v for k, v in p.inclusive.items() if k.startswith(prefix))
        if n:
            lines.append(f"{100 * n / p.total:7.1f}%  {label}")
    lines.append("self       function")
    for name, n in p.own.most_common(own_top):
        lines.append(f"{100 * n / p.total:7.1f}%  {name}")
    return lines


def py_spy() -> str:
    found = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(found).exists():
        raise ProfileError("py-spy is not installed (.venv/bin/pip install py-spy)")
    return found


def profile_get(
    sc_dir: Path,
    tmp: Path,
    *,
    seconds: float = 8.0,
    f: str = "json",
    connections: int = 16,
    raw: Path | None = None,
    gil: bool = True,
) -> Profile:
    """Sample the workers of a fresh `mockjobs serve` while wrk GETs one running job."""
    spy = py_spy()
    srv = servers.mockjobs_server("mockjobs-profile", tmp, [sc_dir], tmp / "profile.db")
    srv.start("/__mock/health")
    try:
        start = int(time.time() * 1000) - scenarios.HALF_HOUR_MS
        status, body = servers.post_json(f"{srv.base}/__mock/jobs", {"scenario": "bench-10", "startTime": start})
        assert status == 201, body
        url = f"{srv.base}/arcgis/rest/jobs/{body['jobId']}?f={f}"
        wrk.run(url, connections=connections, seconds=1)  # warm-up
        out = raw or tmp / "profile.raw.txt"
        result: dict[str, wrk.WrkResult] = {}
        load = threading.Thread(
            target=lambda: result.setdefault("r", wrk.run(url, connections=connections, seconds=seconds + 2))
        )
        load.start()
        time.sleep(0.5)
        cmd = [spy, "record", "--pid", str(srv.pids()[0]), "--subprocesses", "--nonblocking", "--rate", "250"]
        if gil:
            cmd.append("--gil")
        cmd += ["--format", "raw", "--duration", str(int(seconds)), "--output", str(out)]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        load.join()
        if proc.returncode != 0 or not out.exists():
            raise ProfileError(f"py-spy failed: {proc.stderr.strip() or proc.stdout.strip()}")
        prof = parse_raw(out.read_text())
        prof.requests_per_s = result["r"].rps if "r" in result else 0.0
        return prof
    finally:
        srv.stop()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=8)
    p.add_argument("--f", default="json", choices=["json", "pjson", "html"])
    p.add_argument("--connections", type=int, default=16)
    p.add_argument("--raw", type=Path, help="keep py-spy's collapsed stacks here (for flamegraph.pl)")
    p.add_argument("--top", type=int, default=20, help="how many self-time functions to list")
    p.add_argument(
        "--all-threads",
        action="store_true",
        help="sample every thread py-spy thinks is active (default: only the one holding the GIL)",
    )
    a = p.parse_args(argv)
    try:
        wrk.wrk_path()
        py_spy()
    except (wrk.WrkError, ProfileError) as exc:
        print(f"bench.profile: {exc}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="mockjobs-profile-") as tmp_name:
        tmp = Path(tmp_name)
        scenarios.write_main_scenarios(tmp / "scenarios")
        prof = profile_get(
            tmp / "scenarios",
            tmp,
            seconds=a.seconds,
            f=a.f,
            connections=a.connections,
            raw=a.raw,
            gil=not a.all_threads,
        )
    print(f"GET /arcgis/rest/jobs/<id>?f={a.f}, wrk -c{a.connections}, py-spy on the workers:")
    for line in format_top(prof, a.top):
        print("  " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
