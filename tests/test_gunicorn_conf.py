"""mockjobs.gunicorn_conf as gunicorn reads it: its settings, and the root gunicorn.conf.py that imports them.

The hooks themselves are tested through real gunicorn in tests/test_workers.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from gunicorn.config import Config

from mockjobs import cli, gunicorn_conf
from tests.servers import REPO


def module_settings(names: dict[str, object]) -> dict[str, object]:
    """The names of a config module that gunicorn takes as settings (it ignores the others)."""
    known = Config().settings
    return {name: value for name, value in names.items() if name in known}


def test_the_settings_are_exactly_the_exported_names() -> None:
    taken = module_settings(vars(gunicorn_conf))
    assert sorted(taken) == sorted(gunicorn_conf.__all__)  # no helper name is read as a setting by accident
    cfg = Config()
    for name, value in taken.items():
        cfg.set(name, value)  # gunicorn's own validation: the hooks take the server, the values their types
    assert cfg.worker_class_str == "gthread" and cfg.threads == 4
    assert cfg.settings["on_starting"].get() is gunicorn_conf.on_starting
    assert cfg.settings["on_exit"].get() is gunicorn_conf.on_exit


def test_the_root_gunicorn_conf_py_is_the_same_settings() -> None:
    names: dict[str, object] = {}
    exec(compile((REPO / "gunicorn.conf.py").read_text(), "gunicorn.conf.py", "exec"), names)
    assert module_settings(names) == module_settings(vars(gunicorn_conf))


@pytest.mark.parametrize(("threads", "worker_class"), [("4", "gthread"), ("1", "sync")])
def test_mockjobs_serve_loads_the_same_settings_and_its_options_win(
    tmp_path: Path, threads: str, worker_class: str
) -> None:
    args = cli._parser().parse_args(["serve", "--threads", threads, "--workers", "3"])
    server = cli._GunicornServer({"STATE": str(tmp_path / "s.db"), "RELOAD_INTERVAL": 0}, args)
    assert server.cfg.settings["on_starting"].get() is gunicorn_conf.on_starting
    assert server.cfg.settings["on_exit"].get() is gunicorn_conf.on_exit
    assert server.cfg.worker_class_str == worker_class and server.cfg.threads == int(threads)
    assert server.cfg.workers == 3 and server.cfg.preload_app is True
