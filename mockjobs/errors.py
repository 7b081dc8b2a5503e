"""The one root exception of mockjobs and its children."""

from __future__ import annotations


class MockjobsError(Exception):
    """Root of every error mockjobs raises on purpose."""


class ArcgisError(MockjobsError):
    """An error answered in ArcGIS's envelope: {"error": {"code", "message", "details"}}."""

    def __init__(self, code: int, message: str, details: list[str] | None = None) -> None:
        self.code = code
        self.message = message
        self.details = details or []
        self.headers: dict[str, str] = {}  # HTTP headers the answer carries besides the envelope
        super().__init__(message)


class WrongMethod(ArcgisError):
    """ArcGIS's 405 for a path that takes other methods: named in the details and, as RFC 9110 asks, in Allow."""

    def __init__(self, method: str, path: str, allowed: list[str]) -> None:
        usable = [m for m in allowed if m not in ("HEAD", "OPTIONS")]  # what a client would switch to
        details = [f"{method} is not supported for {path}; use {' or '.join(usable)}."]
        super().__init__(405, "Method not allowed.", details)
        self.allowed = allowed
        self.headers["Allow"] = ", ".join(allowed)


class ScenarioError(MockjobsError):
    """One problem in a scenario file, located by file, line and field path."""

    def __init__(self, file: str, line: int, field: str, message: str) -> None:
        self.file = file
        self.line = line
        self.field = field
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:"
        return f"{where} {self.field}: {self.message}" if self.field else f"{where} {self.message}"


class ScenarioErrors(MockjobsError):
    """Every problem found in one scenario file (or several)."""

    def __init__(self, errors: list[ScenarioError]) -> None:
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


class DurationError(MockjobsError, ValueError):
    """A duration that is not a number of seconds nor a form like 1m30s."""


class NotFound(MockjobsError, LookupError):
    """An unknown job or scenario."""


class Conflict(MockjobsError):
    """A duplicate id, or an operation the job's state refuses."""


class Stale(Conflict):
    """A job changed between reading and writing it (another worker moved it); read it again."""


class BadRequest(MockjobsError, ValueError):
    """A request body or parameter that cannot be used."""


class StoreUnavailable(MockjobsError):
    """The shared store (e.g. a Redis server) cannot be reached right now; try again later."""
