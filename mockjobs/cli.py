"""The `mockjobs` command: serve scenarios under gunicorn, check scenario files, record or import jobs."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__
from .config import DEFAULTS

if TYPE_CHECKING:
    from .tls import Certificate


def main(argv: Sequence[str] | None = None) -> int:
    """Run the mockjobs command line.

    ``mockjobs serve [DIR ...]`` serves scenario folders (the bundled ones by default)
    under gunicorn; ``mockjobs check PATH ...`` validates scenario files and exits 1 if any
    is wrong; ``mockjobs record JOB_URL`` polls a real job and writes a scenario that replays
    it; ``mockjobs import JOB.json`` writes one from a finished job document.
    ``mockjobs --help`` lists every option.
    """
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    return int(args.func(args))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mockjobs", description="A mock of ArcGIS Mission Server's Job resource.")
    parser.add_argument("--version", action="version", version=f"mockjobs {__version__}")
    sub = parser.add_subparsers(dest="command")

    serve = sub.add_parser("serve", help="serve scenarios under gunicorn")
    serve.add_argument(
        "dirs", nargs="*", metavar="DIR", help="scenario folders or files (default: the bundled scenarios)"
    )
    # Options that are settings default to None: only those given override MOCKJOBS_* variables.
    d = DEFAULTS
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=_port, default=5000, help="port (default 5000; 0 picks a free one)")
    serve.add_argument("--workers", type=_positive, default=2, help="gunicorn worker processes (default 2)")
    serve.add_argument("--threads", type=_positive, default=4, help="threads per worker (default 4; 1: sync workers)")
    serve.add_argument("--context", help=f"context path (default {d['CONTEXT']})")
    serve.add_argument("--speed", type=float, help=f"default speed of new jobs (default {d['SPEED']:g})")
    serve.add_argument(
        "--store",
        metavar="URL",
        help="shared state: sqlite:///PATH (default: a temporary file) or redis://HOST:PORT/DB",
    )
    serve.add_argument("--state", metavar="FILE", help="SQLite file that keeps jobs and clock across restarts")
    serve.add_argument(
        "--journal-max", type=_positive, metavar="N", help=f"request journal entries kept (default {d['JOURNAL_MAX']})"
    )
    serve.add_argument("--bundled", action="store_true", default=None, help="serve the bundled scenarios beside DIRs")
    serve.add_argument(
        "--auth", action="store_true", default=None, help="token security: generateToken, then a token on each request"
    )
    serve.add_argument("--user", metavar="NAME:PASSWORD", help=f"the user of --auth ({d['USER']})")
    serve.add_argument(
        "--http-errors", action="store_true", default=None, help="answer ArcGIS errors with real HTTP statuses"
    )
    serve.add_argument(
        "--cors-origins",
        metavar="A,B",
        help="origins allowed by CORS under the context path, e.g. http://localhost:3000 (default: every origin)",
    )
    serve.add_argument("--tls", action="store_true", help="serve HTTPS with a self-signed certificate made at start")
    serve.add_argument("--certfile", help="serve HTTPS with this PEM certificate (with --keyfile)")
    serve.add_argument("--keyfile", help="the PEM private key of --certfile")
    serve.add_argument(
        "--reload-interval",
        type=float,
        help=f"seconds between scans for scenario edits (default {d['RELOAD_INTERVAL']:g}; 0: off)",
    )
    serve.add_argument("--log-level", default="info", help="gunicorn log level (default info)")
    serve.add_argument(
        "--control-token",
        metavar="TOKEN",
        help="the control API and dashboard need Authorization: Bearer TOKEN (or set MOCKJOBS_CONTROL_TOKEN)",
    )
    serve.add_argument(
        "--control-open",
        action="store_true",
        default=None,
        help="bound beyond loopback, serve the control API without a token",
    )
    serve.set_defaults(func=_serve)

    check = sub.add_parser("check", help="validate scenario files; exit 1 on errors")
    check.add_argument("paths", nargs="+", metavar="PATH", help="scenario files or folders")
    check.add_argument("--strict", action="store_true", help="warnings (e.g. events out of order) are errors too")
    check.add_argument(
        "--bundled", action="store_true", help="check beside the bundled scenarios, as the pytest fixture serves them"
    )
    check.set_defaults(func=_check)

    record = sub.add_parser("record", help="poll a real job until it ends; write a scenario that replays it")
    record.add_argument("url", metavar="JOB_URL", help="the job resource, e.g. https://host/arcgis/rest/jobs/<jobId>")
    record.add_argument("--token", help="token, sent as X-Esri-Authorization: Bearer and as the token parameter")
    record.add_argument(
        "--interval", type=_duration, default=1000.0, help="time between polls: 1s (default), 250ms, 2.5, ..."
    )
    record.add_argument("--timeout", type=_duration, help="give up (exit 1) if the job is not finished by then")
    record.add_argument("--out", metavar="FILE", help="write the scenario to FILE (default: standard output)")
    record.add_argument(
        "--name", type=_name, help="scenario name (default: from the job type, e.g. add-mission-recorded)"
    )
    record.set_defaults(func=_record)

    imp = sub.add_parser("import", help="a scenario from one finished job document (JSON, pjson or a page quoting it)")
    imp.add_argument("path", metavar="JOB.json", help="file holding the job document")
    imp.add_argument("--out", metavar="FILE", help="write the scenario to FILE (default: standard output)")
    imp.add_argument("--name", type=_name, help="scenario name (default: the file's stem)")
    imp.set_defaults(func=_import)
    return parser


def _duration(text: str) -> float:
    """An argparse type: a duration above 0 in the scenario forms (1s, 250ms, 2.5, 1m30s), in ms."""
    from .durations import parse_ms
    from .errors import DurationError

    try:
        ms = parse_ms(text)
    except DurationError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if ms <= 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, not {text!r}")
    return ms


def _name(text: str) -> str:
    """An argparse type: a scenario name, [a-z0-9][a-z0-9._-]*."""
    from .scenarios import NAME_RE

    if not NAME_RE.match(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a valid name; use [a-z0-9][a-z0-9._-]*")
    return text


def _record(args: argparse.Namespace) -> int:
    from .recorder import record_command

    return record_command(
        args.url, token=args.token, interval_ms=args.interval, timeout_ms=args.timeout, out=args.out, name=args.name
    )


def _import(args: argparse.Namespace) -> int:
    from .recorder import import_command

    return import_command(args.path, out=args.out, name=args.name)


def _positive(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, not {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _port(text: str) -> int:
    """An argparse type: a TCP port, 0 for any free one."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, not {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 0 to 65535, not {value}")
    return value


