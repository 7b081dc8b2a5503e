"""Run a baseline app under exactly the gunicorn settings of `mockjobs serve`.

``python -m bench.serve flask|wsgi --docs FILE [mockjobs serve options]``: the options are
parsed by mockjobs' own ``serve`` parser and the settings come from its gunicorn application
class, so the baselines follow any change to them (worker class, workers, threads, preload,
keepalive, ...).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from gunicorn.app.base import BaseApplication

from mockjobs import cli
from mockjobs.config import DEFAULTS

from . import apps


class BaselineServer(cli._GunicornServer):
    """mockjobs' gunicorn application, serving another WSGI app."""

    def __init__(self, application: Any, args: argparse.Namespace) -> None:
        self.config_values = {}
        self.args = args
        self.application = application
        BaseApplication.__init__(self)

    def _announce(self, server: Any) -> None:
        host, port = server.LISTENERS[0].sock.getsockname()[:2]
        print(f"baseline serving on http://{host}:{port}", flush=True)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="python -m bench.serve")
    parser.add_argument("kind", choices=["flask", "wsgi"])
    parser.add_argument("--docs", required=True, help="JSON file: format name -> path of the constant body")
    own, rest = parser.parse_known_args(argv)
    args = cli._parser().parse_args(["serve", *rest])
    os.environ["BENCH_DOCS"] = own.docs
    docs = apps.load_docs(own.docs)
    context = args.context or DEFAULTS["CONTEXT"]  # serve's settings options default to None (the config's)
    app = apps.flask_app(docs, context) if own.kind == "flask" else apps.wsgi_app(docs)
    BaselineServer(app, args).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
