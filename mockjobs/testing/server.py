"""A live mockjobs server in a daemon thread on a free port, for test suites.

Like pytest-httpserver's server class: bound once on port 0 (no race with other processes),
served by werkzeug's threaded server, stopped with :meth:`MockjobsServer.stop`. Nothing here
imports pytest; the plugin (``mockjobs.pytest_plugin``) is a few fixtures over this class.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

    from mockjobs.service import MockService

__all__ = ["AppInstance", "MockjobsServer"]


class AppInstance:
    """One Flask app (one set of scenario folders) with its own state file."""

    def __init__(self, folders: Sequence[Path], config: Mapping[str, Any], state_dir: Path) -> None:
        from mockjobs import create_app
        from mockjobs.config import DEFAULTS

        # Every key is given, so MOCKJOBS_* variables of the developer's shell never apply.
        cfg: dict[str, Any] = dict(DEFAULTS, RELOAD_INTERVAL=0)  # the per-test reset rescans
        cfg.update((str(k).upper(), v) for k, v in config.items())
        cfg.update(SCENARIOS=[str(f) for f in folders], BUNDLED=True, STATE=str(state_dir / "state.db"))
        self.folders = tuple(folders)
        self.app: Flask = create_app(cfg)
        self.service: MockService = self.app.extensions["mockjobs"]
        self.context: str = self.app.config["CONTEXT"]
        self.default_speed = self.service.speed
        self.errors: list[BaseException] = self.app.extensions.setdefault("mockjobs.errors", [])
        self.strict = False  # fail the test on unscripted errors (the plugin reads it)

    def load_errors(self) -> list[str]:
        """Problems in the scenario folders (bad files, missing folders), one line each."""
        return [str(e) for e in self.service.registry.catalog.errors]

    def reset(self) -> None:
        """Static jobs only, real clock, empty journal, no API faults, default speed, no pending errors."""
        self.service.reset()
        self.service.speed = self.default_speed
        self.strict = False
        del self.errors[:]

    def take_errors(self) -> list[BaseException]:
        """The server-side exceptions raised since the last call, forgotten here."""
        taken = list(self.errors)
        del self.errors[: len(taken)]  # keep any that arrived meanwhile
        return taken


class MockjobsServer:
    """A live mock Mission Server: a werkzeug server in a daemon thread on a free port.

    The port is bound once (port 0) and read back, so there is no race with other processes.
    Every set of scenario folders (``folders`` plus those :meth:`activate` adds) gets its own
    app and state file below ``state_root``; the server routes requests to the active one,
    so its URL stays the same for the server's whole life. Use it on its own as well::

        server = MockjobsServer(tmp_path)
        try:
            jobs = MockJobs(server, server.activate())
            ...
        finally:
            server.stop()

    Attributes:
        url: ``http://127.0.0.1:PORT`` (no trailing slash); ``https://`` with ``{"TLS": True}``.
        rest_url: ``url + CTX + "/rest"``, e.g. ``http://127.0.0.1:PORT/arcgis/rest``.
        context: the context path, e.g. ``/arcgis``.
        port: the bound port.
        cert_path: with ``{"TLS": True}`` in the config, the self-signed certificate (PEM) to
            trust, e.g. ``requests.get(url, verify=cert_path)``; None otherwise.
    """

    def __init__(
        self,
        state_root: Path,
        folders: Sequence[Path] = (),
        config: Mapping[str, Any] | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        from werkzeug.serving import WSGIRequestHandler, make_server

        class _QuietHandler(WSGIRequestHandler):
            """No access log: a test suite makes thousands of requests."""

            def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
                """Say nothing."""

        self._root = Path(state_root)
        self._config = {str(k).upper(): v for k, v in (config or {}).items()}
        self.cert_path: str | None = None
        ssl_context: tuple[str, str] | None = None
        if self._config.pop("TLS", False):  # HTTPS with a certificate made now (mockjobs.tls)
            from mockjobs.tls import self_signed

            cert = self_signed(self._root / "tls")
            self.cert_path, ssl_context = str(cert.certfile), (str(cert.certfile), str(cert.keyfile))
        self._folders = tuple(folders)
        self._instances: dict[tuple[Path, ...], AppInstance] = {}
        self._lock = threading.Lock()
        self._active = self._instance(self._folders)
        self.context = self._active.context
        self._server = make_server(
            host, 0, self._dispatch, threaded=True, request_handler=_QuietHandler, ssl_context=ssl_context
        )
        self.port: int = self._server.server_address[1]
        self.url = f"{'https' if ssl_context else 'http'}://{host}:{self.port}"
        self.rest_url = f"{self.url}{self.context}/rest"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, name="mockjobs-server", daemon=True
        )
        self._thread.start()

    def __repr__(self) -> str:
        return f"<MockjobsServer {self.url}>"

    def _dispatch(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """WSGI entry: the active app; an exception escaping it is kept for the test."""
        instance = self._active
        try:
            return instance.app(environ, start_response)
        except Exception as exc:
            instance.errors.append(exc)
            raise

    def _instance(self, folders: Sequence[Path]) -> AppInstance:
        """The app for these scenario folders, built on first use."""
        key = tuple(folders)
        with self._lock:
            found = self._instances.get(key)
            if found is None:
                state_dir = self._root / f"app{len(self._instances)}"
                state_dir.mkdir(parents=True, exist_ok=True)
                found = self._instances[key] = AppInstance(key, self._config, state_dir)
            return found

    def activate(self, extra_folders: Sequence[Path] = ()) -> AppInstance:
        """Serve the app for the configured folders plus extra_folders, freshly reset."""
        folders = list(self._folders)
        folders += [f for f in extra_folders if f not in folders]
        instance = self._instance(folders)
        instance.reset()
        self._active = instance
        return instance

    def stop(self) -> None:
        """Stop serving, wait for the server thread, close this thread's files."""
        self._server.shutdown()
        self._thread.join(timeout=10)
        for instance in self._instances.values():
            instance.service.journal.close()
            close = getattr(instance.service.store, "close", None)
            if close is not None:
                close()
