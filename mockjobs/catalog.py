"""The scenarios a server knows: loaded from folders, kept fresh while serving.

A broken edit never replaces a good version: the last good one stays in service and the
error is reported. Scenario versions are kept in the store, so every worker can replay a job
bound to a version that its own files no longer hold.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from .errors import ScenarioError, ScenarioErrors
from .scenarios import Scenario, field_path, load_file, load_text, scenario_files
from .store import Store

log = logging.getLogger("mockjobs")


@dataclass(frozen=True)
class Catalog:
    """One consistent view of the scenario files: the good scenarios and every error."""

    scenarios: Mapping[str, Scenario] = field(default_factory=lambda: MappingProxyType({}))
    triggers: Mapping[tuple[str, str], str] = field(default_factory=lambda: MappingProxyType({}))
    errors: tuple[ScenarioError, ...] = ()
    files: int = 0


_Stamp = tuple[int, int, int, int]  # mtime_ns, size, inode, ctime_ns

# A file touched this recently (ns) is compared by content too: two writes within one tick
# of the file system's clock, with the same size, leave the same stamp.
_RECENT_NS = 3_000_000_000


@dataclass
class _FileState:
    stamp: _Stamp
    good: Scenario | None
    errors: tuple[ScenarioError, ...]
    digest: bytes = b""


def _digest(path: Path) -> bytes:
    """A hash of a file's bytes (empty if it cannot be read)."""
    try:
        return hashlib.sha1(path.read_bytes(), usedforsecurity=False).digest()
    except OSError:
        return b""