def _check(args: argparse.Namespace) -> int:
    import logging

    from .catalog import Registry
    from .config import bundled_scenarios

    logging.getLogger("mockjobs").addHandler(logging.NullHandler())
    logging.getLogger("mockjobs").propagate = False

    missing = [p for p in args.paths if not Path(p).exists()]
    for p in missing:
        print(f"{p}: no such file or folder", file=sys.stderr)
    folders = [Path(p) for p in args.paths if Path(p).exists()]
    bundled = bundled_scenarios().resolve()
    if args.bundled:
        folders = [bundled, *(f for f in folders if f.resolve() != bundled)]
    registry = Registry(folders, store=None, labels={str(bundled): "scenarios"} if args.bundled else None)
    cat = registry.catalog
    for err in cat.errors:
        print(err)
    warnings = [w for sc in cat.scenarios.values() for w in sc.warnings]
    for warning in sorted(warnings, key=lambda w: (w.file, w.line)):
        print(f"{warning}" if args.strict else f"warning: {warning}")
    names = ", ".join(sorted(cat.scenarios)) or "none"
    bad = len(cat.errors) + len(missing) + (len(warnings) if args.strict else 0)
    summary = f"{len(cat.scenarios)} scenario(s) in {cat.files} file(s): {names}"
    print(("ok: " if not bad else f"{bad} error(s); ") + summary, file=sys.stderr if bad else sys.stdout)
    return 1 if bad else 0


def _serve(args: argparse.Namespace) -> int:
    import logging
    import sqlite3

    from .config import from_environment, settings
    from .errors import MockjobsError
    from .exposure import check_settings
    from .store import store_url

    logging.basicConfig(level=logging.INFO, format="[%(asctime)s] [%(process)d] [mockjobs] %(message)s")
    for d in args.dirs:
        if not Path(d).exists():
            print(f"mockjobs: no such scenario folder: {d}", file=sys.stderr)
            return 2
    if bool(args.certfile) != bool(args.keyfile):
        print("mockjobs: --certfile and --keyfile go together", file=sys.stderr)
        return 2
    if args.state and args.store:
        print("mockjobs: give either --store URL or --state FILE, not both", file=sys.stderr)
        return 2
    given = {
        "SCENARIOS": [str(Path(d).resolve()) for d in args.dirs] or None,
        "BUNDLED": args.bundled,
        "CONTEXT": args.context,
        "SPEED": args.speed,
        "STORE": store_url(args.store, args.state),
        "JOURNAL_MAX": args.journal_max,
        "HTTP_ERRORS": args.http_errors,
        "AUTH": args.auth,
        "USER": args.user,
        "RELOAD_INTERVAL": args.reload_interval,
        "CORS_ORIGINS": args.cors_origins,
        "HOST": args.host,
        "CONTROL_TOKEN": args.control_token,
        "CONTROL_OPEN": args.control_open,
    }
    config: dict[str, Any] = {key: value for key, value in given.items() if value is not None}
    try:  # the settings first: nothing is bound or made for a server that would refuse to start
        environment = from_environment()
        check_settings(settings(config))
        refusal = _port_in_use(args.host, args.port)
    except MockjobsError as exc:
        refusal = str(exc)
    if refusal:
        print(f"mockjobs: {refusal}", file=sys.stderr)
        return 2
    # Without a store, create_app makes a temporary one here in the master (the app is preloaded,
    # as with gunicorn --preload -c python:mockjobs.gunicorn_conf): the workers inherit it, and
    # it goes when the master ends.
    state = args.state or args.store or environment.get("STORE") or environment.get("STATE") or "(a temporary one)"
    tmp = tempfile.mkdtemp(prefix="mockjobs-") if args.tls else None
    master = os.getpid()
    try:
        try:
            cert = _certificate(args, tmp)
            server = _GunicornServer(config, args, cert)
        except MockjobsError as exc:
            print(f"mockjobs: {exc}", file=sys.stderr)
            return 2
        except (OSError, sqlite3.Error) as exc:
            print(f"mockjobs: cannot use the state file {state}: {exc}", file=sys.stderr)
            return 2
        server.run()
    finally:
        # gunicorn workers leave through here too (SystemExit): only the master cleans up
        if tmp and os.getpid() == master:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