class Registry:
    """Scenario folders, scanned on demand or by a watcher thread in each process."""

    def __init__(
        self, folders: Iterable[str | os.PathLike[str]], store: Store | None, labels: Mapping[str, str] | None = None
    ) -> None:
        self.folders = [Path(f) for f in folders]
        self.store = store
        self.labels = dict(labels or {})
        self._files: dict[Path, _FileState] = {}
        self._versions: dict[str, Scenario] = {}
        self._stored: set[str] = set()  # versions this process has put in the store
        self._lock = threading.Lock()
        self._watcher: threading.Thread | None = None
        self._watcher_pid = 0
        self._scanned = False
        self._missing: list[ScenarioError] = []
        self.catalog = Catalog()
        self.scan()

    # ------------------------------------------------------------------ loading

    def _label(self, path: Path) -> str:
        """How errors name a file: relative to its folder's label."""
        for folder in self.folders:
            try:
                rel = path.relative_to(folder)
            except ValueError:
                continue
            prefix = self.labels.get(str(folder), str(folder))
            return str(Path(prefix) / rel) if folder.is_dir() else prefix
        return str(path)

    def scan(self) -> bool:
        """Reload changed, new and deleted files; True when anything changed."""
        with self._lock:
            seen: dict[Path, _Stamp] = {}
            missing: list[ScenarioError] = []
            for folder in self.folders:
                if not folder.exists():
                    missing.append(ScenarioError(str(folder), 0, "", "no such file or folder"))
                    continue
                for path in scenario_files(folder):
                    try:
                        st = path.stat()
                    except OSError:
                        continue
                    seen[path] = (st.st_mtime_ns, st.st_size, st.st_ino, st.st_ctime_ns)
            now_ns = time.time_ns()
            changed: dict[Path, bytes] = {}
            for path, stamp in seen.items():
                old = self._files.get(path)
                if old is None or old.stamp != stamp:
                    changed[path] = _digest(path)
                elif now_ns - max(stamp[0], stamp[3]) < _RECENT_NS:
                    digest = _digest(path)
                    if digest != old.digest:
                        changed[path] = digest
            gone = [p for p in self._files if p not in seen]
            if self._scanned and not changed and not gone and list(map(str, missing)) == list(map(str, self._missing)):
                return False
            initial = not self._scanned
            self._scanned, self._missing = True, missing
            for path in gone:
                state = self._files.pop(path)
                log.info("scenario file %s removed%s", self._label(path), f" ({state.good.name})" if state.good else "")
            for path, digest in changed.items():
                old = self._files.get(path)
                label = self._label(path)
                try:
                    scenario = load_file(path, label)
                except Exception as exc:  # a file, however broken, never stops the scan
                    if isinstance(exc, ScenarioErrors):
                        errors = tuple(exc.errors)
                    else:
                        log.exception("unexpected failure loading %s", label)
                        errors = (ScenarioError(label, 1, "", f"cannot load: {type(exc).__name__}: {exc}"),)
                    good = old.good if old else None
                    self._files[path] = _FileState(seen[path], good, errors, digest)
                    for err in errors:
                        log.warning("scenario error: %s%s", err, " (keeping the last good version)" if good else "")
                else:
                    self._files[path] = _FileState(seen[path], scenario, (), digest)
                    self._versions[scenario.version] = scenario
                    if not initial:
                        log.info("%s scenario %s from %s", "reloaded" if old else "added", scenario.name, label)
            self.catalog = self._build(missing)
            return True

    def _order(self, path: Path) -> tuple[int, Path]:
        """Where path comes: its folder's place in the list, then the path."""
        for i, folder in enumerate(self.folders):
            if path == folder or folder in path.parents:
                return i, path
        return len(self.folders), path

    def _build(self, errors: list[ScenarioError]) -> Catalog:
        """Cross-file rules: unique names, unique static job ids, unique triggers."""
        errors = list(errors)
        scenarios: dict[str, Scenario] = {}
        paths: dict[str, Path] = {}
        triggers: dict[tuple[str, str], str] = {}
        job_ids: dict[str, str] = {}
        for path in sorted(self._files, key=self._order):  # folder order: a clash is reported on the later folder
            state = self._files[path]
            errors.extend(state.errors)
            sc = state.good
            if sc is None:
                continue
            label = sc.source.file
            clash = None
            if sc.name in scenarios:
                other_file = scenarios[sc.name].source.file
                bundled = str(self.folders[min(self._order(paths[sc.name])[0], len(self.folders) - 1)]) in self.labels
                clash = ScenarioError(
                    label,
                    sc.lines.get(("name",), 1),
                    "name",
                    f"{sc.name!r} is the name of a bundled scenario ({other_file}); give yours another name"
                    if bundled
                    else f"duplicate scenario name {sc.name!r} (also in {other_file})",
                )
            elif sc.trigger and (sc.trigger.method, sc.trigger.path) in triggers:
                other = triggers[(sc.trigger.method, sc.trigger.path)]
                clash = ScenarioError(
                    label,
                    sc.lines.get(("trigger", "path"), 1),
                    "trigger.path",
                    f"{sc.trigger.method} {sc.trigger.path} is already the trigger of scenario {other!r}",
                )
            else:
                for i, sj in enumerate(sc.jobs):
                    if sj.job_id in job_ids:
                        clash = ScenarioError(
                            label,
                            sc.lines.get(("jobs", i, "jobId"), 1),
                            field_path(("jobs", i, "jobId")),
                            f"duplicate job id {sj.job_id} (also in scenario {job_ids[sj.job_id]!r})",
                        )
                        break
            if clash:
                errors.append(clash)
                log.warning("scenario error: %s", clash)
                continue
            scenarios[sc.name] = sc
            paths[sc.name] = path
            if sc.trigger:
                triggers[(sc.trigger.method, sc.trigger.path)] = sc.name
            for sj in sc.jobs:
                job_ids[sj.job_id] = sc.name
        return Catalog(MappingProxyType(scenarios), MappingProxyType(triggers), tuple(errors), len(self._files))

    # ------------------------------------------------------------------ lookups

    def get(self, name: str) -> Scenario | None:
        """The current version of a scenario: from the files, else added through the API."""
        found = self.catalog.scenarios.get(name)
        if found is not None:
            return found
        for added, version in self._added():
            if added == name:
                return self.version(version)
        return None

    def _added(self) -> list[tuple[str, str]]:
        """Scenarios added through the API, if there is a store."""
        return self.store.added_scenarios() if self.store is not None else []

    def all(self) -> list[Scenario]:
        """Every current scenario: files first, then those added through the API."""
        out = list(self.catalog.scenarios.values())
        names = set(self.catalog.scenarios)
        for name, version in self._added():
            if name not in names:
                sc = self.version(version)
                if sc is not None:
                    out.append(sc)
        return out

    def trigger(self, method: str, path: str) -> Scenario | None:
        """The scenario whose trigger is method path (path relative to the context)."""
        key = (method, path.rstrip("/") or "/")
        name = self.catalog.triggers.get(key)
        if name is not None:
            return self.catalog.scenarios.get(name)
        for sc in self.all():
            if sc.trigger and (sc.trigger.method, sc.trigger.path) == key:
                return sc
        return None

    def version(self, version: str) -> Scenario | None:
        """A scenario by version hash, from this worker's cache or the store."""
        sc = self._versions.get(version)
        if sc is None:
            kept = self.store.get_source(version) if self.store is not None else None
            if kept is None:
                return None
            name, file, text = kept
            sc = load_text(text, file, name)
            self._versions[version] = sc
        return sc

    def remember(self, scenario: Scenario) -> None:
        """Keep scenario's text in the store so every worker can replay its jobs (once per process)."""
        self._versions[scenario.version] = scenario
        if scenario.version in self._stored:  # a version is its text's hash: stored once is for good
            return
        assert self.store is not None
        self.store.put_source(scenario.version, scenario.name, scenario.source.file, scenario.source.text)
        self._stored.add(scenario.version)

    def add(self, scenario: Scenario) -> None:
        """Serve a scenario added while serving (API or fixture), in every worker."""
        self.remember(scenario)
        assert self.store is not None
        self.store.add_scenario(scenario.name, scenario.version)

    # ------------------------------------------------------------------ watching

    def watch(self, interval: float, on_change: Callable[[], None] | None = None) -> None:
        """Rescan every interval seconds in a daemon thread of this process (once per process).

        The first call in a process (e.g. a freshly forked worker) also rescans at once, so a
        worker never answers from the catalog its parent loaded long ago.
        """
        if interval <= 0 or (self._watcher is not None and self._watcher_pid == os.getpid()):
            return
        with self._lock:
            if self._watcher is not None and self._watcher_pid == os.getpid():
                return
            self._watcher_pid = os.getpid()
            self._watcher = threading.Thread(target=self._watch, args=(interval, on_change), name="mockjobs-reload")
            self._watcher.daemon = True
        self._rescan(on_change)
        self._watcher.start()

    def _watch(self, interval: float, on_change: Callable[[], None] | None) -> None:
        """The watcher thread's loop: it runs as long as the process."""
        while True:
            time.sleep(interval)
            self._rescan(on_change)

    def _rescan(self, on_change: Callable[[], None] | None) -> None:
        """One scan; on_change after a change; a surprise is logged, never raised."""
        try:
            if self.scan() and on_change:
                on_change()
        except Exception:  # a watcher must outlive any surprise
            log.exception("scenario rescan failed")