def _port_in_use(host: str, port: int) -> str:
    """Why host:port cannot be bound (in use, or no such address), or '' when it can."""
    import errno
    import socket

    if port == 0:
        return ""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        return f"cannot bind to {host}: {exc.strerror or exc}"
    family, _, _, _, address = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn binds
        try:
            sock.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return f"port {port} on {host} is already in use (another server?); stop it, or pick --port N (0: any)"
            return f"cannot bind to {host}:{port}: {exc.strerror or exc}"
    return ""


try:
    from gunicorn.app.base import BaseApplication
except ImportError:  # pragma: no cover - gunicorn is a dependency; Windows lacks it
    BaseApplication = object  # type: ignore[misc,assignment]


def _certificate(args: argparse.Namespace, tmp: str | None) -> Certificate | None:
    """The tls.Certificate to serve HTTPS with (--certfile/--keyfile, or made for --tls); None for HTTP."""
    if args.certfile:
        from .tls import given

        return given(args.certfile, args.keyfile)
    if args.tls:
        from .tls import self_signed

        assert tmp is not None
        return self_signed(Path(tmp) / "tls")
    return None


class _GunicornServer(BaseApplication):  # type: ignore[misc]
    """gunicorn running create_app(config) with the command's options."""

    cert: Certificate | None = None  # the certificate of an https server

    def __init__(self, config: dict[str, Any], args: argparse.Namespace, cert: Certificate | None = None) -> None:
        from .factory import create_app

        self.config_values = config
        self.args = args
        self.cert = cert
        self.application = create_app(config)  # built once in the master; workers fork it
        super().__init__()

    def load_config(self) -> None:
        """mockjobs' gunicorn settings (mockjobs.gunicorn_conf, its hooks too), then the command's options."""
        from . import gunicorn_conf

        for key in gunicorn_conf.__all__:
            self.cfg.set(key, getattr(gunicorn_conf, key))
        a = self.args
        settings = {
            "bind": [f"[{a.host}]:{a.port}" if ":" in a.host else f"{a.host}:{a.port}"],
            "workers": a.workers,
            "threads": a.threads,
            "worker_class": "gthread" if a.threads > 1 else "sync",
            "loglevel": a.log_level,
            "accesslog": None,
            "preload_app": True,
            "when_ready": self._announce,
            "proc_name": "mockjobs",
            "keepalive": 5,
            "control_socket_disable": True,
        }
        if self.cert is not None:  # gunicorn then sets wsgi.url_scheme to https
            settings.update(certfile=str(self.cert.certfile), keyfile=str(self.cert.keyfile))
        for key, value in settings.items():
            if key in self.cfg.settings:  # older gunicorns lack some settings
                self.cfg.set(key, value)

    def load(self) -> Any:
        return self.application

    def _announce(self, server: Any) -> None:
        """Print where the server answers: the dashboard, the REST root and the static jobs."""
        host, port = server.LISTENERS[0].sock.getsockname()[:2]
        shown = f"[{host}]" if ":" in host else host
        base = f"{'https' if self.cert is not None else 'http'}://{shown}:{port}"
        service = self.application.extensions["mockjobs"]
        ctx = self.application.config["CONTEXT"]
        lines = [f"mockjobs {__version__} serving on {base}", f"  dashboard: {base}/", f"  rest:      {base}{ctx}/rest"]
        if self.cert is not None:
            lines.append(f"  certificate: {self.cert.certfile} (SHA-256 {self.cert.fingerprint})")
        for job in service.store.jobs():
            if job.static:
                lines.append(f"  static job ({job.scenario}): {base}{ctx}/rest/jobs/{job.job_id}?f=pjson")
        for err in service.registry.catalog.errors:
            lines.append(f"  scenario error: {err}")
        print("\n".join(lines), flush=True)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
